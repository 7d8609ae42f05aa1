// The Train mode: one run's live monitor. A status line (state, epoch, iteration, ETA,
// throughput, best mAP50-95), a banner when the run failed, the loss, oscillation, learning-rate,
// throughput and validation plots, and below them the ranks table, the per-class table of the
// latest validation, and the log. Shows whichever RunStore it is given.
#pragma once

#include <QPointer>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QTableView;
class QTabWidget;

namespace studio {

class BnView;
class ClassMetricsModel;
class DiagnosisPanel;
class LogView;
class LossPlot;
class OscillationPlot;
class RankTimingModel;
class ReplotScheduler;
class RunStatusLine;
class RunStore;
class SeriesPlot;
class ValidationPlot;
enum class XAxisMode;

class MonitorView : public QWidget {
  Q_OBJECT

 public:
  explicit MonitorView(QWidget* parent = nullptr);

  void setStore(RunStore* store);
  RunStore* store() const { return store_; }

  ReplotScheduler* scheduler() const { return scheduler_; }
  LossPlot* lossPlot() const { return loss_; }
  OscillationPlot* oscillationPlot() const { return oscillation_; }
  SeriesPlot* learningRatePlot() const { return lr_; }
  SeriesPlot* throughputPlot() const { return throughput_; }
  ValidationPlot* validationPlot() const { return validation_; }
  RunStatusLine* statusLine() const { return status_; }
  LogView* logView() const { return log_; }
  QTableView* ranksTable() const { return ranks_; }
  QTableView* classesTable() const { return classes_; }
  QLabel* oscillationBadge() const { return badge_; }
  QTabWidget* detailTabs() const { return tabs_; }
  // Overview (the plots above) and BatchNorm (the diagnosis and the per-layer view).
  QTabWidget* viewTabs() const { return views_; }
  BnView* bnView() const { return bn_; }
  DiagnosisPanel* diagnosisPanel() const { return diagnosis_; }
  QLabel* diagnosisBanner() const { return banner_; }
  void showBatchNorm();

  void setXAxisMode(XAxisMode mode);
  void setSmoothingWeight(double weight);
  void setRankOverlay(bool shown);

 private:
  QWidget* createControls();
  QWidget* createPlots();
  QWidget* createDetails();
  QWidget* createBatchNorm();
  void updateBanner();
  void updateBadge();
  void readSettings();

  QPointer<RunStore> store_;
  ReplotScheduler* scheduler_;
  RunStatusLine* status_ = nullptr;
  LossPlot* loss_ = nullptr;
  OscillationPlot* oscillation_ = nullptr;
  SeriesPlot* lr_ = nullptr;
  SeriesPlot* throughput_ = nullptr;
  ValidationPlot* validation_ = nullptr;
  QLabel* badge_ = nullptr;
  QComboBox* xAxis_ = nullptr;
  QSlider* smoothing_ = nullptr;
  QLabel* smoothingValue_ = nullptr;
  QCheckBox* rankOverlay_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QTableView* ranks_ = nullptr;
  QTableView* classes_ = nullptr;
  RankTimingModel* rankModel_ = nullptr;
  ClassMetricsModel* classModel_ = nullptr;
  LogView* log_ = nullptr;
  QTabWidget* views_ = nullptr;
  BnView* bn_ = nullptr;
  DiagnosisPanel* diagnosis_ = nullptr;
  QLabel* banner_ = nullptr;
};

}  // namespace studio
