#include "widgets/monitor/replot_scheduler.h"

#include "widgets/monitor/live_plot.h"

namespace studio {

ReplotScheduler::ReplotScheduler(QObject* parent) : QObject(parent) {
  timer_.setSingleShot(true);
  timer_.setInterval(kIntervalMs);
  connect(&timer_, &QTimer::timeout, this, &ReplotScheduler::flush);
}

void ReplotScheduler::request(LivePlot* plot) {
  if (!requests_.contains(plot)) requests_.append(plot);
  if (!timer_.isActive()) timer_.start();
}

void ReplotScheduler::flush() {
  timer_.stop();
  int refreshed = 0;
  QList<QPointer<LivePlot>> waiting;
  for (const QPointer<LivePlot>& plot : std::as_const(requests_)) {
    if (!plot) continue;
    if (!plot->isVisible()) {
      waiting.append(plot);  // refreshed when shown
      continue;
    }
    plot->refresh();
    ++refreshed;
  }
  requests_ = waiting;
  emit flushed(refreshed);
}

}  // namespace studio
