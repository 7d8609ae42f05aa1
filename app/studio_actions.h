// Every QAction of the studio, made in one place so that menus, the toolbar and shortcuts agree,
// and enabled in one place (update) from the session's and the document's state.
#pragma once

#include <QObject>

class QAction;
class QActionGroup;
class QWidget;

namespace studio {

class StudioActions : public QObject {
  Q_OBJECT

 public:
  explicit StudioActions(QWidget* window);

  // File
  QAction* newFile;
  QAction* open;
  QAction* save;
  QAction* saveAs;
  QAction* openRun;
  QAction* preferences;
  QAction* quit;
  // Run
  QAction* start;
  QAction* stop;
  QAction* kill;
  QAction* resume;
  QAction* checkpointNow;
  QAction* abTest;           // A/B: the configuration once with BN, once with SyncBN
  QAction* launchElsewhere;  // the configuration for torchrun, Slurm or Kubernetes

  QAction* exportWeights;   // the current or selected run's weights as ONNX or TorchScript
  QAction* predictPreview;  // its boxes drawn over images the user picks
  // View: the four modes, one checked at a time
  QAction* configureMode;
  QAction* trainMode;
  QAction* runsMode;
  QAction* compareMode;
  QActionGroup* modes;
  // Runs
  QAction* compareRuns;  // the Runs list's selection, overlaid in the Compare mode
  // View > Language, one checked at a time
  QAction* languageSystem;
  QAction* languageEnglish;
  QAction* languageChinese;
  QActionGroup* languages;
  // Help
  QAction* documentation;  // the README of this installation
  QAction* reportProblem;  // versions, system, devices and the last log lines to the clipboard
  QAction* about;
  QAction* aboutQt;

  struct RunState {
    bool active = false;      // an engine is running
    bool stopping = false;    // a stop was asked for
    bool canKill = false;     // the stop grace period has passed
    bool connected = false;   // the engine is connected (it takes commands)
    bool resumable = false;   // the current or selected run has weights/last.pt
    bool comparable = false;  // two or more runs are selected in the Runs list
    bool exportable = false;  // the current or selected run has weights
  };
  void update(const RunState& state);
  // The texts and tooltips in the language installed now (after a language change).
  void retranslate();
};

}  // namespace studio
