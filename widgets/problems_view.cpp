#include "widgets/problems_view.h"

#include <QHeaderView>

#include "widgets/diagnostics_model.h"

namespace studio {

ProblemsView::ProblemsView(ConfigDocument* document, QWidget* parent)
    : QTreeView(parent), model_(new DiagnosticsModel(document, this)) {
  setObjectName(QStringLiteral("problemsView"));
  setModel(model_);
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
