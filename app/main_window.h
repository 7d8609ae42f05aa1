// The shell: the four modes (Configure, Train, Runs, Compare), the menus and toolbar built from
// StudioActions, the Problems dock and the status bar. It owns the stores (the configuration
// document, the engine session, the open runs, the run history) and connects them to the views
// and actions; the logic lives in those classes.
#pragma once

#include <QList>
#include <QMainWindow>
#include <QPointer>

#include "app/application.h"
#include "app/support_info.h"
#include "common/config.h"

class QComboBox;
class QDockWidget;
class QLabel;
class QListWidget;
class QStackedWidget;
class QTabWidget;
class QToolBar;

namespace studio {

class ConfigDocument;
class ConfigPage;
class EngineSession;
class EngineTask;
class FileController;
class MonitorView;
class ProblemsView;
class RecentFiles;
class RunHistory;
class RunLibrary;
class RunStore;
class RunsView;
class StudioActions;
class CompareView;
class DatasetCheck;
class DatasetPanel;
class DeviceList;
class ModelInfo;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  enum class Mode { Configure, Train, Runs, Compare };

  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  ConfigDocument* document() const { return document_; }
  RecentFiles* recentFiles() const { return recentFiles_; }
  ProblemsView* problemsView() const { return problemsView_; }
  EngineSession* session() const { return session_; }
  RunLibrary* runs() const { return runs_; }
  RunHistory* history() const { return history_; }
  MonitorView* monitor() const { return monitor_; }
  RunsView* runsView() const { return runsView_; }
  CompareView* compareView() const { return compareView_; }
  StudioActions* actions() const { return actions_; }
  DatasetCheck* datasetCheck() const { return datasetCheck_; }
  ModelInfo* modelInfo() const { return modelInfo_; }
  DeviceList* deviceList() const { return deviceList_; }
  DatasetPanel* datasetPanel() const { return datasetPanel_; }
  ConfigPage* page(const QString& pageId) const;

  bool openFile(const QString& path);
  bool saveFile();
  bool saveFileAs(const QString& path);
  void newDocument();

  void showPage(const QString& pageId);
  void showField(const QString& fieldPath);  // the page holding it, with its editor focused
  QString currentPageId() const;
  void showMode(Mode mode);
  Mode mode() const;

  // The Run menu's actions, also for tests. Each reports what went wrong to the user.
  bool startRun();
  bool resumeRun(const QString& runDirectory, const QStringList& overrides = {});
  bool openRun(const QString& runDirectory);
  // The run Resume would continue: the current run's directory when it has weights/last.pt,
  // else the Runs list's selection.
  QString resumableRun() const;
  // The run Export and Predict Preview work on: the Runs list's selection in the Runs mode, else
  // the current run; empty when it has no weights/best.pt or last.pt.
  QString exportableRun() const;
  // The Export menu's dialogs for `runDirectory` (modal; they run the engine's export/predict).
  void exportWeights(const QString& runDirectory);
  void predictPreview(const QString& runDirectory);
  // A new run from `runDirectory`'s weights/best.pt with the configuration being edited, once
  // the user agrees (restartWith).
  bool fineTuneFrom(const QString& runDirectory);
  // Run > Launch Elsewhere: the configuration for torchrun, Slurm or Kubeflow (modal).
  void launchElsewhere();
  // Help: the installation's README; the bug-report text to the clipboard; what About shows.
  void openDocumentation();
  void reportProblem();
  SupportInfo supportInfo() const;
  // View > Language: installs the language's translation, rebuilds the views in it at once and
  // remembers the choice for the next start.
  void setLanguage(Language language);
  // The one-click fixes of the BatchNorm diagnosis (common/bn_diagnosis.h ids): each says what
  // will change and asks before it runs.
  void applyFix(const QString& fix);
  // Opens the runs (at most RunLibrary::kMaxOpenRuns) and overlays them in the Compare mode.
  bool compareRuns(const QStringList& runDirectories);
  // A/B: the configuration for `epochs` epochs with norm=bn, then with norm=syncbn (same seed),
  // each in its own run directory (<name>-ab-bn, <name>-ab-syncbn), compared as they train.
  // Asks for the epochs first when `epochs` is 0. False when nothing was started.
  bool startAbTest(int epochs = 0);
  // The A/B runs still to start after the one training now.
  int pendingAbRuns() const { return static_cast<int>(abQueue_.size()); }

 protected:
  void closeEvent(QCloseEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  // The views over the stores: the modes, the Problems dock, the menus and the toolbar, with
  // their connections. Built once at start and again in a new language (retranslateUi).
  void buildViews();
  void retranslateUi();
  void connectActions();  // the actions' triggers, once
  void checkLanguageAction(Language language);
  void createMenus();
  void createToolBar();
  QWidget* createConfigureMode();
  QWidget* createTrainMode();
  void createProblemsDock();
  void createStatusBar();
  void connectSession();

  void chooseRunToOpen();
  void showPreferences();
  void confirmKill();
  void reportRunEnd();
  bool askAboutActiveRun();
  // Starts a run of `document`: the checks and reports of startRun, for any configuration.
  bool launch(const ConfigDocument& document);
  bool startNextAbRun();  // closing during a run; false: the user cancelled
  void showAbout();
  void updateRunSelector();
  // A new run with these configuration changes ((path, value) pairs), after the user saw them.
  bool restartWith(const QList<QPair<QString, QString>>& changes, const QString& title,
                   const QString& why);
  QString enginePath();  // empty after telling the user it is missing
  // Where the engine is, without asking: the pages' background checks report `why` inline.
  static QString locateEngine(QString* why);
  void addFeaturePanels();  // the Dataset, Model and Distributed pages' panels
  void updateActions();
  void updateProjectFolder();
  void updateTitle();
  void updateStatus();
  void readSettings();
  void writeSettings() const;

  ConfigDocument* document_;
  RecentFiles* recentFiles_;
  FileController* files_;
  EngineSession* session_;
  RunLibrary* runs_;
  RunHistory* history_;
  StudioActions* actions_;
  EngineTask* task_;
  DatasetCheck* datasetCheck_;
  ModelInfo* modelInfo_;
  DeviceList* deviceList_;
  DatasetPanel* datasetPanel_ = nullptr;

  QTabWidget* modes_ = nullptr;
  QListWidget* pageList_ = nullptr;
  QStackedWidget* pageStack_ = nullptr;
  QList<ConfigPage*> pages_;
  MonitorView* monitor_ = nullptr;
  QComboBox* runSelector_ = nullptr;
  RunsView* runsView_ = nullptr;
  CompareView* compareView_ = nullptr;
  QDockWidget* problemsDock_ = nullptr;
  QToolBar* toolBar_ = nullptr;
  ProblemsView* problemsView_ = nullptr;
  QLabel* statusSummary_ = nullptr;
  QLabel* runSummary_ = nullptr;
  bool closeWhenRunEnds_ = false;
  // A fix that continues the run once the engine has stopped and saved (directory, overrides).
  QString resumeWhenStopped_;
  QStringList resumeOverrides_;
  // A/B: the configurations still to train, and the runs trained so far.
  QList<syncbn::Config> abQueue_;
  QList<QPointer<RunStore>> abRuns_;
  bool problemsWanted_ = true;  // the Problems dock's visibility in the Configure mode
  Mode previousMode_ = Mode::Configure;
  Language shownLanguage_ = Language::English;  // the language the views were built in
};

}  // namespace studio
