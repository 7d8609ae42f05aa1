// Predict preview: pick images and see a checkpoint's (or an export's) boxes drawn over them.
// Runs `syncbn-engine predict --json` into a temporary folder (an EngineTask the shell hands
// over) and shows each annotated image with its detections; nothing is written to the run.
#pragma once

#include <QDialog>
#include <QTemporaryDir>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace studio {

class EngineTask;

class PredictDialog : public QDialog {
  Q_OBJECT

 public:
  PredictDialog(const QString& runDirectory, const QString& engine, const QString& workingDirectory,
                EngineTask* task, QWidget* parent = nullptr);

  void setImages(const QStringList& images);  // and predicts them
  QStringList arguments() const;
  int shownDetections() const { return shownDetections_; }
  QString statusText() const;

 public slots:
  void run();

 private:
  void chooseImages();
  void onFinished(int exitCode, const QString& message);
  void showImage(int row);

  QString engine_, workingDirectory_;
  EngineTask* task_;
  QTemporaryDir output_;
  QStringList images_;
  QComboBox* weights_;
  QDoubleSpinBox* conf_;
  QListWidget* list_;
  QLabel* picture_;
  QLabel* status_;
  QProgressBar* progress_;
  QPushButton* choose_;
  QPushButton* predict_;
  QPushButton* close_;
  QStringList annotated_;
  QStringList captions_;
  int shownDetections_ = 0;
  int runs_ = 0;
};

}  // namespace studio
