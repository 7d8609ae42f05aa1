// Recalibrate with PreciseBN: pick a checkpoint of the run and how many training batches, run
// `syncbn-engine recalibrate` (an EngineTask the shell hands over), and show the validation
// before and after, and where the new checkpoint went. The run's own checkpoints are not touched.
#pragma once

#include <QDialog>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace studio {

class EngineTask;

class RecalibrateDialog : public QDialog {
  Q_OBJECT

 public:
  static constexpr int kDefaultBatches = 100;

  RecalibrateDialog(const QString& runDirectory, const QString& engine,
                    const QString& workingDirectory, EngineTask* task, QWidget* parent = nullptr);

  QStringList arguments() const;  // what Recalibrate runs
  QString resultText() const;

 public slots:
  void run();

 private:
  void onFinished(int exitCode, const QString& message);

  QString runDirectory_, engine_, workingDirectory_;
  EngineTask* task_;
  QComboBox* checkpoint_;
  QSpinBox* batches_;
  QLabel* output_;
  QProgressBar* progress_;
  QPlainTextEdit* log_;
  QLabel* result_;
  QPushButton* start_;
  QPushButton* close_;
};

}  // namespace studio
