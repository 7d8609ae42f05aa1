#include "app/main_window.h"

#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QUrl>
#include <QVBoxLayout>

#include "app/file_controller.h"
#include "app/recent_files.h"
#include "app/recent_files_menu.h"
#include "app/studio_actions.h"
#include "app/support_info.h"
#include "common/bn_diagnosis.h"
#include "common/config_schema.h"
#include "common/version.h"
#include "stores/config_document.h"
#include "stores/dataset_check.h"
#include "stores/engine_locator.h"
#include "stores/engine_session.h"
#include "stores/engine_task.h"
#include "stores/event_file_reader.h"
#include "stores/model_info.h"
#include "stores/qt_text.h"
#include "stores/run_history.h"
#include "stores/run_library.h"
#include "stores/run_store.h"
#include "widgets/bn/diagnosis_panel.h"
#include "widgets/bn/recalibrate_dialog.h"
#include "widgets/config/config_page.h"
#include "widgets/config/page_specs.h"
#include "widgets/dataset/dataset_panel.h"
#include "widgets/deploy/export_dialog.h"
#include "widgets/deploy/predict_dialog.h"
#include "widgets/distributed/devices_panel.h"
#include "widgets/distributed/launch_dialog.h"
#include "widgets/model/model_panel.h"
#include "widgets/monitor/monitor_view.h"
#include "widgets/monitor/run_status_line.h"
#include "widgets/problems/problems_view.h"
#include "widgets/runs/compare_view.h"
#include "widgets/runs/runs_view.h"
#include "widgets/settings/preferences_dialog.h"

namespace studio {
namespace {

constexpr int kStatusMessageMs = 5000;
constexpr QSize kDefaultSize(1280, 820);
constexpr int kPageListWidth = 190;

const QString kGeometryKey = QStringLiteral("mainWindow/geometry");
const QString kStateKey = QStringLiteral("mainWindow/state");
const QString kPageKey = QStringLiteral("mainWindow/page");

bool hasResumeFiles(const QString& runDirectory) {
  const QDir dir(runDirectory);
  return !runDirectory.isEmpty() &&
         QFileInfo(dir.filePath(QStringLiteral("weights/last.pt"))).isFile() &&
         QFileInfo(dir.filePath(QStringLiteral("args.yaml"))).isFile();
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      document_(new ConfigDocument(this)),
      recentFiles_(new RecentFiles(this)),
      files_(new FileController(document_, recentFiles_, this)),
      session_(new EngineSession(this)),
      runs_(new RunLibrary(this)),
      history_(new RunHistory(this)),
      actions_(new StudioActions(this)),
      task_(new EngineTask(this)),
      datasetCheck_(new DatasetCheck(this)),
      modelInfo_(new ModelInfo(this)),
      deviceList_(new DeviceList(this)) {
  // The pages' engine questions run where training runs, with the engine training would use.
  datasetCheck_->setWorkingDirectory(session_->workingDirectory());
  modelInfo_->setWorkingDirectory(session_->workingDirectory());
  modelInfo_->setEngine(locateEngine(nullptr));
  connect(session_, &EngineSession::workingDirectoryChanged, this, [this](const QString& dir) {
    datasetCheck_->setWorkingDirectory(dir);
    modelInfo_->setWorkingDirectory(dir);
  });
  setObjectName(QStringLiteral("mainWindow"));
  createStatusBar();
  buildViews();
  connectSession();
  connectActions();

  connect(files_, &FileController::statusMessage, this,
          [this](const QString& text) { statusBar()->showMessage(text, kStatusMessageMs); });
  connect(files_, &FileController::problemsNeedAttention, this, [this] {
    problemsDock_->show();
    problemsDock_->raise();
  });
  connect(document_, &ConfigDocument::pathChanged, this, &MainWindow::updateTitle);
  connect(document_, &ConfigDocument::modifiedChanged, this, &MainWindow::updateTitle);
  connect(document_, &ConfigDocument::diagnosticsChanged, this, &MainWindow::updateStatus);
  connect(document_, &ConfigDocument::configChanged, this, &MainWindow::updateProjectFolder);
  connect(actions_->launchElsewhere, &QAction::triggered, this, &MainWindow::launchElsewhere);
  connect(actions_->documentation, &QAction::triggered, this, &MainWindow::openDocumentation);
  connect(actions_->reportProblem, &QAction::triggered, this, &MainWindow::reportProblem);
  // The machine's GPUs, once: the Distributed page's checklist, and a topology, checks and
  // advice that speak of this machine.
  connect(deviceList_, &DeviceList::changed, this, [this] {
    if (deviceList_->isKnown()) document_->setHostFacts({deviceList_->cudaDeviceCount()});
  });
  if (const QString engine = locateEngine(nullptr); !engine.isEmpty())
    deviceList_->refresh(engine, session_->workingDirectory());

  connect(actions_->languages, &QActionGroup::triggered, this, [this](QAction* chosen) {
    if (chosen == actions_->languageEnglish)
      setLanguage(Language::English);
    else if (chosen == actions_->languageChinese)
      setLanguage(Language::SimplifiedChinese);
    else
      setLanguage(Language::System);
  });
  shownLanguage_ = installedLanguage();
  checkLanguageAction(savedLanguage());

  readSettings();
  updateProjectFolder();
  updateTitle();
  updateStatus();
  updateActions();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildViews() {
  modes_ = new QTabWidget(this);
  modes_->setObjectName(QStringLiteral("modes"));
  modes_->setDocumentMode(true);
  modes_->addTab(createConfigureMode(), actions_->configureMode->icon(), tr("Configure"));
  modes_->addTab(createTrainMode(), actions_->trainMode->icon(), tr("Train"));
  runsView_ = new RunsView(history_, modes_);
  modes_->addTab(runsView_, actions_->runsMode->icon(), tr("Runs"));
  compareView_ = new CompareView(modes_);
  modes_->addTab(compareView_, actions_->compareMode->icon(), tr("Compare"));
  setCentralWidget(modes_);
  createProblemsDock();
  createMenus();
  createToolBar();

  // Every connection to a view has the view as sender or context, so it ends with the view.
  connect(modes_, &QTabWidget::currentChanged, this, [this](int index) {
    const std::array modeActions{actions_->configureMode, actions_->trainMode, actions_->runsMode,
                                 actions_->compareMode};
    if (index >= 0 && index < static_cast<int>(modeActions.size()))
      modeActions[static_cast<std::size_t>(index)]->setChecked(true);
    // Problems are the configuration's: shown beside it, out of the way of the plots and runs
    // (View > Problems still shows them anywhere).
    if (mode() == Mode::Configure && previousMode_ != Mode::Configure) {
      problemsDock_->setVisible(problemsWanted_);
    } else if (mode() != Mode::Configure && previousMode_ == Mode::Configure) {
      problemsWanted_ = problemsDock_->isVisible();
      problemsDock_->hide();
    }
    previousMode_ = mode();
    updateActions();
  });
  connect(monitor_->diagnosisPanel(), &DiagnosisPanel::fixRequested, this, &MainWindow::applyFix);
  connect(runsView_, &RunsView::openRequested, this, &MainWindow::openRun);
  connect(runsView_, &RunsView::resumeRequested, this,
          [this](const QString& run) { resumeRun(run); });
  connect(runsView_, &RunsView::selectionChanged, this, &MainWindow::updateActions);
  connect(runsView_, &RunsView::compareRequested, this, &MainWindow::compareRuns);
  connect(runsView_, &RunsView::exportRequested, this, &MainWindow::exportWeights);
  connect(runsView_, &RunsView::predictRequested, this, &MainWindow::predictPreview);
  connect(runsView_, &RunsView::fineTuneRequested, this,
          [this](const QString& run) { fineTuneFrom(run); });
  connect(monitor_->statusLine(), &RunStatusLine::textChanged, runSummary_, [this] {
    const RunStore* store = runs_->current();
    runSummary_->setText(
        store ? tr("%1: %2").arg(RunLibrary::title(store), runStateName(store->state()))
              : QString());
  });
}

void MainWindow::connectActions() {
  connect(actions_->configureMode, &QAction::triggered, this,
          [this] { showMode(Mode::Configure); });
  connect(actions_->trainMode, &QAction::triggered, this, [this] { showMode(Mode::Train); });
  connect(actions_->runsMode, &QAction::triggered, this, [this] { showMode(Mode::Runs); });
  connect(actions_->compareMode, &QAction::triggered, this, [this] { showMode(Mode::Compare); });
  connect(actions_->compareRuns, &QAction::triggered, this,
          [this] { compareRuns(runsView_->selectedDirectories()); });
  connect(actions_->abTest, &QAction::triggered, this, [this] { startAbTest(); });
  connect(actions_->exportWeights, &QAction::triggered, this,
          [this] { exportWeights(exportableRun()); });
  connect(actions_->predictPreview, &QAction::triggered, this,
          [this] { predictPreview(exportableRun()); });

  connect(actions_->newFile, &QAction::triggered, files_, &FileController::newDocument);
  connect(actions_->open, &QAction::triggered, files_, &FileController::chooseFileToOpen);
  connect(actions_->save, &QAction::triggered, files_, &FileController::saveFile);
  connect(actions_->saveAs, &QAction::triggered, files_, &FileController::chooseFileToSaveAs);
  connect(actions_->openRun, &QAction::triggered, this, &MainWindow::chooseRunToOpen);
  connect(actions_->preferences, &QAction::triggered, this, &MainWindow::showPreferences);
  connect(actions_->quit, &QAction::triggered, this, &QWidget::close);
  connect(actions_->start, &QAction::triggered, this, &MainWindow::startRun);
  connect(actions_->stop, &QAction::triggered, session_, &EngineSession::requestStop);
  connect(actions_->kill, &QAction::triggered, this, &MainWindow::confirmKill);
  connect(actions_->resume, &QAction::triggered, this, [this] {
    if (const QString run = resumableRun(); !run.isEmpty()) resumeRun(run);
  });
  connect(actions_->checkpointNow, &QAction::triggered, session_, &EngineSession::checkpointNow);
  connect(actions_->about, &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::setLanguage(Language language) {
  saveLanguage(language);
  checkLanguageAction(language);
  installTranslations(*QCoreApplication::instance(), localeOf(language));
  if (installedLanguage() != shownLanguage_) retranslateUi();
}

void MainWindow::checkLanguageAction(Language language) {
  switch (language) {
    case Language::System:
      actions_->languageSystem->setChecked(true);
      break;
    case Language::English:
      actions_->languageEnglish->setChecked(true);
      break;
    case Language::SimplifiedChinese:
      actions_->languageChinese->setChecked(true);
      break;
  }
}

void MainWindow::changeEvent(QEvent* event) {
  // Qt posts LanguageChange to every window once translators change. setLanguage has rebuilt
  // this one already; another source of a new language (a test, a plugin) gets the rebuild here.
  if (event->type() == QEvent::LanguageChange && installedLanguage() != shownLanguage_) {
    QMetaObject::invokeMethod(
        this,
        [this] {
          if (installedLanguage() != shownLanguage_) retranslateUi();
        },
        Qt::QueuedConnection);
  }
  QMainWindow::changeEvent(event);
}

void MainWindow::retranslateUi() {
  // The views hold no data of their own: the stores (document, runs, checks) do. So a language
  // change rebuilds the views over them, which is surer than a retranslate() in each of some
  // forty views that set their texts once; only what the user looks at is carried over.
  const Mode shownMode = mode();
  const QString shownPage = currentPageId();
  const bool problemsWanted =
      mode() == Mode::Configure ? problemsDock_->isVisible() : problemsWanted_;
  const QByteArray layout = saveState();
  const QList<RunStore*> compared = compareView_->runs();

  delete takeCentralWidget();
  pages_.clear();
  datasetPanel_ = nullptr;
  removeDockWidget(problemsDock_);
  delete problemsDock_;
  removeToolBar(toolBar_);
  delete toolBar_;

  actions_->retranslate();
  previousMode_ = Mode::Configure;
  buildViews();
  restoreState(layout);
  problemsDock_->setVisible(problemsWanted);
  problemsWanted_ = problemsWanted;
  showPage(shownPage);
  showMode(shownMode);
  if (compared.size() >= 2) compareView_->setRuns(compared);
  monitor_->setStore(runs_->current());
  shownLanguage_ = installedLanguage();
  updateRunSelector();
  updateTitle();
  updateStatus();
  updateActions();
}

bool MainWindow::openFile(const QString& path) {
  return files_->openFile(path);
}

bool MainWindow::saveFile() {
  return files_->saveFile();
}

bool MainWindow::saveFileAs(const QString& path) {
  return files_->saveFileAs(path);
}

void MainWindow::newDocument() {
  files_->newDocument();
}

void MainWindow::showPage(const QString& pageId) {
  for (int i = 0; i < pages_.size(); ++i)
    if (pages_.at(i)->id() == pageId) pageList_->setCurrentRow(i);
}

void MainWindow::showField(const QString& fieldPath) {
  for (ConfigPage* page : pages_) {
    if (!page->editorFor(fieldPath)) continue;
    showMode(Mode::Configure);
    showPage(page->id());
    page->focusField(fieldPath);
    return;
  }
}

QString MainWindow::currentPageId() const {
  const int index = pageStack_->currentIndex();
  return index >= 0 ? pages_.at(index)->id() : QString();
}

void MainWindow::showMode(Mode mode) {
  modes_->setCurrentIndex(static_cast<int>(mode));
}

MainWindow::Mode MainWindow::mode() const {
  return static_cast<Mode>(modes_->currentIndex());
}

void MainWindow::createMenus() {
  // A new bar each time the views are built; setMenuBar deletes the old one later, so a menu
  // whose action changed the language is not deleted under itself.
  setMenuBar(new QMenuBar(this));
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->setObjectName(QStringLiteral("fileMenu"));
  file->addAction(actions_->newFile);
  file->addAction(actions_->open);
  auto* recent = new RecentFilesMenu(recentFiles_, file);
  connect(recent, &RecentFilesMenu::fileChosen, this, &MainWindow::openFile);
  file->addMenu(recent);
  file->addSeparator();
  file->addAction(actions_->save);
  file->addAction(actions_->saveAs);
  file->addSeparator();
  file->addAction(actions_->openRun);
  file->addSeparator();
  file->addAction(actions_->preferences);
  file->addSeparator();
  file->addAction(actions_->quit);

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  run->setObjectName(QStringLiteral("runMenu"));
  run->addAction(actions_->start);
  run->addAction(actions_->stop);
  run->addAction(actions_->resume);
  run->addAction(actions_->checkpointNow);
  run->addSeparator();
  run->addAction(actions_->launchElsewhere);
  run->addSeparator();
  run->addAction(actions_->abTest);
  run->addAction(actions_->compareRuns);
  run->addSeparator();
  run->addAction(actions_->kill);

  QMenu* deploy = menuBar()->addMenu(tr("E&xport"));
  deploy->setObjectName(QStringLiteral("exportMenu"));
  deploy->addAction(actions_->exportWeights);
  deploy->addAction(actions_->predictPreview);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->setObjectName(QStringLiteral("viewMenu"));
  view->addAction(actions_->configureMode);
  view->addAction(actions_->trainMode);
  view->addAction(actions_->runsMode);
  view->addAction(actions_->compareMode);
  view->addSeparator();
  view->addAction(problemsDock_->toggleViewAction());
  view->addSeparator();
  QMenu* language = view->addMenu(tr("&Language"));
  language->setObjectName(QStringLiteral("languageMenu"));
  language->addActions(actions_->languages->actions());

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->setObjectName(QStringLiteral("helpMenu"));
  help->addAction(actions_->documentation);
  help->addAction(actions_->reportProblem);
  help->addSeparator();
  help->addAction(actions_->about);
  help->addAction(actions_->aboutQt);
}

void MainWindow::createToolBar() {
  toolBar_ = addToolBar(tr("Main"));
  QToolBar* toolBar = toolBar_;
  toolBar->setObjectName(QStringLiteral("fileToolBar"));
  toolBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  toolBar->setMovable(false);
  toolBar->addAction(actions_->newFile);
  toolBar->addAction(actions_->open);
  toolBar->addAction(actions_->save);
  toolBar->addSeparator();
  toolBar->addAction(actions_->start);
  toolBar->addAction(actions_->stop);
  toolBar->addAction(actions_->resume);
  toolBar->addAction(actions_->checkpointNow);
}

QWidget* MainWindow::createConfigureMode() {
  auto* central = new QWidget(this);
  auto* row = new QHBoxLayout(central);
  row->setContentsMargins(0, 0, 0, 0);
  row->setSpacing(0);

  pageList_ = new QListWidget(central);
  pageList_->setObjectName(QStringLiteral("pageList"));
  pageList_->setFixedWidth(kPageListWidth);
  pageList_->setIconSize(QSize(24, 24));
  pageList_->setSpacing(2);
  pageList_->setFrameShape(QFrame::NoFrame);
  pageList_->setAccessibleName(tr("Pages"));

  pageStack_ = new QStackedWidget(central);
  auto* divider = new QFrame(central);
  divider->setFrameShape(QFrame::VLine);
  divider->setFrameShadow(QFrame::Sunken);

  for (const PageSpec& spec : configPageSpecs()) {
    auto* page = new ConfigPage(document_, spec, pageStack_);
    pages_ << page;
    pageStack_->addWidget(page);
    auto* item = new QListWidgetItem(style()->standardIcon(spec.icon), spec.title, pageList_);
    item->setData(Qt::UserRole, spec.id);
    item->setSizeHint(QSize(kPageListWidth - 8, 36));
  }
  connect(pageList_, &QListWidget::currentRowChanged, pageStack_, &QStackedWidget::setCurrentIndex);
  pageList_->setCurrentRow(0);
  addFeaturePanels();

  row->addWidget(pageList_);
  row->addWidget(divider);
  row->addWidget(pageStack_, 1);
  return central;
}

ConfigPage* MainWindow::page(const QString& pageId) const {
  for (ConfigPage* page : pages_)
    if (page->id() == pageId) return page;
  return nullptr;
}

QString MainWindow::locateEngine(QString* why) {
  const EngineLocation engine = EngineLocator::locate(
      QSettings().value(QString::fromLatin1(kEngineProgramSetting)).toString());
  if (why) *why = engine.error;
  return engine.program;
}

void MainWindow::addFeaturePanels() {
  if (ConfigPage* dataset = page(QStringLiteral("dataset"))) {
    datasetPanel_ = new DatasetPanel(document_, datasetCheck_, &MainWindow::locateEngine);
    dataset->addPanel(datasetPanel_);
    connect(datasetPanel_, &DatasetPanel::dataYamlCreated, this, [this](const QString& file) {
      statusBar()->showMessage(
          tr("Wrote %1 and set it as the dataset.").arg(QDir::toNativeSeparators(file)),
          kStatusMessageMs);
    });
  }
  if (ConfigPage* model = page(QStringLiteral("model")))
    model->addPanel(new ModelPanel(document_, modelInfo_));
  if (ConfigPage* distributed = page(QStringLiteral("distributed"))) {
    auto* devices = new DevicesPanel(document_, deviceList_, modelInfo_);
    distributed->addPanel(devices, ConfigPage::PanelPlace::UnderTitle);
    connect(devices, &DevicesPanel::launchRequested, this, &MainWindow::launchElsewhere);
  }
}

void MainWindow::launchElsewhere() {
  const QString name = document_->filePath().isEmpty()
                           ? toQString(document_->config().output.name)
                           : QFileInfo(document_->filePath()).completeBaseName();
  LaunchDialog dialog(document_->config(), name, deviceList_->cudaDeviceCount(), this);
  if (!document_->filePath().isEmpty())
    dialog.setFolder(QDir::toNativeSeparators(QFileInfo(document_->filePath()).absolutePath() +
                                              QLatin1String("/launch")));
  dialog.exec();
}

QWidget* MainWindow::createTrainMode() {
  auto* page = new QWidget(this);
  auto* column = new QVBoxLayout(page);
  column->setContentsMargins(8, 8, 8, 0);
  column->setSpacing(0);
  auto* header = new QHBoxLayout;
  auto* label = new QLabel(tr("Run:"), page);
  runSelector_ = new QComboBox(page);
  runSelector_->setObjectName(QStringLiteral("runSelector"));
  runSelector_->setMinimumContentsLength(24);
  runSelector_->setToolTip(tr("The open runs: the one training now and those opened from disk"));
  label->setBuddy(runSelector_);
  auto* start = new QPushButton(actions_->start->icon(),
                                actions_->start->text().remove(QLatin1Char('&')), page);
  start->setObjectName(QStringLiteral("startButton"));
  start->setToolTip(actions_->start->toolTip());
  connect(start, &QPushButton::clicked, actions_->start, &QAction::trigger);
  connect(actions_->start, &QAction::changed, start,
          [this, start] { start->setEnabled(actions_->start->isEnabled()); });
  header->addWidget(label);
  header->addWidget(runSelector_);
  header->addStretch(1);
  header->addWidget(start);
  column->addLayout(header);
  monitor_ = new MonitorView(page);
  column->addWidget(monitor_, 1);

  connect(runSelector_, &QComboBox::activated, this, [this](int index) {
    const auto stores = runs_->runs();
    const auto* chosen = runSelector_->itemData(index).value<QObject*>();
    for (RunStore* store : stores)
      if (store == chosen) runs_->setCurrent(store);
  });
  connect(runs_, &RunLibrary::runsChanged, runSelector_, [this] { updateRunSelector(); });
  connect(runs_, &RunLibrary::currentChanged, monitor_, [this](RunStore* store) {
    monitor_->setStore(store);
    if (store)
      connect(store, &RunStore::stateChanged, this, &MainWindow::updateActions,
              Qt::UniqueConnection);
    updateRunSelector();
    updateActions();
  });
  return page;
}

void MainWindow::updateRunSelector() {
  runSelector_->clear();
  for (RunStore* store : runs_->runs()) {
    QString title = RunLibrary::title(store);
    if (store == session_->store() && session_->isActive()) title = tr("%1 (training)").arg(title);
    runSelector_->addItem(title, QVariant::fromValue(static_cast<QObject*>(store)));
    if (store == runs_->current()) runSelector_->setCurrentIndex(runSelector_->count() - 1);
  }
  runSelector_->setEnabled(runSelector_->count() > 0);
}

void MainWindow::createProblemsDock() {
  problemsDock_ = new QDockWidget(tr("Problems"), this);
  problemsDock_->setObjectName(QStringLiteral("problemsDock"));
  problemsDock_->setAllowedAreas(Qt::BottomDockWidgetArea | Qt::RightDockWidgetArea);
  problemsView_ = new ProblemsView(document_, problemsDock_);
  problemsDock_->setWidget(problemsView_);
  addDockWidget(Qt::BottomDockWidgetArea, problemsDock_);
  connect(problemsView_, &ProblemsView::fieldActivated, this, &MainWindow::showField);
}

void MainWindow::createStatusBar() {
  runSummary_ = new QLabel(this);
  runSummary_->setObjectName(QStringLiteral("runSummary"));
  statusBar()->addPermanentWidget(runSummary_);
  statusSummary_ = new QLabel(this);
  statusSummary_->setObjectName(QStringLiteral("diagnosticsSummary"));
  statusBar()->addPermanentWidget(statusSummary_);
}

void MainWindow::connectSession() {
  connect(session_, &EngineSession::stateChanged, this, [this] {
    updateActions();
    updateRunSelector();
  });
  connect(session_, &EngineSession::connectedChanged, this, &MainWindow::updateActions);
  connect(session_, &EngineSession::killAvailable, this, [this] {
    updateActions();
    statusBar()->showMessage(tr("The engine is still saving; Run > Kill ends it at once."));
  });
  connect(session_, &EngineSession::runEnded, this, &MainWindow::reportRunEnd);
}

QString MainWindow::enginePath() {
  QString why;
  if (const QString program = locateEngine(&why); !program.isEmpty()) return program;
  QMessageBox box(QMessageBox::Warning, tr("Engine Not Found"), why, QMessageBox::Cancel, this);
  box.setObjectName(QStringLiteral("engineNotFoundBox"));
  QPushButton* preferences = box.addButton(tr("Preferences..."), QMessageBox::AcceptRole);
  box.exec();
  if (box.clickedButton() == preferences) showPreferences();
  return {};
}

bool MainWindow::startRun() {
  if (session_->isActive()) return false;
  if (enginePath().isEmpty()) return false;
  if (syncbn::hasErrors(document_->diagnostics())) {
    problemsDock_->show();
    problemsDock_->raise();
    QMessageBox box(QMessageBox::Warning, tr("Cannot Start Training"),
                    tr("The configuration has errors. They are listed in Problems; "
                       "double-click one to go to its field."),
                    QMessageBox::Ok, this);
    box.setObjectName(QStringLiteral("cannotStartBox"));
    box.exec();
    return false;
  }
  return launch(*document_);
}

bool MainWindow::launch(const ConfigDocument& document) {
  const QString engine = enginePath();
  if (engine.isEmpty()) return false;
  session_->setEngineProgram(engine);
  QString error;
  RunStore* store = runs_->newRun();
  if (!session_->start(document, store, &error)) {
    store->setState(RunState::Failed, error);
    QMessageBox box(QMessageBox::Critical, tr("Cannot Start Training"), error, QMessageBox::Ok,
                    this);
    box.setObjectName(QStringLiteral("cannotStartBox"));
    box.exec();
    return false;
  }
  showMode(Mode::Train);
  statusBar()->showMessage(tr("Training started"), kStatusMessageMs);
  return true;
}

bool MainWindow::resumeRun(const QString& runDirectory, const QStringList& overrides) {
  if (session_->isActive()) return false;
  const QString engine = enginePath();
  if (engine.isEmpty()) return false;
  session_->setEngineProgram(engine);
  QString error;
  RunStore* store = runs_->find(runDirectory);
  if (!store) store = runs_->open(runDirectory, &error);
  if (!store) store = runs_->newRun();  // a run with weights but no record yet
  // The engine appends to the same events.jsonl: read what is there, then take the live feed.
  if (EventFileReader* reader = runs_->readerOf(store)) reader->readToEndAndStop();
  runs_->setCurrent(store);
  if (!session_->resume(runDirectory, store, &error, overrides)) {
    QMessageBox box(QMessageBox::Critical, tr("Cannot Resume"), error, QMessageBox::Ok, this);
    box.setObjectName(QStringLiteral("cannotResumeBox"));
    box.exec();
    return false;
  }
  showMode(Mode::Train);
  return true;
}

bool MainWindow::openRun(const QString& runDirectory) {
  QString error;
  if (!runs_->open(runDirectory, &error)) {
    QMessageBox box(QMessageBox::Warning, tr("Cannot Open Run"), error, QMessageBox::Ok, this);
    box.setObjectName(QStringLiteral("cannotOpenRunBox"));
    box.exec();
    return false;
  }
  showMode(Mode::Train);
  return true;
}

QString MainWindow::resumableRun() const {
  const RunStore* store = runs_->current();
  if (store && isFinal(store->state()) && store->state() != RunState::Completed &&
      hasResumeFiles(store->runDirectory()))
    return store->runDirectory();
  if (mode() == Mode::Runs && runsView_->selectedIsResumable())
    return runsView_->selectedDirectory();
  return {};
}

namespace {

bool hasWeights(const QString& runDirectory) {
  const QDir dir(runDirectory);
  return !runDirectory.isEmpty() &&
         (QFileInfo::exists(dir.filePath(QStringLiteral("weights/best.pt"))) ||
          QFileInfo::exists(dir.filePath(QStringLiteral("weights/last.pt"))));
}

}  // namespace

QString MainWindow::exportableRun() const {
  if (mode() == Mode::Runs) {
    const QString selected = runsView_->selectedDirectory();
    return hasWeights(selected) ? selected : QString();
  }
  const RunStore* store = runs_->current();
  return store && hasWeights(store->runDirectory()) ? store->runDirectory() : QString();
}

void MainWindow::exportWeights(const QString& runDirectory) {
  if (runDirectory.isEmpty()) return;
  const QString engine = enginePath();
  if (engine.isEmpty()) return;
  ExportDialog dialog(runDirectory, engine, session_->workingDirectory(), task_, this);
  dialog.exec();
}

void MainWindow::predictPreview(const QString& runDirectory) {
  if (runDirectory.isEmpty()) return;
  const QString engine = enginePath();
  if (engine.isEmpty()) return;
  PredictDialog dialog(runDirectory, engine, session_->workingDirectory(), task_, this);
  dialog.exec();
}

void MainWindow::applyFix(const QString& fix) {
  namespace diagnosis = syncbn::diagnosis;
  RunStore* store = runs_->current();
  if (!store) return;
  const QString run = store->runDirectory();
  const int world = store->hasRunInfo() ? store->runInfo().world_size : 1;
  const int perRank = store->hasRunInfo() ? store->runInfo().per_rank_batch : 0;
  const bool live = session_->isActive() && session_->store() == store;

  if (fix == QLatin1String(diagnosis::kFixSyncBnResume)) {
    QMessageBox box(QMessageBox::Question, DiagnosisPanel::fixTitle(fix),
                    tr("Continue %1 with SyncBN?").arg(RunLibrary::title(store)),
                    QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("fixBox"));
    box.setInformativeText(
        tr("What changes: distributed.norm bn -> syncbn. Each BatchNorm layer then normalises "
           "over all %1 images of a step instead of %2 per rank.\n\nWhat carries over from "
           "weights/last.pt: the weights and their EMA, the running statistics, the optimizer "
           "state, the epoch, iteration and learning-rate schedule, the random state and any "
           "gradients accumulated towards the next optimizer step. The run continues in the same "
           "directory; its args.yaml records the change.%3")
            .arg(world * perRank)
            .arg(perRank)
            .arg(live ? tr("\n\nThe run is training: it stops after this iteration, saves "
                           "last.pt, and resumes with SyncBN.")
                      : QString()));
    QPushButton* go = box.addButton(tr("Switch and Resume"), QMessageBox::AcceptRole);
    box.exec();
    if (box.clickedButton() != go) return;
    const QStringList overrides{QStringLiteral("norm=syncbn")};
    if (live) {
      resumeWhenStopped_ = run;
      resumeOverrides_ = overrides;
      session_->requestStop();
    } else if (hasResumeFiles(run)) {
      resumeRun(run, overrides);
    } else {
      QMessageBox::warning(this, DiagnosisPanel::fixTitle(fix),
                           tr("%1 has no weights/last.pt and args.yaml to resume from.")
                               .arg(QDir::toNativeSeparators(run)));
    }
    return;
  }
  if (fix == QLatin1String(diagnosis::kFixPreciseBn)) {
    const QString engine = enginePath();
    if (engine.isEmpty()) return;
    RecalibrateDialog dialog(run, engine, session_->workingDirectory(), task_, this);
    dialog.exec();
    return;
  }
  const QString name = toQString(document_->config().output.name);
  if (fix == QLatin1String(diagnosis::kFixGroupNorm)) {
    restartWith({{QStringLiteral("distributed.norm"), QStringLiteral("groupnorm")},
                 {QStringLiteral("output.name"), name + QStringLiteral("-groupnorm")}},
                DiagnosisPanel::fixTitle(fix),
                tr("GroupNorm normalises each image over groups of channels, so it does not depend "
                   "on the batch at all. Its parameters differ from BatchNorm's: this is a new "
                   "run, trained from the start."));
  } else if (fix == QLatin1String(diagnosis::kFixFrozenBn)) {
    restartWith({{QStringLiteral("distributed.norm"), QStringLiteral("frozen")},
                 {QStringLiteral("output.name"), name + QStringLiteral("-frozen")}},
                DiagnosisPanel::fixTitle(fix),
                tr("Frozen BatchNorm normalises with fixed running statistics and does not learn "
                   "its scale and shift. It fits fine-tuning from weights whose statistics are "
                   "already good; from scratch the statistics stay at their initial values, so "
                   "prefer SyncBN or GroupNorm there."));
  } else if (fix == QLatin1String(diagnosis::kFixLowerLr)) {
    const double lr0 = document_->config().train.lr0;
    restartWith({{QStringLiteral("train.lr0"), QString::number(lr0 / 2, 'g', 6)},
                 {QStringLiteral("output.name"), name + QStringLiteral("-lr")}},
                DiagnosisPanel::fixTitle(fix),
                tr("A loss that oscillates while BatchNorm's statistics are sound usually steps "
                   "too far: half the initial learning rate, in a new run."));
  }
}

bool MainWindow::restartWith(const QList<QPair<QString, QString>>& changes, const QString& title,
                             const QString& why) {
  if (session_->isActive()) {
    QMessageBox::information(this, title,
                             tr("A run is training. Stop it first; this starts a new run."));
    return false;
  }
  QStringList lines;
  for (const auto& [path, value] : changes) {
    const syncbn::FieldSpec* spec = syncbn::findField(toStdString(path));
    if (!spec) return false;
    lines << tr("%1: %2 -> %3")
                 .arg(path, toQString(syncbn::formatFieldValue(spec->get(document_->config()))),
                      value);
  }
  QMessageBox box(QMessageBox::Question, title, tr("Start a new run with these changes?"),
                  QMessageBox::Cancel, this);
  box.setObjectName(QStringLiteral("fixBox"));
  box.setInformativeText(lines.join(QLatin1Char('\n')) + QStringLiteral("\n\n") + why);
  QPushButton* go = box.addButton(tr("Start"), QMessageBox::AcceptRole);
  box.exec();
  if (box.clickedButton() != go) return false;
  for (const auto& [path, value] : changes) {
    const syncbn::FieldSpec* spec = syncbn::findField(toStdString(path));
    const auto parsed = syncbn::parseFieldValue(*spec, toStdString(value));
    if (const auto* v = std::get_if<syncbn::FieldValue>(&parsed)) document_->setField(*spec, *v);
  }
  return startRun();
}

bool MainWindow::fineTuneFrom(const QString& runDirectory) {
  const QString best = QDir(runDirectory).filePath(QStringLiteral("weights/best.pt"));
  if (!QFileInfo::exists(best)) return false;
  const QString name = QFileInfo(runDirectory).fileName();
  return restartWith({{QStringLiteral("model.model"), best},
                      {QStringLiteral("output.resume"), QStringLiteral("false")},
                      {QStringLiteral("output.name"), name + QStringLiteral("-ft")}},
                     tr("Fine-tune from %1").arg(name),
                     tr("The new run starts from %1's best weights (its EMA at its best epoch), "
                        "builds the model they were trained as and fine-tunes it on this "
                        "configuration's dataset: every tensor that fits transfers, and the class "
                        "branches follow the dataset's classes. %1 itself is left as it is.")
                         .arg(name));
}

bool MainWindow::compareRuns(const QStringList& runDirectories) {
  if (runDirectories.size() < 2) return false;
  RunStore* current = runs_->current();
  QList<RunStore*> stores;
  QStringList problems;
  for (const QString& dir : runDirectories.mid(0, RunLibrary::kMaxOpenRuns)) {
    QString error;
    RunStore* store = runs_->find(dir);
    if (!store) store = runs_->open(dir, &error);
    if (store)
      stores << store;
    else
      problems << error;
  }
  if (current) runs_->setCurrent(current);  // comparing does not change what Train shows
  if (runDirectories.size() > RunLibrary::kMaxOpenRuns)
    problems << tr("Only the first %1 selected runs are compared.").arg(RunLibrary::kMaxOpenRuns);
  if (!problems.isEmpty()) {
    QMessageBox box(QMessageBox::Warning, tr("Compare Runs"),
                    stores.size() >= 2 ? tr("Some runs could not be opened.")
                                       : tr("Fewer than two runs could be opened."),
                    QMessageBox::Ok, this);
    box.setObjectName(QStringLiteral("compareProblemsBox"));
    box.setInformativeText(problems.join(QLatin1Char('\n')));
    box.exec();
  }
  if (stores.size() < 2) return false;
  compareView_->setRuns(stores);
  showMode(Mode::Compare);
  return true;
}

bool MainWindow::startAbTest(int epochs) {
  if (session_->isActive()) {
    QMessageBox::information(this, tr("A/B: BN vs SyncBN"),
                             tr("A run is training. Stop it first; the A/B test starts two new "
                                "runs."));
    return false;
  }
  if (syncbn::hasErrors(document_->diagnostics())) return startRun();  // reports the errors
  const syncbn::Config base = document_->config();
  const QString name = toQString(base.output.name);
  if (epochs <= 0) {
    QInputDialog dialog(this);
    dialog.setObjectName(QStringLiteral("abDialog"));
    dialog.setWindowTitle(tr("A/B: BN vs SyncBN"));
    dialog.setInputMode(QInputDialog::IntInput);
    dialog.setIntRange(1, 1000);
    dialog.setIntValue(std::min(3, std::max(1, base.train.epochs)));
    dialog.setLabelText(
        tr("Trains this configuration twice, one run after the other, with the same seed:\n"
           "  %1-ab-bn: distributed.norm = bn\n  %1-ab-syncbn: distributed.norm = syncbn\n"
           "and overlays them in Compare as they train. Your configuration is not changed.\n\n"
           "Epochs for each run:")
            .arg(name));
    if (dialog.exec() != QDialog::Accepted) return false;
    epochs = dialog.intValue();
  }
  abQueue_.clear();
  abRuns_.clear();
  for (const auto& [norm, suffix] : {std::pair{syncbn::NormKind::BatchNorm, "-ab-bn"},
                                     std::pair{syncbn::NormKind::SyncBatchNorm, "-ab-syncbn"}}) {
    syncbn::Config config = base;
    config.train.epochs = epochs;
    config.distributed.norm = norm;
    config.output.name = toStdString(name + QLatin1String(suffix));
    config.output.resume = false;
    abQueue_ << config;
  }
  return startNextAbRun();
}

bool MainWindow::startNextAbRun() {
  if (abQueue_.isEmpty()) return false;
  ConfigDocument run;
  run.setConfig(abQueue_.takeFirst());
  if (!launch(run)) {
    abQueue_.clear();
    return false;
  }
  abRuns_ << session_->store();
  QList<RunStore*> stores;
  for (const auto& store : abRuns_)
    if (store) stores << store;
  if (stores.size() >= 2) {
    compareView_->setRuns(stores);
    showMode(Mode::Compare);
  }
  statusBar()->showMessage(tr("A/B run %1 of 2 started").arg(abRuns_.size()), kStatusMessageMs);
  return true;
}

void MainWindow::chooseRunToOpen() {
  const QString dir =
      QFileDialog::getExistingDirectory(this, tr("Open Run"), history_->projectDirectory());
  if (!dir.isEmpty()) openRun(dir);
}

void MainWindow::showPreferences() {
  PreferencesDialog dialog(this);
  dialog.load();
  if (dialog.exec() != QDialog::Accepted) return;
  dialog.save();
  // The pages ask the engine in the background: from now on the one just chosen.
  const QString engine = locateEngine(nullptr);
  modelInfo_->setEngine(engine);
  modelInfo_->refreshNow();
  if (!engine.isEmpty()) deviceList_->refresh(engine, session_->workingDirectory());
}

void MainWindow::confirmKill() {
  QMessageBox box(QMessageBox::Warning, tr("Kill the Engine?"),
                  tr("The engine and its ranks end at once. What was saved so far stays; the "
                     "iterations since the last checkpoint are lost."),
                  QMessageBox::Cancel, this);
  box.setObjectName(QStringLiteral("confirmKillBox"));
  QPushButton* kill = box.addButton(tr("Kill"), QMessageBox::DestructiveRole);
  box.exec();
  if (box.clickedButton() == kill) session_->kill();
}

void MainWindow::reportRunEnd() {
  history_->refresh();
  updateRunSelector();
  updateActions();
  RunStore* store = session_->store();
  if (closeWhenRunEnds_) {
    close();
    return;
  }
  if (!resumeWhenStopped_.isEmpty()) {
    const QString run = std::exchange(resumeWhenStopped_, QString());
    const QStringList overrides = std::exchange(resumeOverrides_, QStringList());
    if (store && store->state() == RunState::Stopped) {
      resumeRun(run, overrides);
      return;
    }
  }
  if (!abQueue_.isEmpty()) {
    if (store && store->state() == RunState::Completed) {
      if (startNextAbRun()) return;
    } else {
      abQueue_.clear();
      statusBar()->showMessage(tr("A/B comparison abandoned: its first run did not complete"),
                               kStatusMessageMs);
    }
  }
  if (!store) return;
  statusBar()->showMessage(
      tr("Run %1: %2").arg(RunLibrary::title(store), runStateName(store->state())),
      kStatusMessageMs);
  if (store->state() == RunState::Failed) {
    // Not modal: the curves stay in view, and nothing waits for the answer.
    auto* box = new QMessageBox(QMessageBox::Critical, tr("Training Failed"),
                                store->failureMessage(), QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("runFailedBox"));
    box->setInformativeText(
        tr("Everything received before the failure is kept; the log has the "
           "engine's own words."));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false);
    box->show();
  }
}

bool MainWindow::askAboutActiveRun() {
  QMessageBox box(QMessageBox::Question, tr("A Run Is Training"),
                  tr("%1 is still training.").arg(RunLibrary::title(session_->store())),
                  QMessageBox::Cancel, this);
  box.setObjectName(QStringLiteral("activeRunBox"));
  box.setInformativeText(
      tr("Stop it (saving weights/last.pt, so it can be resumed), or leave it "
         "running in the background and follow it later from Runs?"));
  QPushButton* stop = box.addButton(tr("Stop the Run"), QMessageBox::AcceptRole);
  QPushButton* leave = box.addButton(tr("Leave It Running"), QMessageBox::AcceptRole);
  box.setDefaultButton(QMessageBox::Cancel);
  box.exec();
  if (box.clickedButton() == stop) {
    closeWhenRunEnds_ = true;
    session_->requestStop();
    statusBar()->showMessage(
        tr("Stopping the run; the studio closes once weights/last.pt is saved."));
    return false;  // the window closes when the engine has exited
  }
  if (box.clickedButton() == leave) {
    session_->detach();
    return true;
  }
  return false;
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (closeWhenRunEnds_ && !session_->isActive()) {
    writeSettings();
    event->accept();
    return;
  }
  if (closeWhenRunEnds_) {  // already stopping: the user may insist
    event->ignore();
    if (session_->canKill()) confirmKill();
    return;
  }
  if (!files_->confirmDiscardingChanges() || (session_->isActive() && !askAboutActiveRun())) {
    event->ignore();
    return;
  }
  writeSettings();
  event->accept();
}

SupportInfo MainWindow::supportInfo() const {
  return gatherSupportInfo(locateEngine(nullptr), deviceList_,
                           runs_->current() ? runs_->current()->log() : nullptr,
                           document_->filePath());
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About SyncBN Studio"), aboutText(supportInfo()));
}

void MainWindow::openDocumentation() {
  const QString file = documentationFile(QCoreApplication::applicationDirPath());
  if (file.isEmpty() || !QDesktopServices::openUrl(QUrl::fromLocalFile(file))) {
    QMessageBox::information(
        this, tr("Documentation"),
        file.isEmpty() ? tr("The documentation is not installed beside this program "
                            "(share/doc/syncbn-studio).")
                       : tr("No program is set to open %1.").arg(QDir::toNativeSeparators(file)));
  }
}

void MainWindow::reportProblem() {
  QApplication::clipboard()->setText(problemReport(supportInfo()));
  statusBar()->showMessage(
      tr("Copied the versions, system, devices and the run's last log lines: paste them into "
         "the report."),
      kStatusMessageMs);
}

void MainWindow::updateActions() {
  StudioActions::RunState state;
  state.active = session_->isActive();
  state.stopping = session_->state() == EngineSession::State::Stopping;
  state.canKill = session_->canKill();
  state.connected = session_->isConnected();
  state.resumable = !resumableRun().isEmpty();
  state.comparable = mode() == Mode::Runs && runsView_->selectedDirectories().size() >= 2;
  state.exportable = !exportableRun().isEmpty();
  actions_->update(state);
}

void MainWindow::updateProjectFolder() {
  const QString project = toQString(document_->config().output.project);
  history_->setProjectDirectory(QDir(session_->workingDirectory()).absoluteFilePath(project));
}

void MainWindow::updateTitle() {
  setWindowTitle(tr("%1[*] — SyncBN Studio").arg(document_->displayName()));
  setWindowModified(document_->isModified());
}

void MainWindow::updateStatus() {
  const auto& diagnostics = document_->diagnostics();
  const int errors = static_cast<int>(countSeverity(diagnostics, syncbn::Severity::Error));
  const int warnings = static_cast<int>(countSeverity(diagnostics, syncbn::Severity::Warning));
  statusSummary_->setText(
      tr("%1, %2").arg(tr("%n error(s)", nullptr, errors), tr("%n warning(s)", nullptr, warnings)));
}

void MainWindow::readSettings() {
  const QSettings settings;
  if (!restoreGeometry(settings.value(kGeometryKey).toByteArray())) resize(kDefaultSize);
  restoreState(settings.value(kStateKey).toByteArray());
  showPage(settings.value(kPageKey).toString());
}

void MainWindow::writeSettings() const {
  QSettings settings;
  settings.setValue(kGeometryKey, saveGeometry());
  settings.setValue(kStateKey, saveState());
  settings.setValue(kPageKey, currentPageId());
}

}  // namespace studio
