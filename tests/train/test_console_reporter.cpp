// The console report of a training run: what each protocol message prints, in plain mode (lines
// for logs and pipes) and terminal mode (a bar redrawn with '\r', throttled by a fake clock, fit
// into the terminal's width). Expected texts are written out by hand from docs/protocol.md's
// numbers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/protocol.h"
#include "train/console_reporter.h"

namespace syncbn::train {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A clock the test moves by hand.
struct FakeClock {
  Clock::time_point time{};
  std::function<Clock::time_point()> function() {
    return [this] { return time; };
  }
};

protocol::RunStarted runStarted(int iterationsPerEpoch) {
  protocol::RunStarted run;
  run.run_dir = "runs/train/demo";
  run.world_size = 2;
  run.device = "cpu";
  run.norm = "syncbn";
  run.epochs = 30;
  run.iterations_per_epoch = iterationsPerEpoch;
  run.global_batch = 16;
  run.per_rank_batch = 8;
  return run;
}

protocol::Step step(int epoch, long long iteration, double box = 1.2843) {
  protocol::Step s;
  s.epoch = epoch;
  s.iteration = iteration;
  s.losses = {{"box", box}, {"cls", 2.0521}, {"dfl", 1.1377}};
  s.lr = 0.00912;
  s.images_per_second = 41.6;
  return s;
}

ConsoleStyle plainStyle(int every, FakeClock* clock = nullptr) {
  ConsoleStyle style;
  style.plainEvery = every;
  if (clock != nullptr) style.clock = clock->function();
  return style;
}

ConsoleStyle terminalStyle(int width, FakeClock& clock) {
  ConsoleStyle style;
  style.terminal = true;
  style.width = width;
  style.clock = clock.function();
  style.redrawInterval = 100ms;
  return style;
}

protocol::Finished finished(std::string status, int epochs, double fitness, double map50,
                            double map50_95, std::string best, std::string error) {
  return {.status = std::move(status),
          .epochs_completed = epochs,
          .best_fitness = fitness,
          .map50 = map50,
          .map50_95 = map50_95,
          .best_checkpoint = std::move(best),
          .error = std::move(error)};
}

protocol::Val val(double precision, double recall, double map50, double map50_95,
                  std::vector<protocol::ClassMetrics> classes) {
  return {.epoch = 3,
          .time = 101.7,
          .precision = precision,
          .recall = recall,
          .map50 = map50,
          .map50_95 = map50_95,
          .fitness = 0.1 * map50 + 0.9 * map50_95,
          .classes = std::move(classes)};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

// The pieces a terminal shows in turn: the text between '\r's and '\n's.
std::vector<std::string> drawings(const std::string& text) {
  std::vector<std::string> result;
  std::string current;
  for (const char c : text) {
    if (c == '\r' || c == '\n') {
      if (!current.empty()) result.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) result.push_back(current);
  return result;
}

std::size_t count(const std::string& text, char c) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), c));
}

TEST(ConsoleReporterPlain, HeaderAndALineEveryTenStepsAndAtTheEpochsEnd) {
  std::ostringstream out;
  FakeClock clock;
  ConsoleReporter reporter(out, plainStyle(10, &clock));
  reporter.publish(runStarted(25));
  // Epoch 2 (the third): iterations 50..74, one second apart; box loss 1.0 + k/100 at step k.
  for (int k = 0; k < 25; ++k) {
    reporter.publish(step(2, 50 + k, 1.0 + k / 100.0));
    clock.time += 1s;
  }
  // Steps 10, 20, 25 (1-based), arriving at 9 s, 19 s, 24 s after the epoch's first step (done
  // = 1 at 0 s): one second per step, so 15, 5 and 0 steps left take 0:15, 0:05, 0:00.
  const std::vector<std::string> expected = {
      "Training runs/train/demo",
      "  2 ranks x 8 images = batch 16 on cpu, norm syncbn, 30 epochs of 25 iterations",
      "Epoch  3/30  10/25  box 1.090 cls 2.052 dfl 1.138  lr 0.00912  41.6 img/s  ETA 0:15",
      "Epoch  3/30  20/25  box 1.190 cls 2.052 dfl 1.138  lr 0.00912  41.6 img/s  ETA 0:05",
      "Epoch  3/30  25/25  box 1.240 cls 2.052 dfl 1.138  lr 0.00912  41.6 img/s  ETA 0:00",
  };
  EXPECT_EQ(lines(out.str()), expected) << out.str();
  EXPECT_EQ(count(out.str(), '\r'), 0u);
}

TEST(ConsoleReporterPlain, FirstStepOfAnEpochEstimatesFromImagesPerSecond) {
  std::ostringstream out;
  FakeClock clock;
  ConsoleReporter reporter(out, plainStyle(1, &clock));
  reporter.publish(runStarted(100));
  protocol::Step s = step(0, 0);
  s.images_per_second = 8;  // global batch 16: 2 s per step, 99 steps left: 198 s
  reporter.publish(s);
  EXPECT_NE(out.str().find("  1/100  box"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("8.0 img/s  ETA 3:18\n"), std::string::npos) << out.str();
}

TEST(ConsoleReporterPlain, LongEtaShowsHours) {
  std::ostringstream out;
  FakeClock clock;
  ConsoleReporter reporter(out, plainStyle(2, &clock));
  reporter.publish(runStarted(10000));
  reporter.publish(step(0, 0));
  clock.time += 3s;
  reporter.publish(step(0, 1));  // 3 s per step, 9998 left: 29994 s = 8:19:54
  EXPECT_NE(out.str().find("ETA 8:19:54\n"), std::string::npos) << out.str();
}

TEST(ConsoleReporterTerminal, RedrawsInPlaceAtMostEveryIntervalAndAlwaysAtTheEnd) {
  std::ostringstream out;
  FakeClock clock;
  ConsoleReporter reporter(out, terminalStyle(200, clock));
  reporter.publish(runStarted(8));
  const std::string header = out.str();
  // Steps 1..8 at these times: drawn at 1 (the new bar), 5 (120 ms after 1), 8 (the end).
  const int times[] = {0, 30, 60, 90, 120, 150, 180, 250};
  for (int k = 0; k < 8; ++k) {
    clock.time = Clock::time_point{} + std::chrono::milliseconds(times[k]);
    reporter.publish(step(0, k));
  }
  const std::string epoch = out.str().substr(header.size());
  const std::vector<std::string> drawn = drawings(epoch);
  ASSERT_EQ(drawn.size(), 3u) << epoch;
  EXPECT_EQ(drawn[0].rfind("Epoch  1/30  1/8 [", 0), 0u) << drawn[0];
  EXPECT_EQ(drawn[1].rfind("Epoch  1/30  5/8 [", 0), 0u) << drawn[1];
  EXPECT_EQ(drawn[2].rfind("Epoch  1/30  8/8 [", 0), 0u) << drawn[2];
  EXPECT_EQ(count(epoch, '\r'), 3u);
  EXPECT_EQ(epoch.front(), '\r');
  EXPECT_EQ(epoch.back(), '\n');
  EXPECT_EQ(count(epoch, '\n'), 1u);

  // The next epoch's first step draws a new bar at once, 10 ms later.
  clock.time += 10ms;
  reporter.publish(step(1, 8));
  EXPECT_EQ(drawings(out.str()).back().rfind("Epoch  2/30  1/8 [", 0), 0u) << out.str();
}

TEST(ConsoleReporterTerminal, AMessageEndsTheBarLineAndTheBarResumesBelow) {
  std::ostringstream out;
  FakeClock clock;
  ConsoleReporter reporter(out, terminalStyle(200, clock));
  reporter.publish(runStarted(8));
  reporter.publish(step(0, 0));
  reporter.publish(protocol::Log{.level = "warning", .rank = 1, .text = "slow data"});
  clock.time += 1ms;  // within the interval, but the bar is no longer on screen
  reporter.publish(step(0, 1));
  const std::vector<std::string> all = lines(out.str());
  ASSERT_EQ(all.size(), 5u) << out.str();
  EXPECT_EQ(all[2].rfind("\rEpoch  1/30  1/8 [", 0), 0u) << all[2];
  EXPECT_EQ(all[3], "warning: [rank 1] slow data");
  EXPECT_EQ(all[4].rfind("\rEpoch  1/30  2/8 [", 0), 0u) << all[4];
}

TEST(ConsoleReporterTerminal, BarFillsItsShareAndIsCappedOnWideTerminals) {
  std::ostringstream out;
  FakeClock clock;
  ConsoleReporter reporter(out, terminalStyle(300, clock));
  reporter.publish(runStarted(8));
  reporter.publish(step(0, 3));  // 4 of 8 done: half of the 30 cells
  const std::string drawn = drawings(out.str()).back();
  EXPECT_NE(drawn.find(" [###############---------------] box"), std::string::npos) << drawn;
}

TEST(ConsoleReporterTerminal, FitsTheWidth) {
  const std::string head = "Epoch  1/30  4/8";
  const std::string tail = "box 1.284 cls 2.052 dfl 1.138  lr 0.00912  41.6 img/s  ETA 0:04";
  // Wide enough for a bar of 12 cells: head, " [", 12 cells, "] ", tail in width - 1 columns.
  const int width = static_cast<int>(head.size() + 2 + 12 + 2 + tail.size()) + 1;
  for (const int w : {width, 40, 1}) {
    std::ostringstream out;
    FakeClock clock;
    ConsoleReporter reporter(out, terminalStyle(w, clock));
    reporter.publish(runStarted(8));
    reporter.publish(step(0, 0));
    clock.time += 3s;
    reporter.publish(step(0, 3));  // 1 s per step, 4 left
    const std::string text = out.str();
    const std::string bars = text.substr(text.find('\r'));
    for (const std::string& drawn : drawings(bars))
      EXPECT_LE(static_cast<int>(drawn.size()), std::max(w - 1, 1))
          << "width " << w << ": " << drawn;
    if (w == width) {
      EXPECT_EQ(drawings(bars).back(), head + " [######------] " + tail);
    } else if (w == 40) {
      // No room for a bar of 10 cells: the text, cut at 39 columns.
      EXPECT_EQ(drawings(bars).back(), (head + "  " + tail).substr(0, 39));
    }
  }
}

TEST(ConsoleReporterTerminal, AShorterDrawingBlanksTheRestOfTheLongerOne) {
  std::ostringstream out;
  FakeClock clock;
  ConsoleReporter reporter(out, terminalStyle(300, clock));
  reporter.publish(runStarted(8));
  protocol::Step first = step(0, 0);
  first.losses["extra"] = 123.456;  // "extra 123.456" makes the first drawing longer
  reporter.publish(first);
  clock.time += 1s;
  reporter.publish(step(0, 1));
  const std::vector<std::string> drawn = drawings(out.str().substr(out.str().find('\r')));
  ASSERT_EQ(drawn.size(), 2u);
  EXPECT_EQ(drawn[0].size(), drawn[1].size());
  EXPECT_EQ(drawn[1].back(), ' ');
}

TEST(ConsoleReporter, ValidationTable) {
  std::ostringstream out;
  ConsoleReporter reporter(out, {});
  protocol::DatasetSummary split;
  split.split = "val";
  split.images = 128;
  split.backgrounds = 3;
  split.instances = 249;
  split.skipped = 1;
  reporter.publish(split);
  // docs/protocol.md's `val` example.
  reporter.publish(val(0.612, 0.547, 0.583, 0.341,
                       {{"circle", 64, 131, 0.701, 0.62, 0.668, 0.402},
                        {"square", 64, 118, 0.523, 0.474, 0.498, 0.28}}));
  const std::vector<std::string> expected = {
      "val: 128 images, 3 backgrounds, 249 instances, 1 skipped",
      "   Class     Images  Instances          P          R      mAP50   mAP50-95",
      "     all        128        249      0.612      0.547      0.583      0.341",
      "  circle         64        131      0.701      0.620      0.668      0.402",
      "  square         64        118      0.523      0.474      0.498      0.280",
  };
  EXPECT_EQ(lines(out.str()), expected) << out.str();
}

TEST(ConsoleReporter, ValidationOfOneClassHasOnlyTheAllRowAndUnknownImages) {
  std::ostringstream out;
  ConsoleReporter reporter(out, {});
  reporter.publish(
      val(0.5, 0.25, 0.125, 0.0625, {{"a-long-class-name", 10, 17, 0.5, 0.25, 0.125, 0.0625}}));
  const std::vector<std::string> expected = {
      "  " + std::string(12, ' ') +
          "Class     Images  Instances          P          R      mAP50"
          "   mAP50-95",
      "  " + std::string(14, ' ') +
          "all          -         17      0.500      0.250      0.125"
          "      0.062",
  };
  EXPECT_EQ(lines(out.str()), expected) << out.str();
}

TEST(ConsoleReporter, FinishedLinesAreExactAndLast) {
  const auto finish = [](const protocol::Finished& message) {
    std::ostringstream out;
    FakeClock clock;
    ConsoleReporter reporter(out, terminalStyle(100, clock));
    reporter.publish(runStarted(8));
    reporter.publish(step(0, 2));  // a bar left open
    reporter.publish(message);
    return out.str();
  };
  const std::string completed = finish(
      finished("completed", 30, 0.4811, 0.702, 0.455, "runs/train/demo/weights/best.pt", ""));
  EXPECT_EQ(lines(completed).back(),
            "finished: 30 epochs, mAP50 0.702, mAP50-95 0.455 (best fitness 0.481, best.pt: "
            "runs/train/demo/weights/best.pt)");
  EXPECT_EQ(completed.back(), '\n');
  EXPECT_EQ(count(lines(completed).back(), '\r'), 0u) << "the bar line was ended first";

  EXPECT_EQ(lines(finish(finished("stopped", 12, 0.25, 0, 0, "w/best.pt", ""))).back(),
            "finished: stopped after 12 epochs (best fitness 0.250, best.pt: w/best.pt)");
  EXPECT_EQ(
      lines(finish(finished("failed", 3, 0, 0, 0, "", "rank 1 exited on signal 9\nsecond line")))
          .back(),
      "finished: failed after 3 epochs: rank 1 exited on signal 9 second line");
  EXPECT_EQ(lines(finish(finished("completed", 1, 0, 0, 0, "", ""))).back(),
            "finished: 1 epochs, mAP50 0.000, mAP50-95 0.000 (best fitness 0.000, best.pt: none)");
}

TEST(ConsoleReporter, NonFiniteNumbersPrintAsNanAndInf) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::ostringstream out;
  FakeClock clock;
  ConsoleReporter reporter(out, plainStyle(1, &clock));
  reporter.publish(runStarted(8));
  protocol::Step s = step(0, 0);
  s.losses = {{"box", -nan}, {"cls", inf}, {"dfl", -inf}};
  s.lr = nan;
  s.images_per_second = nan;
  reporter.publish(s);
  reporter.publish(val(nan, inf, nan, nan, {}));
  reporter.publish(finished("completed", 0, nan, nan, -inf, "", ""));
  const std::vector<std::string> all = lines(out.str());
  ASSERT_EQ(all.size(), 6u) << out.str();
  // No measured rate yet and no throughput: no estimate.
  EXPECT_EQ(all[2], "Epoch  1/30  1/8  box nan cls inf dfl -inf  lr nan  nan img/s  ETA ?");
  EXPECT_EQ(all[4], "    all          -          0        nan        inf        nan        nan");
  EXPECT_EQ(all[5],
            "finished: 0 epochs, mAP50 nan, mAP50-95 -inf (best fitness nan, best.pt: none)");
}

TEST(ConsoleReporter, OddValuesNeverThrow) {
  for (const int width : {-5, 300}) {
    std::ostringstream out;
    ConsoleStyle style = plainStyle(0);
    style.terminal = width > 0;
    style.width = width;
    ConsoleReporter reporter(out, style);
    protocol::Step s = step(INT_MAX, LLONG_MAX);
    // Before run_started: epochs and iterations per epoch are unknown.
    EXPECT_NO_THROW(reporter.publish(s));
    protocol::RunStarted run = runStarted(0);
    run.epochs = -1;
    EXPECT_NO_THROW(reporter.publish(run));
    EXPECT_NO_THROW(reporter.publish(step(-3, -7)));
    run.iterations_per_epoch = INT_MAX;
    EXPECT_NO_THROW(reporter.publish(run));
    EXPECT_NO_THROW(reporter.publish(step(INT_MAX, LLONG_MAX)));
    EXPECT_NO_THROW(reporter.publish(step(INT_MIN, LLONG_MIN)));
    protocol::Step huge = step(0, 0);
    huge.losses["box"] = 1e300;
    huge.images_per_second = std::numeric_limits<double>::denorm_min();
    EXPECT_NO_THROW(reporter.publish(huge));
    EXPECT_NO_THROW(reporter.publish(finished("", -1, 0, 0, 0, "", "")));
    EXPECT_NE(out.str().find("Epoch"), std::string::npos);
  }
}

TEST(ConsoleReporter, AStepWithoutLossesStartsWithTheLearningRate) {
  std::ostringstream out;
  ConsoleReporter reporter(out, plainStyle(1));
  protocol::Step s = step(0, 0);
  s.losses.clear();
  reporter.publish(s);
  EXPECT_EQ(out.str(), "Epoch 1/?  iteration 1  lr 0.00912  41.6 img/s\n");
}

TEST(ConsoleReporter, StepsBeforeRunStartedCountIterations) {
  std::ostringstream out;
  ConsoleReporter reporter(out, plainStyle(5));
  for (int k = 0; k < 10; ++k)
    reporter.publish(step(0, k));
  const std::vector<std::string> all = lines(out.str());
  ASSERT_EQ(all.size(), 2u) << out.str();
  EXPECT_EQ(all[0],
            "Epoch 1/?  iteration 5  box 1.284 cls 2.052 dfl 1.138  lr 0.00912  41.6 img/s");
}

TEST(ConsoleReporter, CheckpointsLogsAndRankExits) {
  std::ostringstream out;
  ConsoleReporter reporter(out, plainStyle(100));
  reporter.publish(runStarted(4));
  for (int k = 0; k < 4; ++k)
    reporter.publish(step(0, k));
  const std::size_t afterEpoch = out.str().size();
  // After the epoch's last step: the routine `last` is quiet, best and interval are not.
  reporter.publish(
      protocol::Checkpoint{.path = "w/last.pt", .kind = "last", .epoch = 0, .iteration = 4});
  reporter.publish(
      protocol::Checkpoint{.path = "w/best.pt", .kind = "best", .epoch = 0, .iteration = 4});
  reporter.publish(
      protocol::Checkpoint{.path = "w/epoch1.pt", .kind = "interval", .epoch = 0, .iteration = 4});
  // Mid-epoch (a stop): `last` is news.
  reporter.publish(step(1, 5));
  reporter.publish(
      protocol::Checkpoint{.path = "w/last.pt", .kind = "last", .epoch = 1, .iteration = 6});
  reporter.publish(
      protocol::BnStats{.iteration = 5, .layers = {{"model.0.bn", 0.1, {0, 1}, {1, 1}}}});
  reporter.publish(protocol::Log{.level = "debug", .rank = 0, .text = "hidden"});
  reporter.publish(protocol::Log{.level = "info", .rank = 0, .text = "resumed from w/last.pt"});
  reporter.publish(protocol::Log{.level = "warning", .rank = -1, .text = "port in use"});
  reporter.publish(protocol::Log{.level = "error", .rank = 1, .text = "CUDA out of memory"});
  reporter.publish(protocol::RankExit{
      .rank = 1, .exit_code = -9, .signal = 9, .reason = "killed by SIGKILL (out of memory?)"});
  reporter.publish(protocol::RankExit{.rank = 0, .exit_code = 3, .signal = 0, .reason = ""});
  const std::vector<std::string> expected = {
      "saved best checkpoint w/best.pt",
      "saved interval checkpoint w/epoch1.pt",
      "saved last checkpoint w/last.pt",
      "resumed from w/last.pt",
      "warning: port in use",
      "error: [rank 1] CUDA out of memory",
      "rank 1 exited on signal 9: killed by SIGKILL (out of memory?)",
      "rank 0 exited with code 3",
  };
  EXPECT_EQ(lines(out.str().substr(afterEpoch)), expected) << out.str();
}

TEST(ConsoleReporter, DatasetLineCountsInTheSingular) {
  std::ostringstream out;
  ConsoleReporter reporter(out, {});
  protocol::DatasetSummary train;
  train.split = "train";
  train.images = 1;
  train.backgrounds = 1;
  train.instances = 1;
  reporter.publish(train);
  EXPECT_EQ(out.str(), "train: 1 image, 1 background, 1 instance, 0 skipped\n");
}

TEST(ConsoleReporter, IsTerminalIsFalseForAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_FALSE(ConsoleReporter::isTerminal(fds[1]));
  EXPECT_EQ(ConsoleReporter::terminalColumns(fds[1], 77), 77);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace syncbn::train
