// The monitor's plots: QCustomPlot kept in step with a RunStore. New points are appended as they
// arrive, never redrawn from scratch per event; a graph is rebuilt only when the store has
// compacted or truncated the series it shows, or the x axis changes meaning. Redraws are queued
// by the ReplotScheduler, at most ~30 per second, and only for plots that are visible.
//
// Interaction, the same on every plot: the wheel zooms, dragging pans, a double-click goes back
// to following the newest data (which the plot does until the user zooms or pans), hovering
// shows the values under the cursor.
#pragma once

#include <qcustomplot.h>

#include <QPointer>
#include <functional>
#include <limits>
#include <vector>

#include "common/smoothing.h"

namespace studio {

class ReplotScheduler;
class RunStore;
class SeriesBuffer;

enum class XAxisMode { Iteration, Epoch, Time };
QString xAxisLabel(XAxisMode mode);  // translated

// A series key (the iteration) as the x of the current axis mode: the iteration, the epoch
// ((iteration + 1) / iterations per epoch, so epoch 3 ends at x = 3) or the seconds since the
// run started.
class KeyMapper {
 public:
  KeyMapper(const RunStore* store, XAxisMode mode);
  double operator()(double iteration) const;
  XAxisMode effectiveMode() const { return mode_; }  // Iteration when the record has no times

 private:
  const RunStore* store_;
  XAxisMode mode_;
  double iterationsPerEpoch_ = 1;
};

// One graph showing one SeriesBuffer, raw or smoothed (syncbn::DebiasedEma with a settable weight).
class SeriesGraph {
 public:
  SeriesGraph(QCPGraph* graph, bool smoothed);

  QCPGraph* graph() const { return graph_; }
  void setSource(const SeriesBuffer* source);
  void setSmoothingWeight(double weight);  // smoothed graphs only; rebuilds on the next sync
  // Appends what the source gained since the last sync, or rebuilds the graph when the source
  // reorganised itself (its generation changed) or `rebuild` is set.
  void sync(const KeyMapper& map, bool rebuild);
  bool hasData() const { return !graph_->data()->isEmpty(); }
  bool hasSource() const { return source_ != nullptr; }

 private:
  void rebuildFrom(const KeyMapper& map);
  QCPGraph* graph_;
  bool smoothed_;
  const SeriesBuffer* source_ = nullptr;
  std::uint64_t generation_ = 0;
  double lastKey_ = -std::numeric_limits<double>::infinity();
  syncbn::DebiasedEma ema_;
  bool dirty_ = true;
};

class LivePlot : public QCustomPlot {
  Q_OBJECT

 public:
  // Which of the store's updates bring a plot new data.
  enum Feed { Steps = 1, Validation = 2, BnStats = 4 };

  explicit LivePlot(ReplotScheduler* scheduler, QWidget* parent = nullptr);
  // The legend as one row above the axes, so it never covers the newest points.
  void placeLegendAbove();
  ~LivePlot() override;

  void setStore(RunStore* store);
  RunStore* store() const;
  void setXAxisMode(XAxisMode mode);
  XAxisMode xAxisMode() const { return mode_; }
  bool isFollowing() const { return following_; }
  // Follows the newest data again, with every point in view.
  void resetView();
  // Shown in the middle while the plot has nothing to draw ("Waiting for the first step").
  void setEmptyText(const QString& text);

  // Called by the scheduler: brings the graphs up to date and queues a redraw.
  void refresh();
  void markDirty();
  bool isDirty() const { return dirty_; }

  // The text the hover tooltip shows at plot coordinates (x, y).
  virtual QString valuesAt(double x, double y = 0) const;

 signals:
  void followingChanged(bool following);

 protected:
  // Brings graphs up to date with the store; `rebuild` after a store, axis or smoothing change.
  virtual void syncData(bool rebuild) = 0;
  // Called once per store change, before syncData(true): point graphs at the new store.
  virtual void storeChanged() {}
  virtual bool hasData() const;
  virtual int feeds() const { return Steps | Validation; }
  // The x range to show while following, and the y range for that x range.
  virtual void rescaleToData();
  KeyMapper keyMapper() const { return KeyMapper(store(), mode_); }
  virtual QString xTitle() const;

  void requestRebuild() {
    rebuild_ = true;
    markDirty();
  }

  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void showEvent(QShowEvent* event) override;

 private:
  void stopFollowing();

  ReplotScheduler* scheduler_;
  QPointer<RunStore> store_;
  XAxisMode mode_ = XAxisMode::Iteration;
  bool following_ = true;
  bool dirty_ = true;
  bool rebuild_ = true;
  QCPItemText* emptyLabel_ = nullptr;
};

}  // namespace studio
