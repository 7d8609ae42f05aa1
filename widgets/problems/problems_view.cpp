#include "widgets/problems/problems_view.h"

#include <QApplication>
#include <QHeaderView>
#include <QStyledItemDelegate>

#include "stores/diagnostics_model.h"
#include "widgets/common/severity_style.h"

namespace studio {
namespace {

// The severity's icon in its column and its colour on the message.
class SeverityDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

 protected:
  void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override {
    QStyledItemDelegate::initStyleOption(option, index);
    const auto severity =
        static_cast<syncbn::Severity>(index.data(DiagnosticsModel::SeverityRole).toInt());
    if (index.column() == DiagnosticsModel::SeverityColumn) {
      option->icon =
          severityIcon(severity, option->widget ? option->widget->style() : QApplication::style());
      option->features |= QStyleOptionViewItem::HasDecoration;
      option->decorationSize = QSize(16, 16);
    } else if (index.column() == DiagnosticsModel::MessageColumn) {
      option->palette.setColor(QPalette::Text, severityColor(severity));
    }
  }
};

}  // namespace

ProblemsView::ProblemsView(ConfigDocument* document, QWidget* parent)
    : QTreeView(parent), model_(new DiagnosticsModel(document, this)) {
  setObjectName(QStringLiteral("problemsView"));
  setModel(model_);
  setItemDelegate(new SeverityDelegate(this));
  setRootIsDecorated(false);
  setItemsExpandable(false);
  setAlternatingRowColors(true);
  setSelectionBehavior(QAbstractItemView::SelectRows);
  setEditTriggers(QAbstractItemView::NoEditTriggers);
  // One line per problem keeps the list scannable; the tooltip holds the whole message.
  setTextElideMode(Qt::ElideRight);

  QHeaderView* columns = header();
  columns->setStretchLastSection(false);
  columns->setSectionResizeMode(DiagnosticsModel::SeverityColumn, QHeaderView::ResizeToContents);
  columns->setSectionResizeMode(DiagnosticsModel::FieldColumn, QHeaderView::ResizeToContents);
  columns->setSectionResizeMode(DiagnosticsModel::MessageColumn, QHeaderView::Stretch);
  columns->setSectionResizeMode(DiagnosticsModel::LocationColumn, QHeaderView::ResizeToContents);

  connect(this, &QTreeView::activated, this, &ProblemsView::onActivated);
}

void ProblemsView::activateRow(int row) {
  const QModelIndex index = model_->index(row, DiagnosticsModel::FieldColumn);
  setCurrentIndex(index);
  onActivated(index);
}

void ProblemsView::onActivated(const QModelIndex& index) {
  const QString path = index.siblingAtColumn(0).data(DiagnosticsModel::FieldPathRole).toString();
  if (!path.isEmpty()) emit fieldActivated(path);
}

}  // namespace studio
