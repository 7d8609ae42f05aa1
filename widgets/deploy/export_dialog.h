// Export a run's weights for deployment: best or last, ONNX or TorchScript, image size, dynamic
// shapes, float16 weights and where to write; runs `syncbn-engine export --json` (an EngineTask
// the shell hands over) with progress and cancel, then shows the file, its size and the check
// report, and offers to show it in its folder. Failure shows the engine's message.
#pragma once

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace studio {

class EngineTask;

class ExportDialog : public QDialog {
  Q_OBJECT

 public:
  ExportDialog(const QString& runDirectory, const QString& engine, const QString& workingDirectory,
               EngineTask* task, QWidget* parent = nullptr);

  QStringList arguments() const;  // what Export runs
  QString resultText() const;
  QString outputPath() const;

 public slots:
  void run();

 private:
  void updateChoices();
  void onFinished(int exitCode, const QString& message);

  QString runDirectory_, engine_, workingDirectory_;
  EngineTask* task_;
  QComboBox* weights_;
  QComboBox* format_;
  QSpinBox* imgsz_;
  QCheckBox* dynamic_;
  QCheckBox* half_;
  QSpinBox* opset_;
  QLineEdit* output_;
  QProgressBar* progress_;
  QPlainTextEdit* log_;
  QLabel* result_;
  QPlainTextEdit* report_;
  QPushButton* start_;
  QPushButton* reveal_;
  QPushButton* close_;
  bool outputEdited_ = false;
};

}  // namespace studio
