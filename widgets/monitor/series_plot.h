// LivePlots of a RunStore's per-iteration series: the generic one (learning rate, images/s),
// the loss plot with its per-rank overlay, and the oscillation index with its threshold.
#pragma once

#include <QColor>
#include <functional>
#include <memory>
#include <optional>

#include "stores/run_store.h"
#include "widgets/monitor/live_plot.h"

namespace studio {

class SeriesPlot : public LivePlot {
  Q_OBJECT

 public:
  using Source = std::function<const SeriesBuffer*(const RunStore&)>;
  enum class Style { Raw, Smoothed, RawAndSmoothed };
  struct Spec {
    QString name;
    QColor color;
    Source source;
    Style style = Style::Raw;
    Qt::PenStyle penStyle = Qt::SolidLine;
  };

  explicit SeriesPlot(ReplotScheduler* scheduler, QWidget* parent = nullptr);
  ~SeriesPlot() override;

  int addSeries(const Spec& spec);  // returns its index
  int seriesCount() const { return static_cast<int>(entries_.size()); }
  void clearSeries();
  // Which store updates bring new points (default: steps); the BatchNorm plots follow bn_stats.
  void setFeeds(int feeds) { feeds_ = feeds; }
  void setSeriesVisible(int index, bool visible);
  bool isSeriesVisible(int index) const;
  // TensorBoard's smoothing weight (0 = none, 0.99 = heavy) for the smoothed curves.
  void setSmoothingWeight(double weight);
  double smoothingWeight() const { return weight_; }
  void setValueLabel(const QString& label);
  // The graphs drawn for series `index`: raw first (when drawn), then smoothed.
  QList<QCPGraph*> graphsOf(int index) const;

 protected:
  void syncData(bool rebuild) override;
  void storeChanged() override;
  int feeds() const override { return feeds_; }

 private:
  struct Entry;
  std::vector<std::unique_ptr<Entry>> entries_;
  double weight_ = 0.6;
  int feeds_ = Steps | Validation;
};

// box, cls, dfl and their total, raw values faint with the smoothed curve on top; optionally each
// rank's total, smoothed, dashed (the ranks' losses part when their BatchNorm statistics do).
class LossPlot : public SeriesPlot {
  Q_OBJECT

 public:
  explicit LossPlot(ReplotScheduler* scheduler, QWidget* parent = nullptr);
  void setRankOverlay(bool shown);
  bool rankOverlay() const { return rankOverlay_; }
  int termSeries(LossTerm term) const { return static_cast<int>(term); }

 protected:
  void syncData(bool rebuild) override;

 private:
  void addRankSeries(int ranks);
  bool rankOverlay_ = false;
  int ranksAdded_ = 0;
};

// The oscillation index (docs/monitor.md) with a dashed line at the threshold.
class OscillationPlot : public SeriesPlot {
  Q_OBJECT

 public:
  explicit OscillationPlot(ReplotScheduler* scheduler, QWidget* parent = nullptr);
  double threshold() const { return threshold_; }

 protected:
  void rescaleToData() override;

 private:
  double threshold_;
  QCPItemStraightLine* thresholdLine_;
};

// Precision, recall, mAP50 and mAP50-95 per epoch, the best epoch (by fitness) marked.
class ValidationPlot : public LivePlot {
  Q_OBJECT

 public:
  explicit ValidationPlot(ReplotScheduler* scheduler, QWidget* parent = nullptr);
  std::optional<int> markedBestEpoch() const;  // 1-based, as the axis shows it

 protected:
  void syncData(bool rebuild) override;
  void rescaleToData() override;
  QString xTitle() const override;
  int feeds() const override { return Validation; }

 private:
  // Markers on each epoch's point while they stay apart; a long run draws plain lines.
  static constexpr std::size_t kMarkedEpochs = 60;
  std::array<QCPGraph*, 4> graphs_{};
  QCPItemStraightLine* bestLine_;
  QCPItemText* bestLabel_;
  std::size_t shown_ = 0;
};

QColor lossTermColor(LossTerm term);
QColor rankColor(int rank);
// `color` mixed with white: the faint raw curve under a smoothed one, opaque (alpha is costly on
// dense series).
QColor faint(const QColor& color);

}  // namespace studio
