// "Launch elsewhere": the configuration being edited as a torchrun command per node, a Slurm
// batch script and a Kubeflow PyTorchJob (common/launch_forms.h), for the launchers users
// already run at scale. The nodes, ranks per node and rendezvous are edited here; Copy writes
// the configuration (with those settings) and the chosen form into a folder, then puts the
// command on the clipboard.
#pragma once

#include <QDialog>

#include "common/config.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QTabWidget;

namespace studio {

class LaunchDialog : public QDialog {
  Q_OBJECT

 public:
  // `localGpus`: the CUDA devices of this machine, the default ranks per node when the
  // configuration does not name its devices.
  LaunchDialog(const syncbn::Config& config, const QString& configName, int localGpus,
               QWidget* parent = nullptr);

  enum Form { Torchrun, Slurm, Kubeflow };
  QString formText(Form form) const;
  // The configuration the forms launch: the edited one with this dialog's nodes and rendezvous.
  syncbn::Config launchedConfig() const;
  void setFolder(const QString& folder);
  void setNodes(int nodes, int ranksPerNode, const QString& masterAddr);
  // Writes <name>.yaml and the form's file into the folder and copies the command; false (and
  // the reason shown) when it could not. `written`: the files, for the caller to report.
  bool writeAndCopy(Form form, QStringList* written = nullptr);

 private:
  void regenerate();
  QString configPath() const;

  syncbn::Config config_;
  QString name_;
  QSpinBox* nodes_;
  QSpinBox* ranks_;
  QLineEdit* masterAddr_;
  QSpinBox* masterPort_;
  QLineEdit* engine_;
  QLineEdit* image_;
  QLineEdit* folder_;
  QLineEdit* remoteConfig_;
  QLabel* advice_;
  QTabWidget* tabs_;
  QPlainTextEdit* texts_[3] = {};
  QLabel* status_;
};

}  // namespace studio
