#include "widgets/monitor/log_view.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>
#include <set>

#include "stores/log_model.h"
#include "widgets/common/severity_style.h"

namespace studio {
namespace {

// Warnings and errors in the colours the Problems view uses.
class LevelDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

 protected:
  void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override {
    QStyledItemDelegate::initStyleOption(option, index);
    const auto level = static_cast<LogLevel>(index.data(LogModel::LevelRole).toInt());
    if (level == LogLevel::Error)
      option->palette.setColor(QPalette::Text, severityColor(syncbn::Severity::Error));
    else if (level == LogLevel::Warning)
      option->palette.setColor(QPalette::Text, severityColor(syncbn::Severity::Warning));
  }
};

}  // namespace

LogFilter::LogFilter(QObject* parent) : QSortFilterProxyModel(parent) {}

void LogFilter::setSource(int source) {
  source_ = source;
  invalidateFilter();
}

void LogFilter::setMinimumLevel(int level) {
  minimumLevel_ = level;
  invalidateFilter();
}

void LogFilter::setText(const QString& text) {
  text_ = text;
  invalidateFilter();
}

bool LogFilter::filterAcceptsRow(int row, const QModelIndex& parent) const {
  const QModelIndex index = sourceModel()->index(row, LogModel::MessageColumn, parent);
  if (source_ != kAllSources && index.data(LogModel::SourceRole).toInt() != source_) return false;
  if (index.data(LogModel::LevelRole).toInt() < minimumLevel_) return false;
  return text_.isEmpty() || index.data().toString().contains(text_, Qt::CaseInsensitive);
}

LogView::LogView(QWidget* parent) : QWidget(parent), filter_(new LogFilter(this)) {
  setObjectName(QStringLiteral("logView"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* bar = new QHBoxLayout;
  source_ = new QComboBox(this);
  source_->setObjectName(QStringLiteral("logSource"));
  source_->setToolTip(tr("Show the lines of one rank, the launcher or the studio"));
  source_->addItem(tr("All sources"), LogFilter::kAllSources);
  level_ = new QComboBox(this);
  level_->setObjectName(QStringLiteral("logLevel"));
  level_->setToolTip(tr("Show only lines at or above this level"));
  level_->addItem(tr("All levels"), static_cast<int>(LogLevel::Debug));
  level_->addItem(tr("Warnings and errors"), static_cast<int>(LogLevel::Warning));
  level_->addItem(tr("Errors"), static_cast<int>(LogLevel::Error));
  search_ = new QLineEdit(this);
  search_->setObjectName(QStringLiteral("logSearch"));
  search_->setPlaceholderText(tr("Search the log (Ctrl+F)"));
  search_->setClearButtonEnabled(true);
  auto* copy = new QPushButton(tr("Copy All"), this);
  copy->setToolTip(tr("Copy every line shown to the clipboard"));
  bar->addWidget(source_);
  bar->addWidget(level_);
  bar->addWidget(search_, 1);
  bar->addWidget(copy);
  layout->addLayout(bar);

  table_ = new QTableView(this);
  table_->setObjectName(QStringLiteral("logTable"));
  table_->setModel(filter_);
  table_->setItemDelegate(new LevelDelegate(table_));
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setShowGrid(false);
  table_->setWordWrap(false);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 4);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  layout->addWidget(table_, 1);

  auto* copyAction = new QAction(tr("Copy"), table_);
  copyAction->setShortcut(QKeySequence::Copy);
  copyAction->setShortcutContext(Qt::WidgetShortcut);
  connect(copyAction, &QAction::triggered, this, &LogView::copySelection);
  table_->addAction(copyAction);
  auto* copyAllAction = new QAction(tr("Copy All"), table_);
  connect(copyAllAction, &QAction::triggered, this, &LogView::copyAll);
  table_->addAction(copyAllAction);
  table_->setContextMenuPolicy(Qt::ActionsContextMenu);
  auto* find = new QAction(this);
  find->setShortcut(QKeySequence::Find);
  find->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(find, &QAction::triggered, search_, [this] {
    search_->setFocus();
    search_->selectAll();
  });
  addAction(find);

  connect(copy, &QPushButton::clicked, this, &LogView::copyAll);
  connect(source_, &QComboBox::currentIndexChanged, this,
          [this] { filter_->setSource(source_->currentData().toInt()); });
  connect(level_, &QComboBox::currentIndexChanged, this,
          [this] { filter_->setMinimumLevel(level_->currentData().toInt()); });
  connect(search_, &QLineEdit::textChanged, filter_, &LogFilter::setText);
  connect(table_->verticalScrollBar(), &QScrollBar::valueChanged, this,
          [this](int value) { following_ = value >= table_->verticalScrollBar()->maximum() - 1; });
  connect(filter_, &QAbstractItemModel::rowsInserted, this, &LogView::scrollIfFollowing);
}

void LogView::setModel(LogModel* model) {
  if (model_) model_->disconnect(this);
  model_ = model;
  filter_->setSourceModel(model);
  if (model) {
    table_->horizontalHeader()->setSectionResizeMode(LogModel::TimeColumn,
                                                     QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setSectionResizeMode(LogModel::SourceColumn,
                                                     QHeaderView::ResizeToContents);
    connect(model, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex&, int first, int last) { addSources(first, last); });
  }
  while (source_->count() > 1)
    source_->removeItem(1);
  if (model) addSources(0, model->rowCount() - 1);
  following_ = true;
  scrollIfFollowing();
}

void LogView::addSources(int first, int last) {
  std::set<int> sources;
  for (int row = first; model_ && row <= last; ++row)
    sources.insert(model_->line(row).source);
  for (const int source : sources)
    if (source_->findData(source) < 0) source_->addItem(logSourceName(source), source);
}

void LogView::scrollIfFollowing() {
  if (following_) table_->scrollToBottom();
}

QString LogView::shownText(bool selectedOnly) const {
  QStringList lines;
  if (!model_) return {};
  for (int row = 0; row < filter_->rowCount(); ++row) {
    const QModelIndex index = filter_->index(row, 0);
    if (selectedOnly && !table_->selectionModel()->isRowSelected(row, {})) continue;
    lines << LogModel::formatForCopy(model_->line(filter_->mapToSource(index).row()));
  }
  return lines.join(QLatin1Char('\n'));
}

void LogView::copySelection() {
  QApplication::clipboard()->setText(shownText(true));
}

void LogView::copyAll() {
  QApplication::clipboard()->setText(shownText(false));
}

}  // namespace studio
