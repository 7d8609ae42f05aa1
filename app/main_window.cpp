#include "app/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>

#include "app/recent_files.h"
#include "app/recent_files_menu.h"
#include "common/version.h"
#include "stores/config_document.h"
#include "widgets/config/config_page.h"
#include "widgets/config/page_specs.h"
#include "widgets/problems/problems_view.h"
#include "stores/qt_text.h"

namespace studio {
namespace {

constexpr int kStatusMessageMs = 5000;
constexpr QSize kDefaultSize(1200, 800);
constexpr int kPageListWidth = 190;

const QString kGeometryKey = QStringLiteral("mainWindow/geometry");
const QString kStateKey = QStringLiteral("mainWindow/state");
const QString kPageKey = QStringLiteral("mainWindow/page");
const QString kDirectoryKey = QStringLiteral("files/lastDirectory");

QString formatDiagnostics(const syncbn::Diagnostics& diagnostics) {
  QStringList lines;
  for (const auto& d : diagnostics)
    lines << toQString(syncbn::format(d));
  return lines.join(QLatin1Char('\n'));
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      document_(new ConfigDocument(this)),
      recentFiles_(new RecentFiles(this)) {
  setObjectName(QStringLiteral("mainWindow"));
  createActions();
  createPages();
  createProblemsDock();
  createMenus();
  createToolBar();
  createStatusBar();

  connect(document_, &ConfigDocument::pathChanged, this, &MainWindow::updateTitle);
  connect(document_, &ConfigDocument::modifiedChanged, this, &MainWindow::updateTitle);
  connect(document_, &ConfigDocument::diagnosticsChanged, this, &MainWindow::updateStatus);

  readSettings();
  updateTitle();
  updateStatus();
}

bool MainWindow::openFile(const QString& path) {
  if (!confirmDiscardingChanges()) return false;
  return loadFile(path);
}

bool MainWindow::saveFile() {
  if (document_->filePath().isEmpty()) return chooseFileToSaveAs();
  return saveFileAs(document_->filePath());
}

bool MainWindow::saveFileAs(const QString& path) {
  if (!document_->saveAs(path)) {
    QMessageBox box(QMessageBox::Critical, tr("Save Failed"),
                    tr("The configuration was not saved. Your changes are kept; save them "
                       "somewhere else."),
                    QMessageBox::Ok, this);
    box.setObjectName(QStringLiteral("saveFailedBox"));
    box.setInformativeText(document_->errorString());
    box.exec();
    return false;
  }
  recentFiles_->add(document_->filePath());
  rememberDirectory(document_->filePath());
  statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(document_->filePath())),
                           kStatusMessageMs);
  return true;
}

void MainWindow::newDocument() {
  if (!confirmDiscardingChanges()) return;
  document_->newDocument();
  statusBar()->showMessage(tr("New configuration with default values"), kStatusMessageMs);
}

void MainWindow::showPage(const QString& pageId) {
  for (int i = 0; i < pages_.size(); ++i)
    if (pages_.at(i)->id() == pageId) pageList_->setCurrentRow(i);
}

void MainWindow::showField(const QString& fieldPath) {
  for (ConfigPage* page : pages_) {
    if (!page->editorFor(fieldPath)) continue;
    showPage(page->id());
    page->focusField(fieldPath);
    return;
  }
}

QString MainWindow::currentPageId() const {
  const int index = pageStack_->currentIndex();
  return index >= 0 ? pages_.at(index)->id() : QString();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!confirmDiscardingChanges()) {
    event->ignore();
    return;
  }
  writeSettings();
  event->accept();
}

void MainWindow::createActions() {
  const auto icon = [this](const char* themeName, QStyle::StandardPixmap fallback) {
    return QIcon::fromTheme(QString::fromLatin1(themeName), style()->standardIcon(fallback));
  };
  // A platform without a standard binding for an action gets the common one.
  const auto shortcut = [](QAction* action, QKeySequence::StandardKey key, const QString& other) {
    if (QKeySequence::keyBindings(key).isEmpty())
      action->setShortcut(QKeySequence(other));
    else
      action->setShortcuts(key);
  };

  newAction_ = new QAction(icon("document-new", QStyle::SP_FileIcon), tr("&New"), this);
  newAction_->setObjectName(QStringLiteral("action.new"));
  shortcut(newAction_, QKeySequence::New, QStringLiteral("Ctrl+N"));
  newAction_->setStatusTip(tr("Start a new configuration with default values"));
  connect(newAction_, &QAction::triggered, this, &MainWindow::newDocument);

  openAction_ =
      new QAction(icon("document-open", QStyle::SP_DialogOpenButton), tr("&Open..."), this);
  openAction_->setObjectName(QStringLiteral("action.open"));
  shortcut(openAction_, QKeySequence::Open, QStringLiteral("Ctrl+O"));
  openAction_->setStatusTip(tr("Open a configuration YAML file"));
  connect(openAction_, &QAction::triggered, this, &MainWindow::chooseFileToOpen);

  saveAction_ = new QAction(icon("document-save", QStyle::SP_DialogSaveButton), tr("&Save"), this);
  saveAction_->setObjectName(QStringLiteral("action.save"));
  shortcut(saveAction_, QKeySequence::Save, QStringLiteral("Ctrl+S"));
  saveAction_->setStatusTip(tr("Save the configuration"));
  connect(saveAction_, &QAction::triggered, this, &MainWindow::saveFile);

  saveAsAction_ =
      new QAction(icon("document-save-as", QStyle::SP_DialogSaveButton), tr("Save &As..."), this);
  saveAsAction_->setObjectName(QStringLiteral("action.saveAs"));
  shortcut(saveAsAction_, QKeySequence::SaveAs, QStringLiteral("Ctrl+Shift+S"));
  saveAsAction_->setStatusTip(tr("Save the configuration under a new name"));
  connect(saveAsAction_, &QAction::triggered, this, &MainWindow::chooseFileToSaveAs);

  quitAction_ =
      new QAction(icon("application-exit", QStyle::SP_DialogCloseButton), tr("&Quit"), this);
  quitAction_->setObjectName(QStringLiteral("action.quit"));
  shortcut(quitAction_, QKeySequence::Quit, QStringLiteral("Ctrl+Q"));
  quitAction_->setMenuRole(QAction::QuitRole);
  quitAction_->setStatusTip(tr("Quit SyncBN Studio"));
  connect(quitAction_, &QAction::triggered, this, &QWidget::close);

  aboutAction_ = new QAction(icon("help-about", QStyle::SP_MessageBoxInformation),
                             tr("&About SyncBN Studio"), this);
  aboutAction_->setObjectName(QStringLiteral("action.about"));
  aboutAction_->setMenuRole(QAction::AboutRole);
  connect(aboutAction_, &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->setObjectName(QStringLiteral("fileMenu"));
  file->addAction(newAction_);
  file->addAction(openAction_);
  auto* recent = new RecentFilesMenu(recentFiles_, file);
  connect(recent, &RecentFilesMenu::fileChosen, this, &MainWindow::openFile);
  file->addMenu(recent);
  file->addSeparator();
  file->addAction(saveAction_);
  file->addAction(saveAsAction_);
  file->addSeparator();
  file->addAction(quitAction_);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->setObjectName(QStringLiteral("viewMenu"));
  view->addAction(problemsDock_->toggleViewAction());

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->setObjectName(QStringLiteral("helpMenu"));
  help->addAction(aboutAction_);
  help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::createToolBar() {
  QToolBar* toolBar = addToolBar(tr("File"));
  toolBar->setObjectName(QStringLiteral("fileToolBar"));
  toolBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  toolBar->setMovable(false);
  toolBar->addAction(newAction_);
  toolBar->addAction(openAction_);
  toolBar->addAction(saveAction_);
}

void MainWindow::createPages() {
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

  row->addWidget(pageList_);
  row->addWidget(divider);
  row->addWidget(pageStack_, 1);
  setCentralWidget(central);
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
  statusSummary_ = new QLabel(this);
  statusSummary_->setObjectName(QStringLiteral("diagnosticsSummary"));
  statusBar()->addPermanentWidget(statusSummary_);
}

bool MainWindow::loadFile(const QString& path) {
  const LoadResult result = document_->load(path);
  if (!result.opened) {
    QMessageBox box(
        QMessageBox::Warning, tr("Cannot Open Configuration"),
        tr("%1 could not be opened as a configuration.").arg(QDir::toNativeSeparators(path)),
        QMessageBox::Ok, this);
    box.setObjectName(QStringLiteral("openFailedBox"));
    box.setInformativeText(formatDiagnostics(result.diagnostics));
    box.exec();
    if (!QFileInfo::exists(path)) recentFiles_->remove(path);
    return false;
  }
  recentFiles_->add(document_->filePath());
  rememberDirectory(document_->filePath());
  reportLoadProblems(path, result);
  return true;
}

void MainWindow::chooseFileToOpen() {
  if (!confirmDiscardingChanges()) return;
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Open Configuration"), dialogDirectory(),
                                   tr("Configuration YAML (*.yaml *.yml);;All files (*)"));
  if (!path.isEmpty()) loadFile(path);
}

bool MainWindow::chooseFileToSaveAs() {
  QFileDialog dialog(this, tr("Save Configuration As"), dialogDirectory(),
                     tr("Configuration YAML (*.yaml *.yml);;All files (*)"));
  dialog.setAcceptMode(QFileDialog::AcceptSave);
  dialog.setDefaultSuffix(QStringLiteral("yaml"));
  if (!document_->filePath().isEmpty()) dialog.selectFile(document_->filePath());
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty()) return false;
  return saveFileAs(dialog.selectedFiles().constFirst());
}

bool MainWindow::confirmDiscardingChanges() {
  if (!document_->isModified()) return true;
  QMessageBox box(QMessageBox::Warning, tr("Unsaved Changes"),
                  tr("%1 has unsaved changes.").arg(document_->displayName()),
                  QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, this);
  box.setObjectName(QStringLiteral("unsavedChangesBox"));
  box.setInformativeText(tr("Do you want to save them first?"));
  box.setDefaultButton(QMessageBox::Save);
  switch (box.exec()) {
    case QMessageBox::Save:
      return saveFile();
    case QMessageBox::Discard:
      return true;
    default:
      return false;
  }
}

void MainWindow::reportLoadProblems(const QString& path, const LoadResult& result) {
  const QString name = QFileInfo(path).fileName();
  if (result.diagnostics.empty()) {
    statusBar()->showMessage(tr("Opened %1").arg(name), kStatusMessageMs);
    return;
  }
  statusBar()->showMessage(tr("Opened %1 with %n problem(s); see Problems", nullptr,
                              static_cast<int>(result.diagnostics.size()))
                               .arg(name),
                           kStatusMessageMs);
  // Fields with unusable values now hold defaults: the user must see that before saving.
  problemsDock_->show();
  problemsDock_->raise();
}

void MainWindow::showAbout() {
  QMessageBox::about(
      this, tr("About SyncBN Studio"),
      tr("<h3>SyncBN Studio %1</h3>"
         "<p>Configure and monitor multi-GPU YOLO training with synchronized BatchNorm.</p>"
         "<p>Built with Qt %2; running on Qt %3.</p>")
          .arg(QString::fromLatin1(syncbn::kVersion), QStringLiteral(QT_VERSION_STR),
               QString::fromLatin1(qVersion())));
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

QString MainWindow::dialogDirectory() const {
  if (!document_->filePath().isEmpty()) return QFileInfo(document_->filePath()).absolutePath();
  return QSettings().value(kDirectoryKey, QDir::homePath()).toString();
}

void MainWindow::rememberDirectory(const QString& filePath) {
  QSettings().setValue(kDirectoryKey, QFileInfo(filePath).absolutePath());
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
