#include "widgets/runs/runs_view.h"

#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>

#include "stores/run_history.h"

namespace studio {
namespace {

// Whether a run has inference weights to fine-tune from.
bool hasBest(const QString& runDirectory) {
  return !runDirectory.isEmpty() &&
         QFileInfo::exists(QDir(runDirectory).filePath(QStringLiteral("weights/best.pt")));
}

}  // namespace

RunsView::RunsView(RunHistory* history, QWidget* parent)
    : QWidget(parent), history_(history), sorted_(new QSortFilterProxyModel(this)) {
  setObjectName(QStringLiteral("runsView"));
  sorted_->setSourceModel(history_);
  sorted_->setSortRole(RunHistory::SortRole);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 8, 8, 8);
  auto* header = new QHBoxLayout;
  folder_ = new QLabel(this);
  folder_->setObjectName(QStringLiteral("runsFolder"));
  folder_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* change = new QPushButton(tr("Change Folder..."), this);
  change->setToolTip(tr("List the runs of another project folder"));
  auto* refresh = new QPushButton(tr("Refresh"), this);
  refresh->setShortcut(QKeySequence::Refresh);
  refresh->setToolTip(tr("Read the folder again (F5)"));
  header->addWidget(folder_, 1);
  header->addWidget(change);
  header->addWidget(refresh);
  layout->addLayout(header);

  table_ = new QTableView(this);
  table_->setObjectName(QStringLiteral("runsTable"));
  table_->setModel(sorted_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(RunHistory::StartedColumn, Qt::DescendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(RunHistory::NameColumn, QHeaderView::Stretch);
  layout->addWidget(table_, 1);
  empty_ = new QLabel(this);
  empty_->setObjectName(QStringLiteral("runsEmpty"));
  empty_->setAlignment(Qt::AlignCenter);
  empty_->setWordWrap(true);
  layout->addWidget(empty_);

  auto* buttons = new QHBoxLayout;
  open_ = new QPushButton(tr("Open"), this);
  open_->setToolTip(tr("Show this run's curves in the Train mode (Enter)"));
  resume_ = new QPushButton(tr("Resume"), this);
  resume_->setToolTip(tr("Continue this run from its weights/last.pt"));
  fineTune_ = new QPushButton(tr("Fine-tune"), this);
  fineTune_->setObjectName(QStringLiteral("fineTuneButton"));
  fineTune_->setToolTip(
      tr("Start a new run from this run's weights/best.pt, fine-tuned with the configuration "
         "being edited (its dataset, epochs and settings)"));
  reveal_ = new QPushButton(tr("Show in Folder"), this);
  reveal_->setToolTip(tr("Open the run directory in the file manager"));
  buttons->addWidget(open_);
  buttons->addWidget(resume_);
  buttons->addWidget(fineTune_);
  buttons->addWidget(reveal_);
  compare_ = new QPushButton(tr("Compare"), this);
  compare_->setObjectName(QStringLiteral("compareRunsButton"));
  compare_->setToolTip(
      tr("Overlay the selected runs' losses, validation and BatchNorm figures "
         "(select two or more with Ctrl+click or Shift+click)"));
  buttons->addWidget(compare_);
  buttons->addStretch(1);
  layout->addLayout(buttons);

  connect(change, &QPushButton::clicked, this, &RunsView::chooseFolder);
  connect(refresh, &QPushButton::clicked, history_, &RunHistory::refresh);
  connect(table_, &QTableView::activated, this, [this] {
    if (const QString dir = selectedDirectory(); !dir.isEmpty()) emit openRequested(dir);
  });
  connect(open_, &QPushButton::clicked, this, [this] {
    if (const QString dir = selectedDirectory(); !dir.isEmpty()) emit openRequested(dir);
  });
  connect(resume_, &QPushButton::clicked, this, [this] {
    if (const QString dir = selectedDirectory(); !dir.isEmpty()) emit resumeRequested(dir);
  });
  connect(fineTune_, &QPushButton::clicked, this, [this] {
    if (const QString dir = selectedDirectory(); !dir.isEmpty()) emit fineTuneRequested(dir);
  });
  connect(compare_, &QPushButton::clicked, this, [this] {
    if (const QStringList dirs = selectedDirectories(); dirs.size() >= 2)
      emit compareRequested(dirs);
  });
  connect(reveal_, &QPushButton::clicked, this, [this] {
    if (const QString dir = selectedDirectory(); !dir.isEmpty())
      QDesktopServices::openUrl(QUrl::fromLocalFile(dir));
  });
  // The row's own actions, also on a right click: open, resume, export, predict, show.
  table_->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(table_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
    const QString dir = selectedDirectory();
    if (dir.isEmpty()) return;
    const bool hasWeights =
        QFileInfo::exists(QDir(dir).filePath(QStringLiteral("weights/best.pt"))) ||
        QFileInfo::exists(QDir(dir).filePath(QStringLiteral("weights/last.pt")));
    QMenu menu(this);
    menu.setObjectName(QStringLiteral("runsContextMenu"));
    menu.addAction(tr("Open"), this, [this, dir] { emit openRequested(dir); });
    menu.addAction(tr("Resume"), this, [this, dir] { emit resumeRequested(dir); })
        ->setEnabled(selectedIsResumable());
    menu.addSeparator();
    menu.addAction(tr("Export Weights..."), this, [this, dir] { emit exportRequested(dir); })
        ->setEnabled(hasWeights);
    menu.addAction(tr("Predict Preview..."), this, [this, dir] { emit predictRequested(dir); })
        ->setEnabled(hasWeights);
    menu.addAction(tr("Fine-tune from This..."), this, [this, dir] { emit fineTuneRequested(dir); })
        ->setEnabled(hasBest(dir));
    menu.addSeparator();
    menu.addAction(tr("Show in Folder"), this,
                   [dir] { QDesktopServices::openUrl(QUrl::fromLocalFile(dir)); });
    menu.exec(table_->viewport()->mapToGlobal(at));
  });
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    updateButtons();
    emit selectionChanged();
  });
  connect(history_, &QAbstractItemModel::modelReset, this, [this] {
    updateHeader();
    updateButtons();
  });
  updateHeader();
  updateButtons();
}

namespace {

// The row Open, Resume and Show in Folder act on: the current one when it is selected (the last
// one clicked), else the first selected.
QModelIndex actedOn(const QTableView* table) {
  const QItemSelectionModel* selection = table->selectionModel();
  const QModelIndex current = selection->currentIndex();
  if (current.isValid() && selection->isRowSelected(current.row(), current.parent()))
    return current.siblingAtColumn(0);
  const QModelIndexList rows = selection->selectedRows();
  return rows.isEmpty() ? QModelIndex() : rows.first();
}

}  // namespace

QString RunsView::selectedDirectory() const {
  const QModelIndex row = actedOn(table_);
  return row.isValid() ? row.data(RunHistory::DirectoryRole).toString() : QString();
}

QStringList RunsView::selectedDirectories() const {
  QModelIndexList rows = table_->selectionModel()->selectedRows();
  std::sort(rows.begin(), rows.end(),
            [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
  QStringList out;
  for (const QModelIndex& row : rows)
    out << row.data(RunHistory::DirectoryRole).toString();
  return out;
}

bool RunsView::selectedIsResumable() const {
  const QModelIndex row = actedOn(table_);
  return row.isValid() && row.data(RunHistory::ResumableRole).toBool();
}

bool RunsView::selectIfListed(const QString& directory) {
  const int row = history_->rowOf(directory);
  if (row < 0) return false;
  table_->selectRow(sorted_->mapFromSource(history_->index(row, 0)).row());
  return true;
}

void RunsView::chooseFolder() {
  const QString dir =
      QFileDialog::getExistingDirectory(this, tr("Project Folder"), history_->projectDirectory());
  if (!dir.isEmpty()) history_->setProjectDirectory(dir);
}

void RunsView::updateHeader() {
  const QString dir = history_->projectDirectory();
  folder_->setText(tr("Runs in %1").arg(QDir::toNativeSeparators(dir)));
  const bool none = history_->rowCount() == 0;
  empty_->setVisible(none);
  empty_->setText(QDir(dir).exists()
                      ? tr("No runs here yet. Start one from the Run menu (Ctrl+R), or change "
                           "the folder.")
                      : tr("%1 does not exist yet: it is made by the first run with this "
                           "project folder.")
                            .arg(QDir::toNativeSeparators(dir)));
}

void RunsView::updateButtons() {
  const bool selected = !selectedDirectory().isEmpty();
  open_->setEnabled(selected);
  reveal_->setEnabled(selected);
  resume_->setEnabled(selectedIsResumable());
  fineTune_->setEnabled(hasBest(selectedDirectory()));
  compare_->setEnabled(selectedDirectories().size() >= 2);
}

}  // namespace studio
