// The live monitor under load: step events through a RunStore into every monitor view
// (MonitorView: loss with the per-rank overlay, oscillation, lr, throughput, validation, ranks,
// classes, log), offscreen, the way the studio receives them from the engine.
//   bench_monitor [--steps 1000000] [--rate 200] [--ranks 2] [--per-epoch 1000] [--realtime S]
//
// Default (simulated clock): each 33 ms frame ingests rate * 33 ms events, then the replot
// scheduler refreshes the plots and the queued replots run. "redraw" is that refresh plus the
// replots; "stall" is the whole frame's GUI-thread work (ingest + redraw + model updates), the
// longest time the event loop could not answer. Peak memory is the process's maximum RSS.
// --realtime S instead runs S seconds on the real event loop at the given rate and reports the
// longest gap of a 5 ms heartbeat timer (the stall a user would feel).
#include <sys/resource.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QTimer>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "stores/log_model.h"
#include "stores/run_store.h"
#include "widgets/monitor/monitor_view.h"
#include "widgets/monitor/replot_scheduler.h"
#include "widgets/monitor/series_plot.h"

namespace {

namespace protocol = syncbn::protocol;

struct Options {
  long long steps = 1000000;
  double rate = 200;
  int ranks = 2;
  int perEpoch = 1000;
  double realtimeSeconds = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--steps")
      o.steps = std::atoll(value);
    else if (key == "--rate")
      o.rate = std::atof(value);
    else if (key == "--ranks")
      o.ranks = std::atoi(value);
    else if (key == "--per-epoch")
      o.perEpoch = std::atoi(value);
    else if (key == "--realtime")
      o.realtimeSeconds = std::atof(value);
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      std::exit(2);
    }
  }
  return o;
}

class EventSource {
 public:
  explicit EventSource(const Options& o) : o_(o), noise_(0.0, 0.08) {}

  protocol::RunStarted started() const {
    protocol::RunStarted m;
    m.run_dir = "runs/train/bench";
    m.world_size = o_.ranks;
    m.device = "cpu";
    m.norm = "bn";
    m.epochs = static_cast<int>((o_.steps + o_.perEpoch - 1) / o_.perEpoch);
    m.iterations_per_epoch = o_.perEpoch;
    m.global_batch = 2 * o_.ranks;
    m.per_rank_batch = 2;
    m.start_time = 1.7e9;
    return m;
  }

  // The events of iteration i: its step, and at an epoch's end a validation and a log line.
  void produce(long long i, std::vector<protocol::Message>& out) {
    const double level = 1.0 + 3.0 * std::exp(-static_cast<double>(i) / 20000.0);
    protocol::Step s;
    s.iteration = i;
    s.epoch = static_cast<int>(i / o_.perEpoch);
    double box = 0, cls = 0, dfl = 0;
    for (int r = 0; r < o_.ranks; ++r) {
      const double rb = level * 0.3 * (1 + noise_(random_)),
                   rc = level * 0.4 * (1 + noise_(random_)),
                   rd = level * 0.3 * (1 + noise_(random_));
      s.rank_losses.push_back({{"box", rb}, {"cls", rc}, {"dfl", rd}});
      s.ranks.push_back({r, 2.0, 300.0 + r, 8.0});
      box += rb / o_.ranks;
      cls += rc / o_.ranks;
      dfl += rd / o_.ranks;
    }
    s.losses = {{"box", box}, {"cls", cls}, {"dfl", dfl}};
    s.lr = 0.01 * (1 - static_cast<double>(i) / o_.steps);
    s.images_per_second = 14 + noise_(random_);
    s.time = static_cast<double>(i) / o_.rate;
    out.emplace_back(std::move(s));
    if ((i + 1) % o_.perEpoch == 0) {
      protocol::Val v;
      v.epoch = static_cast<int>(i / o_.perEpoch);
      v.map50 = 0.8 - 0.5 / (1 + v.epoch);
      v.map50_95 = v.map50 * 0.7;
      v.precision = v.map50;
      v.recall = v.map50;
      v.fitness = 0.1 * v.map50 + 0.9 * v.map50_95;
      v.time = static_cast<double>(i) / o_.rate;
      v.classes = {{"circle", 76, 117, 0.9, 0.8, 0.9, 0.7},
                   {"rectangle", 79, 130, 0.7, 0.6, 0.7, 0.6}};
      out.emplace_back(std::move(v));
      out.emplace_back(protocol::Log{"info", 0, "epoch " + std::to_string(v.epoch + 1) + " done"});
    }
  }

 private:
  Options o_;
  std::mt19937 random_{7};
  std::normal_distribution<double> noise_;
};

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  const auto k = static_cast<std::size_t>(std::clamp(p * static_cast<double>(values.size() - 1),
                                                     0.0, static_cast<double>(values.size() - 1)));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

double peakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

double msSince(const QElapsedTimer& t) {
  return static_cast<double>(t.nsecsElapsed()) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  studio::RunStore store;
  store.setConsoleAttached(false);
  studio::MonitorView view;
  view.resize(1280, 820);
  view.setRankOverlay(true);
  view.setStore(&store);
  view.show();
  EventSource source(options);
  store.ingest(source.started());
  QCoreApplication::processEvents();
  const double rssBefore = peakRssMb();

  std::printf(
      "| steps | ranks | rate (ev/s) | mode | frames | redraw median (ms) | redraw p99 (ms) | "
      "redraw max (ms) | longest stall (ms) | peak RSS (MB) | store (MB) |\n");
  std::printf("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");

  std::vector<double> redraws, frames;
  long long next = 0;
  if (options.realtimeSeconds <= 0) {
    const double perFrame = options.rate * studio::ReplotScheduler::kIntervalMs / 1000.0;
    double due = 0;
    std::vector<protocol::Message> batch;
    while (next < options.steps) {
      QElapsedTimer frame;
      frame.start();
      due += perFrame;
      batch.clear();
      while (next < options.steps && static_cast<double>(next) < due)
        source.produce(next++, batch);
      store.ingest(batch);
      QElapsedTimer redraw;
      redraw.start();
      view.scheduler()->flush();
      QCoreApplication::processEvents();  // the queued replots, the tables' repaints
      redraws.push_back(msSince(redraw));
      frames.push_back(msSince(frame));
    }
  } else {
    // Real event loop: events arrive on a timer at the rate, the scheduler redraws on its own.
    QElapsedTimer clock;
    clock.start();
    double longestGap = 0;
    QElapsedTimer beat;
    beat.start();
    QTimer heartbeat;
    heartbeat.setTimerType(Qt::PreciseTimer);
    QObject::connect(&heartbeat, &QTimer::timeout, [&] {
      longestGap = std::max(longestGap, msSince(beat));
      beat.restart();
    });
    heartbeat.start(5);
    QTimer feeder;
    feeder.setTimerType(Qt::PreciseTimer);
    std::vector<protocol::Message> batch;
    QObject::connect(&feeder, &QTimer::timeout, [&] {
      const auto due =
          static_cast<long long>(static_cast<double>(clock.elapsed()) * options.rate / 1000.0);
      batch.clear();
      while (next < due && next < options.steps)
        source.produce(next++, batch);
      if (!batch.empty()) store.ingest(batch);
      if (clock.elapsed() > options.realtimeSeconds * 1000 || next >= options.steps) app.quit();
    });
    feeder.start(5);
    QObject::connect(view.scheduler(), &studio::ReplotScheduler::flushed,
                     [&](int) { redraws.push_back(view.lossPlot()->replotTime()); });
    app.exec();
    frames.push_back(longestGap - 5.0);  // beyond the heartbeat's own period
  }

  const double store_mb = static_cast<double>(store.memoryBytes()) / (1 << 20);
  std::printf("| %lld | %d | %.0f | %s | %zu | %.2f | %.2f | %.2f | %.1f | %.0f | %.1f |\n", next,
              options.ranks, options.rate, options.realtimeSeconds > 0 ? "realtime" : "simulated",
              redraws.size(), percentile(redraws, 0.5), percentile(redraws, 0.99),
              redraws.empty() ? 0.0 : *std::max_element(redraws.begin(), redraws.end()),
              frames.empty() ? 0.0 : *std::max_element(frames.begin(), frames.end()), peakRssMb(),
              store_mb);
  std::fprintf(stderr,
               "peak RSS before the run: %.0f MB; log lines: %d; points in the loss plot: %d\n",
               rssBefore, store.log()->rowCount(), view.lossPlot()->graph(0)->dataCount());
  return 0;
}
