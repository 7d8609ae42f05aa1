#include "widgets/dataset/dataset_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QShortcut>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "common/config_schema.h"
#include "stores/config_document.h"
#include "stores/dataset_check.h"
#include "stores/dataset_models.h"
#include "stores/qt_text.h"
#include "widgets/dataset/class_chart.h"
#include "widgets/dataset/image_grid.h"
#include "widgets/dataset/image_preview.h"
#include "widgets/dataset/new_dataset_dialog.h"
#include "widgets/dataset/thumbnail_cache.h"

namespace studio {
namespace {

constexpr int kAutoVerifyDelayMs = 700;  // the user may still be typing the path

QString dataOf(const ConfigDocument* document) {
  return toQString(document->config().data.data);
}

}  // namespace

DatasetPanel::DatasetPanel(ConfigDocument* document, DatasetCheck* check, EngineFinder engine,
                           QWidget* parent)
    : QWidget(parent),
      document_(document),
      check_(check),
      engine_(std::move(engine)),
      images_(new DatasetImagesModel(check, this)),
      problems_(new DatasetProblemsModel(check, this)),
      classes_(new DatasetClassesModel(check, this)),
      autoVerify_(new QTimer(this)) {
  setObjectName(QStringLiteral("datasetPanel"));
  auto* column = new QVBoxLayout(this);
  column->setContentsMargins(0, 0, 0, 0);

  auto* bar = new QHBoxLayout;
  auto* create = new QPushButton(tr("&New data.yaml..."), this);
  create->setObjectName(QStringLiteral("newDataYamlButton"));
  create->setToolTip(
      tr("Write a data.yaml from folders of train and val images and the class "
         "names, and use it"));
  verifyButton_ = new QPushButton(tr("&Verify"), this);
  verifyButton_->setObjectName(QStringLiteral("verifyButton"));
  verifyButton_->setToolTip(
      tr("Decode every image and parse every label file again (F5); "
         "unchanged files come from the engine's cache"));
  cancelButton_ = new QPushButton(tr("Cancel"), this);
  cancelButton_->setObjectName(QStringLiteral("cancelVerifyButton"));
  cancelButton_->setEnabled(false);
  progress_ = new QProgressBar(this);
  progress_->setObjectName(QStringLiteral("verifyProgress"));
  progress_->setMaximumWidth(220);
  progress_->setVisible(false);
  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("datasetStatus"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  bar->addWidget(create);
  bar->addWidget(verifyButton_);
  bar->addWidget(cancelButton_);
  bar->addWidget(progress_);
  bar->addWidget(status_, 1);
  column->addLayout(bar);

  tabs_ = new QTabWidget(this);
  tabs_->setObjectName(QStringLiteral("datasetTabs"));
  tabs_->addTab(createSummaryTab(), tr("Summary"));
  tabs_->addTab(createProblemsTab(), tr("Problems"));
  tabs_->addTab(createImagesTab(), tr("Images"));
  tabs_->setMinimumHeight(400);
  column->addWidget(tabs_, 1);

  connect(create, &QPushButton::clicked, this, &DatasetPanel::newDataset);
  connect(verifyButton_, &QPushButton::clicked, this, &DatasetPanel::verify);
  connect(cancelButton_, &QPushButton::clicked, check_, &DatasetCheck::cancel);
  auto* refresh = new QShortcut(QKeySequence::Refresh, this);
  refresh->setContext(Qt::WidgetWithChildrenShortcut);
  connect(refresh, &QShortcut::activated, this, &DatasetPanel::verify);

  connect(check_, &DatasetCheck::runningChanged, this, &DatasetPanel::onRunningChanged);
  connect(check_, &DatasetCheck::progress, this,
          [this](const QString& split, qint64 done, qint64 total) {
            progress_->setRange(0, static_cast<int>(std::min<qint64>(total, INT_MAX)));
            progress_->setValue(static_cast<int>(std::min<qint64>(done, INT_MAX)));
            progress_->setFormat(tr("%1: %v/%m").arg(split));
          });
  connect(check_, &DatasetCheck::reportChanged, this, &DatasetPanel::onReport);
  connect(check_, &DatasetCheck::failed, this, &DatasetPanel::onFailed);

  autoVerify_->setSingleShot(true);
  autoVerify_->setInterval(kAutoVerifyDelayMs);
  connect(autoVerify_, &QTimer::timeout, this, [this] {
    // Verification reads every file: done when the user looks at the page, not behind it.
    if (!isVisible()) {
      verifyWhenShown_ = true;
      return;
    }
    const QString data = dataOf(document_);
    if (data == QLatin1String("demo") || QFileInfo(data).isFile()) verify();
  });
  connect(document_, &ConfigDocument::configChanged, this, &DatasetPanel::onDataChanged);
  if (check_->dataFile() == dataOf(document_) && (check_->isRunning() || check_->hasReport())) {
    // Built over a check of this very data (the shell rebuilds its views in a new language):
    // show it as it stands rather than cancel it and start over.
    data_ = check_->dataFile();
    onReport();
    if (check_->isRunning()) onRunningChanged(true);
  } else {
    onDataChanged();
  }
}

QWidget* DatasetPanel::createSummaryTab() {
  auto* tab = new QWidget(this);
  auto* column = new QVBoxLayout(tab);
  splits_ = new QTableWidget(0, 7, tab);
  splits_->setObjectName(QStringLiteral("splitTable"));
  splits_->setHorizontalHeaderLabels({tr("Split"), tr("Images"), tr("Usable"), tr("Backgrounds"),
                                      tr("Instances"), tr("Skipped"), tr("Duplicates removed")});
  splits_->horizontalHeaderItem(1)->setToolTip(tr("Image files in the split's folders or lists"));
  splits_->horizontalHeaderItem(2)->setToolTip(tr("Images training will use"));
  splits_->horizontalHeaderItem(3)->setToolTip(tr("Usable images without a box"));
  splits_->horizontalHeaderItem(5)->setToolTip(
      tr("Images left out: undecodable, too small or with a bad label file (see Problems)"));
  splits_->horizontalHeaderItem(6)->setToolTip(tr("Repeated label rows, dropped"));
  splits_->verticalHeader()->setVisible(false);
  splits_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  splits_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  splits_->setMaximumHeight(120);
  column->addWidget(splits_);

  auto* chooser = new QHBoxLayout;
  auto* instances = new QRadioButton(tr("Instances per class"), tab);
  auto* images = new QRadioButton(tr("Images per class"), tab);
  instances->setChecked(true);
  chooser->addWidget(instances);
  chooser->addWidget(images);
  chooser->addStretch(1);
  column->addLayout(chooser);

  auto* row = new QHBoxLayout;
  classTable_ = new QTableView(tab);
  classTable_->setObjectName(QStringLiteral("classTable"));
  classTable_->setModel(classes_);
  classTable_->verticalHeader()->setVisible(false);
  classTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  // As wide as its columns; the chart takes the rest.
  classTable_->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
  classTable_->setSizePolicy(QSizePolicy::Maximum, QSizePolicy::Ignored);
  chart_ = new ClassChart(check_, tab);
  row->addWidget(classTable_);
  row->addWidget(chart_, 1);
  column->addLayout(row, 1);
  connect(images, &QRadioButton::toggled, this, [this](bool on) {
    chart_->setCount(on ? ClassChart::Count::Images : ClassChart::Count::Instances);
  });
  return tab;
}

QWidget* DatasetPanel::createProblemsTab() {
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  problemTable_ = new QTableView(splitter);
  problemTable_->setObjectName(QStringLiteral("problemTable"));
  problemTable_->setModel(problems_);
  problemTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
  problemTable_->setSelectionMode(QAbstractItemView::SingleSelection);
  problemTable_->verticalHeader()->setVisible(false);
  problemTable_->horizontalHeader()->setStretchLastSection(true);
  problemTable_->setWordWrap(false);
  problemTable_->setTextElideMode(Qt::ElideMiddle);
  problemTable_->setColumnWidth(DatasetProblemsModel::Severity, 64);
  problemTable_->setColumnWidth(DatasetProblemsModel::Split, 44);
  problemTable_->setColumnWidth(DatasetProblemsModel::File, 240);
  problemTable_->setColumnWidth(DatasetProblemsModel::Line, 40);
  problemPreview_ = new ImagePreview(splitter);
  problemPreview_->setObjectName(QStringLiteral("problemPreview"));
  splitter->addWidget(problemTable_);
  splitter->addWidget(problemPreview_);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  splitter->setSizes({680, 340});
  connect(problemTable_, &QAbstractItemView::activated, this,
          [this](const QModelIndex& index) { showProblem(index.row()); });
  return splitter;
}

QWidget* DatasetPanel::createImagesTab() {
  auto* tab = new QWidget(this);
  auto* column = new QVBoxLayout(tab);
  auto* filters = new QHBoxLayout;
  splitFilter_ = new QComboBox(tab);
  splitFilter_->setObjectName(QStringLiteral("splitFilter"));
  splitFilter_->setToolTip(tr("Show the images of one split"));
  classFilter_ = new QComboBox(tab);
  classFilter_->setObjectName(QStringLiteral("classFilter"));
  classFilter_->setToolTip(tr("Show only images with an instance of this class"));
  classFilter_->setMinimumContentsLength(12);
  backgroundsOnly_ = new QCheckBox(tr("&Backgrounds only"), tab);
  backgroundsOnly_->setObjectName(QStringLiteral("backgroundsOnly"));
  problemsOnly_ = new QCheckBox(tr("&Problems only"), tab);
  problemsOnly_->setObjectName(QStringLiteral("problemsOnly"));
  problemsOnly_->setToolTip(tr("Skipped images and images with a warning"));
  shown_ = new QLabel(tab);
  shown_->setObjectName(QStringLiteral("shownCount"));
  filters->addWidget(splitFilter_);
  filters->addWidget(classFilter_);
  filters->addWidget(backgroundsOnly_);
  filters->addWidget(problemsOnly_);
  filters->addStretch(1);
  filters->addWidget(shown_);
  column->addLayout(filters);

  auto* splitter = new QSplitter(Qt::Horizontal, tab);
  grid_ = new ImageGrid(check_, images_, splitter);
  imagePreview_ = new ImagePreview(splitter);
  imagePreview_->setObjectName(QStringLiteral("imagePreview"));
  splitter->addWidget(grid_);
  splitter->addWidget(imagePreview_);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  column->addWidget(splitter, 1);

  for (QComboBox* combo : {splitFilter_, classFilter_})
    connect(combo, &QComboBox::currentIndexChanged, this, &DatasetPanel::applyFilter);
  for (QCheckBox* box : {backgroundsOnly_, problemsOnly_})
    connect(box, &QCheckBox::toggled, this, &DatasetPanel::applyFilter);
  connect(grid_, &ImageGrid::imageActivated, this,
          [this](const QString& imagePath, const QString& labelPath) {
            const int row = images_->rowOfImage(imagePath);
            const DatasetImage* image = images_->imageAt(row);
            imagePreview_->showImage(
                imagePath, labelPath, image ? image->boxes : QVector<DatasetBox>{},
                check_->report().names, 0,
                images_->data(images_->index(row), DatasetImagesModel::ProblemRole).toString());
          });
  return tab;
}

void DatasetPanel::onRunningChanged(bool running) {
  cancelButton_->setEnabled(running);
  verifyButton_->setEnabled(!running);
  progress_->setVisible(running);
  progress_->setRange(0, 0);  // busy until the first progress line
  if (running) setStatus(tr("Verifying %1...").arg(QDir::toNativeSeparators(check_->dataFile())));
}

void DatasetPanel::onDataChanged() {
  const QString data = dataOf(document_);
  if (data == data_) return;
  data_ = data;
  if (check_->isRunning()) check_->cancel();
  grid_->thumbnails()->clear();
  // A report kept from an earlier verification shows at once; a fresh one follows, cheap since
  // the engine re-reads only changed files.
  if (!check_->loadCached(data)) {
    check_->clear();
    setStatus(tr("Not verified yet."));
  }
  autoVerify_->start();
}

void DatasetPanel::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (verifyWhenShown_) {
    verifyWhenShown_ = false;
    autoVerify_->start();
  }
}

void DatasetPanel::verify() {
  autoVerify_->stop();
  verifyWhenShown_ = false;
  QString why;
  const QString engine = engine_(&why);
  if (engine.isEmpty()) {
    setStatus(why, true);
    return;
  }
  QString error;
  if (!check_->verify(engine, dataOf(document_), &error, 0,
                      document_->config().data.max_image_pixels))
    setStatus(error, true);
}

void DatasetPanel::newDataset() {
  const QString data = dataOf(document_);
  const QString start = data != QLatin1String("demo") && QFileInfo(data).exists()
                            ? QFileInfo(data).absolutePath()
                            : QDir::homePath();
  NewDatasetDialog dialog(start, this);
  if (dialog.exec() != QDialog::Accepted) return;
  const syncbn::FieldSpec* field = syncbn::findField("data.data");
  document_->setField(*field, toStdString(dialog.writtenFile()));
  emit dataYamlCreated(dialog.writtenFile());
  verify();
}

void DatasetPanel::showProblem(int row) {
  const DatasetProblem* problem = problems_->problemAt(row);
  if (!problem) return;
  QVector<DatasetBox> boxes;
  const int imageRow = images_->rowOfImage(problem->image);
  if (const DatasetImage* image = images_->imageAt(imageRow)) boxes = image->boxes;
  problemPreview_->showImage(problem->image, problem->label, boxes, check_->report().names,
                             problem->line, problem->reason);
}

void DatasetPanel::onReport() {
  // A new report may follow edits to the images themselves: decode what is shown afresh.
  grid_->thumbnails()->clear();
  updateFilterChoices();
  applyFilter();
  splits_->setRowCount(0);
  if (!check_->hasReport()) {
    tabs_->setTabText(1, tr("Problems"));
    return;
  }
  const DatasetReport& report = check_->report();
  for (const DatasetSplit& split : report.splits) {
    const int row = splits_->rowCount();
    splits_->insertRow(row);
    const QList<QString> cells{split.split,
                               split.verified < split.listed
                                   ? tr("%1 (sample of %2)").arg(split.listed).arg(split.verified)
                                   : QString::number(split.listed),
                               QString::number(split.images),
                               QString::number(split.backgrounds),
                               QString::number(split.instances),
                               QString::number(split.skipped),
                               QString::number(split.duplicatesRemoved)};
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      if (c > 0) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      if (c == 5 && split.skipped > 0) item->setForeground(QColor(0xc0, 0x30, 0x30));
      splits_->setItem(row, c, item);
    }
  }
  // As tall as its rows: the space below belongs to the class table and chart.
  splits_->setMaximumHeight(splits_->horizontalHeader()->height() +
                            splits_->rowCount() * splits_->verticalHeader()->defaultSectionSize() +
                            2 * splits_->frameWidth() + 2);
  const int problemCount = report.problemCount();
  tabs_->setTabText(1, problemCount > 0 ? tr("Problems (%1)").arg(problemCount) : tr("Problems"));
  QString text = tr("%n class(es)", nullptr, static_cast<int>(report.names.size()));
  for (const DatasetSplit& split : report.splits)
    text += tr(", %1 %2 images").arg(split.images).arg(split.split);
  text += problemCount > 0 ? tr(", %n problem(s)", nullptr, problemCount) : tr(", no problems");
  const QString when = QLocale().toString(check_->verifiedAt(), QLocale::ShortFormat);
  text += check_->reportFromCache() ? tr(" (as verified %1)").arg(when)
                                    : tr(" (verified %1)").arg(when);
  if (!report.usable) {
    setStatus(report.error, true);
    return;
  }
  setStatus(text);
}

void DatasetPanel::onFailed(const QString& message, bool cancelled) {
  progress_->setVisible(false);
  setStatus(check_->hasReport() ? tr("%1 The report shown is the last one.").arg(message) : message,
            !cancelled);
}

void DatasetPanel::updateFilterChoices() {
  const QString split = splitFilter_->currentData().toString();
  const int cls = classFilter_->currentData().isValid() ? classFilter_->currentData().toInt() : -1;
  for (QComboBox* combo : {splitFilter_, classFilter_})
    combo->blockSignals(true);
  splitFilter_->clear();
  classFilter_->clear();
  splitFilter_->addItem(tr("All splits"), QString());
  classFilter_->addItem(tr("Any class"), -1);
  if (check_->hasReport()) {
    for (const DatasetSplit& s : check_->report().splits)
      splitFilter_->addItem(s.split, s.split);
    const QStringList& names = check_->report().names;
    for (int c = 0; c < names.size(); ++c)
      classFilter_->addItem(QStringLiteral("%1: %2").arg(c).arg(names[c]), c);
  }
  splitFilter_->setCurrentIndex(std::max(0, splitFilter_->findData(split)));
  classFilter_->setCurrentIndex(std::max(0, classFilter_->findData(cls)));
  for (QComboBox* combo : {splitFilter_, classFilter_})
    combo->blockSignals(false);
}

void DatasetPanel::applyFilter() {
  DatasetImagesModel::Filter filter;
  filter.split = splitFilter_->currentData().toString();
  filter.cls = classFilter_->currentData().isValid() ? classFilter_->currentData().toInt() : -1;
  filter.backgroundsOnly = backgroundsOnly_->isChecked();
  filter.problemsOnly = problemsOnly_->isChecked();
  classFilter_->setEnabled(!filter.backgroundsOnly);
  images_->setFilter(filter);
  shown_->setText(tr("%n image(s)", nullptr, images_->rowCount()));
}

void DatasetPanel::setStatus(const QString& text, bool error) {
  status_->setText(text);
  QPalette palette = status_->palette();
  palette.setColor(QPalette::WindowText,
                   error ? QColor(0xc0, 0x30, 0x30) : this->palette().color(QPalette::WindowText));
  status_->setPalette(palette);
}

QString DatasetPanel::statusText() const {
  return status_->text();
}

}  // namespace studio
