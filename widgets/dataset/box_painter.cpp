#include "widgets/dataset/box_painter.h"

#include <QFontMetrics>
#include <QPainter>

#include "stores/dataset_report.h"

namespace studio {

QColor classColor(int cls) {
  // Golden-angle hue steps keep neighbouring class ids apart however many classes there are.
  const int hue = static_cast<int>((cls * 137.508)) % 360;
  return QColor::fromHsv(hue < 0 ? hue + 360 : hue, 210, 235);
}

void paintBoxes(QPainter& painter, const QRectF& target, const QVector<DatasetBox>& boxes,
                const QStringList& names, bool withNames) {
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing, false);
  const QFontMetrics metrics(painter.font());
  for (const DatasetBox& box : boxes) {
    const QRectF rect(target.left() + (box.cx - box.w / 2) * target.width(),
                      target.top() + (box.cy - box.h / 2) * target.height(), box.w * target.width(),
                      box.h * target.height());
    const QColor color = classColor(box.cls);
    painter.setPen(QPen(color, 2));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(rect);
    if (!withNames) continue;
    const QString name = names.value(box.cls, QString::number(box.cls));
    const QString text =
        metrics.elidedText(name, Qt::ElideRight, static_cast<int>(std::max(rect.width(), 24.0)));
    const QRectF tag(rect.left() - 1, std::max(target.top(), rect.top() - metrics.height()),
                     metrics.horizontalAdvance(text) + 6, metrics.height());
    painter.fillRect(tag, color);
    painter.setPen(Qt::black);
    painter.drawText(tag, Qt::AlignCenter, text);
  }
  painter.restore();
}

}  // namespace studio
