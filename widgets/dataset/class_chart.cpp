#include "widgets/dataset/class_chart.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include "stores/dataset_check.h"

namespace studio {
namespace {

const QColor kSplitColors[] = {QColor(0x3b, 0x7d, 0xd8), QColor(0xe0, 0x8a, 0x2c),
                               QColor(0x4c, 0xa8, 0x5a)};

}  // namespace

ClassChart::ClassChart(const DatasetCheck* check, QWidget* parent)
    : QWidget(parent), check_(check), plot_(new QCustomPlot(this)) {
  plot_->setObjectName(QStringLiteral("classChart"));
  plot_->setMinimumHeight(180);
  plot_->legend->setVisible(true);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  connect(check_, &DatasetCheck::reportChanged, this, &ClassChart::rebuild);
  rebuild();
}

void ClassChart::setCount(Count count) {
  count_ = count;
  rebuild();
}

void ClassChart::rebuild() {
  plot_->clearPlottables();
  const bool have = check_->hasReport() && !check_->report().names.isEmpty();
  plot_->setVisible(have);
  if (!have) return;
  const DatasetReport& report = check_->report();
  const int classes = static_cast<int>(report.names.size());
  const int splits = static_cast<int>(report.splits.size());
  const double groupWidth = 0.8;
  const double barWidth = groupWidth / std::max(1, splits);

  auto* bars = new QCPBarsGroup(plot_);
  double highest = 1;
  for (int s = 0; s < splits; ++s) {
    const DatasetSplit& split = report.splits[s];
    const QVector<qint64>& counts =
        count_ == Count::Instances ? split.classInstances : split.classImages;
    auto* series = new QCPBars(plot_->xAxis, plot_->yAxis);
    series->setName(split.split);
    series->setWidth(barWidth);
    series->setBarsGroup(bars);
    const QColor color = kSplitColors[s % std::size(kSplitColors)];
    series->setBrush(color);
    series->setPen(QPen(color.darker(130)));
    QVector<double> x, y;
    for (int c = 0; c < classes; ++c) {
      x << c;
      y << static_cast<double>(counts.value(c));
      highest = std::max(highest, y.back());
    }
    series->setData(x, y, true);
  }
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  for (int c = 0; c < classes; ++c)
    ticker->addTick(c, report.names[c]);
  plot_->xAxis->setTicker(ticker);
  plot_->xAxis->setTickLabelRotation(classes > 8 ? 60 : 0);
  plot_->xAxis->setSubTicks(false);
  plot_->xAxis->setTickLength(0, 4);
  plot_->xAxis->setRange(-0.6, classes - 0.4);
  plot_->yAxis->setRange(0, highest * 1.15);
  plot_->yAxis->setLabel(count_ == Count::Instances ? tr("instances") : tr("images"));
  plot_->replot();
}

}  // namespace studio
