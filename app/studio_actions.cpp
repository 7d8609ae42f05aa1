#include "app/studio_actions.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QIcon>
#include <QStyle>
#include <QWidget>

namespace studio {
namespace {

QAction* make(QWidget* window, const char* name, const QIcon& icon, const QString& text,
              const QString& tip) {
  auto* action = new QAction(icon, text, window);
  action->setObjectName(QString::fromLatin1(name));
  action->setStatusTip(tip);
  action->setToolTip(tip);
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

QString withShortcut(const QString& tip, const QAction* action) {
  if (action->shortcut().isEmpty()) return tip;
  return QStringLiteral("%1 (%2)").arg(tip, action->shortcut().toString(QKeySequence::NativeText));
}

}  // namespace

StudioActions::StudioActions(QWidget* window) : QObject(window) {
  const QStyle* style = window->style();
  const auto icon = [style](const char* themeName, QStyle::StandardPixmap fallback) {
    return QIcon::fromTheme(QString::fromLatin1(themeName), style->standardIcon(fallback));
  };

  newFile = make(window, "action.new", icon("document-new", QStyle::SP_FileIcon), tr("&New"),
                 tr("Start a new configuration with default values"));
  setShortcut(newFile, QKeySequence::New, QStringLiteral("Ctrl+N"));
  open = make(window, "action.open", icon("document-open", QStyle::SP_DialogOpenButton),
              tr("&Open..."), tr("Open a configuration YAML file"));
  setShortcut(open, QKeySequence::Open, QStringLiteral("Ctrl+O"));
  save = make(window, "action.save", icon("document-save", QStyle::SP_DialogSaveButton),
              tr("&Save"), tr("Save the configuration"));
  setShortcut(save, QKeySequence::Save, QStringLiteral("Ctrl+S"));
  saveAs = make(window, "action.saveAs", icon("document-save-as", QStyle::SP_DialogSaveButton),
                tr("Save &As..."), tr("Save the configuration under a new name"));
  setShortcut(saveAs, QKeySequence::SaveAs, QStringLiteral("Ctrl+Shift+S"));
  openRun = make(window, "action.openRun", icon("folder-open", QStyle::SP_DirOpenIcon),
                 tr("Open &Run..."),
                 tr("Show a run directory's curves: finished, or still training from a terminal"));
  openRun->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+O")));
  preferences = make(window, "action.preferences",
                     icon("preferences-system", QStyle::SP_FileDialogDetailedView),
                     tr("&Preferences..."), tr("Choose the engine the studio starts"));
  setShortcut(preferences, QKeySequence::Preferences, QStringLiteral("Ctrl+,"));
  preferences->setMenuRole(QAction::PreferencesRole);
  quit = make(window, "action.quit", icon("application-exit", QStyle::SP_DialogCloseButton),
              tr("&Quit"), tr("Quit SyncBN Studio"));
  setShortcut(quit, QKeySequence::Quit, QStringLiteral("Ctrl+Q"));
  quit->setMenuRole(QAction::QuitRole);

  start = make(window, "action.start", icon("media-playback-start", QStyle::SP_MediaPlay),
               tr("&Start Training"), tr("Train with this configuration"));
  start->setShortcut(QKeySequence(QStringLiteral("Ctrl+R")));
  stop = make(window, "action.stop", icon("media-playback-stop", QStyle::SP_MediaStop), tr("S&top"),
              tr("Stop after this iteration and save weights/last.pt"));
  stop->setShortcut(QKeySequence(QStringLiteral("Ctrl+.")));
  kill = make(window, "action.kill", icon("process-stop", QStyle::SP_BrowserStop), tr("&Kill"),
              tr("End the engine and its ranks at once, without saving"));
  kill->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+.")));
  resume = make(window, "action.resume", icon("media-seek-forward", QStyle::SP_MediaSeekForward),
                tr("&Resume"), tr("Continue the run from its weights/last.pt"));
  resume->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+R")));
  checkpointNow =
      make(window, "action.checkpointNow", icon("document-save", QStyle::SP_DriveHDIcon),
           tr("&Checkpoint Now"), tr("Save weights/last.pt after this iteration"));
  checkpointNow->setShortcut(QKeySequence(QStringLiteral("Ctrl+K")));

  abTest = make(window, "action.abTest", icon("view-split-left-right", QStyle::SP_BrowserReload),
                tr("&A/B: BN vs SyncBN..."),
                tr("Train this configuration twice for a few epochs, once with BN and once with "
                   "SyncBN, and compare them"));
  abTest->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+B")));

  launchElsewhere =
      make(window, "action.launchElsewhere", icon("network-server", QStyle::SP_DriveNetIcon),
           tr("&Launch Elsewhere..."),
           tr("This configuration as a torchrun command per node, a Slurm batch script or a "
              "Kubernetes PyTorchJob"));
  launchElsewhere->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+L")));

  exportWeights =
      make(window, "action.exportWeights", icon("document-export", QStyle::SP_DialogSaveButton),
           tr("&Export Weights..."),
           tr("Write the run's best or last weights as ONNX or TorchScript, checked "
              "in their own runtime"));
  exportWeights->setShortcut(QKeySequence(QStringLiteral("Ctrl+E")));
  predictPreview =
      make(window, "action.predictPreview", icon("edit-find", QStyle::SP_FileDialogContentsView),
           tr("&Predict Preview..."),
           tr("Pick images and see the boxes the run's weights find in them"));
  predictPreview->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+P")));

  modes = new QActionGroup(this);
  configureMode =
      make(window, "action.mode.configure", style->standardIcon(QStyle::SP_FileDialogContentsView),
           tr("&Configure"), tr("Edit the dataset, model, training and distributed settings"));
  configureMode->setShortcut(QKeySequence(QStringLiteral("Ctrl+1")));
  trainMode = make(window, "action.mode.train", style->standardIcon(QStyle::SP_ComputerIcon),
                   tr("&Train"), tr("Watch the current run: losses, validation, ranks, log"));
  trainMode->setShortcut(QKeySequence(QStringLiteral("Ctrl+2")));
  runsMode = make(window, "action.mode.runs", style->standardIcon(QStyle::SP_DirIcon), tr("R&uns"),
                  tr("The runs of the project folder"));
  runsMode->setShortcut(QKeySequence(QStringLiteral("Ctrl+3")));
  compareMode =
      make(window, "action.mode.compare", style->standardIcon(QStyle::SP_FileDialogListView),
           tr("Co&mpare"), tr("Two or more runs overlaid on shared axes"));
  compareMode->setShortcut(QKeySequence(QStringLiteral("Ctrl+4")));
  compareRuns =
      make(window, "action.compareRuns", style->standardIcon(QStyle::SP_FileDialogListView),
           tr("&Compare Selected Runs"),
           tr("Overlay the runs selected in Runs: losses, oscillation, validation and "
              "BatchNorm figures"));
  compareRuns->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+C")));
  for (QAction* mode : {configureMode, trainMode, runsMode, compareMode}) {
    mode->setCheckable(true);
    modes->addAction(mode);
  }
  configureMode->setChecked(true);

  documentation =
      make(window, "action.documentation", icon("help-contents", QStyle::SP_DialogHelpButton),
           tr("&Documentation"), tr("Open the README and docs/ of this installation"));
  setShortcut(documentation, QKeySequence::HelpContents, QStringLiteral("F1"));
  reportProblem =
      make(window, "action.reportProblem", icon("tools-report-bug", QStyle::SP_MessageBoxWarning),
           tr("&Report a Problem..."),
           tr("Copy the versions, system, devices and the run's last log lines for a "
              "bug report"));
  about = make(window, "action.about", icon("help-about", QStyle::SP_MessageBoxInformation),
               tr("&About SyncBN Studio"), tr("Versions and what SyncBN Studio is"));
  about->setMenuRole(QAction::AboutRole);
  aboutQt = make(window, "action.aboutQt", QIcon(), tr("About &Qt"), tr("The Qt version in use"));
  aboutQt->setMenuRole(QAction::AboutQtRole);
  connect(aboutQt, &QAction::triggered, qApp, &QApplication::aboutQt);

  for (QAction* action : {start, stop, kill, resume, checkpointNow, openRun, abTest, compareRuns,
                          exportWeights, predictPreview, launchElsewhere})
    action->setToolTip(withShortcut(action->toolTip(), action));
  update({});
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
