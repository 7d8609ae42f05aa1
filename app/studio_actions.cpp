#include "app/studio_actions.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QIcon>
#include <QStyle>
#include <QWidget>

namespace studio {
namespace {

QAction* make(QWidget* window, const char* name, const QIcon& icon) {
  auto* action = new QAction(icon, QString(), window);
  action->setObjectName(QString::fromLatin1(name));
  window->addAction(action);  // shortcuts work whatever menu or bar shows it
  return action;
}

// A platform without a standard binding for an action gets the common one.
void setShortcut(QAction* action, QKeySequence::StandardKey key, const QString& fallback) {
  if (QKeySequence::keyBindings(key).isEmpty())
    action->setShortcut(QKeySequence(fallback));
  else
    action->setShortcuts(key);
}

// The tooltip names the shortcut, for the actions mostly reached from buttons and the toolbar.
void setTexts(QAction* action, const QString& text, const QString& tip, bool tipShortcut = false) {
  action->setText(text);
  action->setStatusTip(tip);
  action->setToolTip(tipShortcut && !action->shortcut().isEmpty()
                         ? QStringLiteral("%1 (%2)").arg(
                               tip, action->shortcut().toString(QKeySequence::NativeText))
                         : tip);
}

}  // namespace

StudioActions::StudioActions(QWidget* window) : QObject(window) {
  const QStyle* style = window->style();
  const auto icon = [style](const char* themeName, QStyle::StandardPixmap fallback) {
    return QIcon::fromTheme(QString::fromLatin1(themeName), style->standardIcon(fallback));
  };

  newFile = make(window, "action.new", icon("document-new", QStyle::SP_FileIcon));
  setShortcut(newFile, QKeySequence::New, QStringLiteral("Ctrl+N"));
  open = make(window, "action.open", icon("document-open", QStyle::SP_DialogOpenButton));
  setShortcut(open, QKeySequence::Open, QStringLiteral("Ctrl+O"));
  save = make(window, "action.save", icon("document-save", QStyle::SP_DialogSaveButton));
  setShortcut(save, QKeySequence::Save, QStringLiteral("Ctrl+S"));
  saveAs = make(window, "action.saveAs", icon("document-save-as", QStyle::SP_DialogSaveButton));
  setShortcut(saveAs, QKeySequence::SaveAs, QStringLiteral("Ctrl+Shift+S"));
  openRun = make(window, "action.openRun", icon("folder-open", QStyle::SP_DirOpenIcon));
  openRun->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+O")));
  preferences = make(window, "action.preferences",
                     icon("preferences-system", QStyle::SP_FileDialogDetailedView));
  setShortcut(preferences, QKeySequence::Preferences, QStringLiteral("Ctrl+,"));
  preferences->setMenuRole(QAction::PreferencesRole);
  quit = make(window, "action.quit", icon("application-exit", QStyle::SP_DialogCloseButton));
  setShortcut(quit, QKeySequence::Quit, QStringLiteral("Ctrl+Q"));
  quit->setMenuRole(QAction::QuitRole);

  start = make(window, "action.start", icon("media-playback-start", QStyle::SP_MediaPlay));
  start->setShortcut(QKeySequence(QStringLiteral("Ctrl+R")));
  stop = make(window, "action.stop", icon("media-playback-stop", QStyle::SP_MediaStop));
  stop->setShortcut(QKeySequence(QStringLiteral("Ctrl+.")));
  kill = make(window, "action.kill", icon("process-stop", QStyle::SP_BrowserStop));
  kill->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+.")));
  resume = make(window, "action.resume", icon("media-seek-forward", QStyle::SP_MediaSeekForward));
  resume->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+R")));
  checkpointNow =
      make(window, "action.checkpointNow", icon("document-save", QStyle::SP_DriveHDIcon));
  checkpointNow->setShortcut(QKeySequence(QStringLiteral("Ctrl+K")));
  abTest = make(window, "action.abTest", icon("view-split-left-right", QStyle::SP_BrowserReload));
  abTest->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+B")));
  launchElsewhere =
      make(window, "action.launchElsewhere", icon("network-server", QStyle::SP_DriveNetIcon));
  launchElsewhere->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+L")));

  exportWeights =
      make(window, "action.exportWeights", icon("document-export", QStyle::SP_DialogSaveButton));
  exportWeights->setShortcut(QKeySequence(QStringLiteral("Ctrl+E")));
  predictPreview =
      make(window, "action.predictPreview", icon("edit-find", QStyle::SP_FileDialogContentsView));
  predictPreview->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+P")));

  modes = new QActionGroup(this);
  configureMode =
      make(window, "action.mode.configure", style->standardIcon(QStyle::SP_FileDialogContentsView));
  configureMode->setShortcut(QKeySequence(QStringLiteral("Ctrl+1")));
  trainMode = make(window, "action.mode.train", style->standardIcon(QStyle::SP_ComputerIcon));
  trainMode->setShortcut(QKeySequence(QStringLiteral("Ctrl+2")));
  runsMode = make(window, "action.mode.runs", style->standardIcon(QStyle::SP_DirIcon));
  runsMode->setShortcut(QKeySequence(QStringLiteral("Ctrl+3")));
  compareMode =
      make(window, "action.mode.compare", style->standardIcon(QStyle::SP_FileDialogListView));
  compareMode->setShortcut(QKeySequence(QStringLiteral("Ctrl+4")));
  for (QAction* mode : {configureMode, trainMode, runsMode, compareMode}) {
    mode->setCheckable(true);
    modes->addAction(mode);
  }
  configureMode->setChecked(true);
  compareRuns =
      make(window, "action.compareRuns", style->standardIcon(QStyle::SP_FileDialogListView));
  compareRuns->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+C")));

  languages = new QActionGroup(this);
  languageSystem = make(window, "action.language.system", QIcon());
  languageEnglish = make(window, "action.language.en", QIcon());
  languageChinese = make(window, "action.language.zh_CN", QIcon());
  for (QAction* language : {languageSystem, languageEnglish, languageChinese}) {
    language->setCheckable(true);
    languages->addAction(language);
  }
  languageSystem->setChecked(true);

  documentation =
      make(window, "action.documentation", icon("help-contents", QStyle::SP_DialogHelpButton));
  setShortcut(documentation, QKeySequence::HelpContents, QStringLiteral("F1"));
  reportProblem =
      make(window, "action.reportProblem", icon("tools-report-bug", QStyle::SP_MessageBoxWarning));
  about = make(window, "action.about", icon("help-about", QStyle::SP_MessageBoxInformation));
  about->setMenuRole(QAction::AboutRole);
  aboutQt = make(window, "action.aboutQt", QIcon());
  aboutQt->setMenuRole(QAction::AboutQtRole);
  connect(aboutQt, &QAction::triggered, qApp, &QApplication::aboutQt);

  retranslate();
  update({});
}

void StudioActions::retranslate() {
  setTexts(newFile, tr("&New"), tr("Start a new configuration with default values"));
  setTexts(open, tr("&Open..."), tr("Open a configuration YAML file"));
  setTexts(save, tr("&Save"), tr("Save the configuration"));
  setTexts(saveAs, tr("Save &As..."), tr("Save the configuration under a new name"));
  setTexts(openRun, tr("Open &Run..."),
           tr("Show a run directory's curves: finished, or still training from a terminal"), true);
  setTexts(preferences, tr("&Preferences..."), tr("Choose the engine the studio starts"));
  setTexts(quit, tr("&Quit"), tr("Quit SyncBN Studio"));

  setTexts(start, tr("&Start Training"), tr("Train with this configuration"), true);
  setTexts(stop, tr("S&top"), tr("Stop after this iteration and save weights/last.pt"), true);
  setTexts(kill, tr("&Kill"), tr("End the engine and its ranks at once, without saving"), true);
  setTexts(resume, tr("&Resume"), tr("Continue the run from its weights/last.pt"), true);
  setTexts(checkpointNow, tr("&Checkpoint Now"), tr("Save weights/last.pt after this iteration"),
           true);
  setTexts(abTest, tr("&A/B: BN vs SyncBN..."),
           tr("Train this configuration twice for a few epochs, once with BN and once with "
              "SyncBN, and compare them"),
           true);
  setTexts(launchElsewhere, tr("&Launch Elsewhere..."),
           tr("This configuration as a torchrun command per node, a Slurm batch script or a "
              "Kubernetes PyTorchJob"),
           true);

  setTexts(exportWeights, tr("&Export Weights..."),
           tr("Write the run's best or last weights as ONNX or TorchScript, checked "
              "in their own runtime"),
           true);
  setTexts(predictPreview, tr("&Predict Preview..."),
           tr("Pick images and see the boxes the run's weights find in them"), true);

  setTexts(configureMode, tr("&Configure"),
           tr("Edit the dataset, model, training and distributed settings"));
  setTexts(trainMode, tr("&Train"), tr("Watch the current run: losses, validation, ranks, log"));
  setTexts(runsMode, tr("R&uns"), tr("The runs of the project folder"));
  setTexts(compareMode, tr("Co&mpare"), tr("Two or more runs overlaid on shared axes"));
  setTexts(compareRuns, tr("&Compare Selected Runs"),
           tr("Overlay the runs selected in Runs: losses, oscillation, validation and "
              "BatchNorm figures"),
           true);

  // A language is named in its own words, so that a user who cannot read the current one still
  // finds theirs.
  setTexts(languageSystem, tr("&System"), tr("The language of this computer's settings"));
  setTexts(languageEnglish, QStringLiteral("English"), QStringLiteral("English"));
  setTexts(languageChinese, QStringLiteral("简体中文"), QStringLiteral("简体中文"));

  setTexts(documentation, tr("&Documentation"),
           tr("Open the README and docs/ of this installation"));
  setTexts(reportProblem, tr("&Report a Problem..."),
           tr("Copy the versions, system, devices and the run's last log lines for a "
              "bug report"));
  setTexts(about, tr("&About SyncBN Studio"), tr("Versions and what SyncBN Studio is"));
  setTexts(aboutQt, tr("About &Qt"), tr("The Qt version in use"));
}

void StudioActions::update(const RunState& state) {
  start->setEnabled(!state.active);
  stop->setEnabled(state.active && !state.stopping);
  kill->setEnabled(state.active && state.canKill);
  checkpointNow->setEnabled(state.active && state.connected && !state.stopping);
  resume->setEnabled(!state.active && state.resumable);
  abTest->setEnabled(!state.active);
  compareRuns->setEnabled(state.comparable);
  exportWeights->setEnabled(state.exportable);
  predictPreview->setEnabled(state.exportable);
}

}  // namespace studio
