// Coalesces the monitor's redraws: a plot with new data asks for one, and at most every
// kIntervalMs the scheduler refreshes the plots that asked and are visible (about 30 Hz, as in
// QCustomPlot's realtime example). A hidden plot keeps its request until it is shown.
#pragma once

#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace studio {

class LivePlot;

class ReplotScheduler : public QObject {
  Q_OBJECT

 public:
  static constexpr int kIntervalMs = 33;

  explicit ReplotScheduler(QObject* parent = nullptr);

  void request(LivePlot* plot);
  // Refreshes every visible plot that asked, now (the timer does this; tests and the
  // benchmark call it to run a frame on their own clock).
  void flush();
  int pending() const { return static_cast<int>(requests_.size()); }

 signals:
  void flushed(int plotsRefreshed);

 private:
  QTimer timer_;
  QList<QPointer<LivePlot>> requests_;
};

}  // namespace studio
