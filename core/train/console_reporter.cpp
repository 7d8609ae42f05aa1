#include "train/console_reporter.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace syncbn::train {
namespace {

// Longest and shortest progress bar (inside the brackets); below the shortest it is left out.
constexpr int kMaxBarCells = 30;
constexpr int kMinBarCells = 10;
constexpr long long kHugeCount = 1'000'000'000'000'000;

// NaN, inf and -inf spelled out: printf would write "-nan" for a NaN with its sign bit set.
std::string nonFinite(double value) {
  if (std::isnan(value)) return "nan";
  return value > 0 ? "inf" : "-inf";
}

std::string fixed(double value, int decimals) {
  if (!std::isfinite(value)) return nonFinite(value);
  char buffer[64];
  const int n = std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  // Beyond 64 characters (|value| > 1e60) fall back to the exponent form, which always fits.
  if (n < 0 || n >= static_cast<int>(sizeof buffer))
    std::snprintf(buffer, sizeof buffer, "%.*e", decimals, value);
  return buffer;
}

std::string significant(double value, int digits) {
  if (!std::isfinite(value)) return nonFinite(value);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
  return buffer;
}

std::string counted(long long n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string padLeft(std::string text, std::size_t width) {
  if (text.size() < width) text.insert(0, width - text.size(), ' ');
  return text;
}

// m:ss, or h:mm:ss from an hour on; "?" when there is no sensible estimate.
std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e8) return "?";
  const long long total = std::llround(seconds);
  const long long h = total / 3600, m = total / 60 % 60, s = total % 60;
  char buffer[48];
  if (h > 0)
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", h, m, s);
  else
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld", m, s);
  return buffer;
}

// The final line stays one line, whatever the error text holds.
std::string oneLine(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

std::string rankPrefix(int rank) {
  return rank >= 0 ? "[rank " + std::to_string(rank) + "] " : "";
}

}  // namespace

ConsoleReporter::ConsoleReporter(std::ostream& out, ConsoleStyle style)
    : out_(out), style_(std::move(style)) {}

bool ConsoleReporter::isTerminal(int fd) {
  return ::isatty(fd) == 1;
}

int ConsoleReporter::terminalColumns(int fd, int fallback) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return fallback;
}

ConsoleReporter::TimePoint ConsoleReporter::now() const {
  return style_.clock ? style_.clock() : std::chrono::steady_clock::now();
}

void ConsoleReporter::publish(const protocol::Message& message) {
  const std::lock_guard lock(mutex_);
  std::visit(
      [this](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, protocol::RunStarted>) {
          onRunStarted(m);
        } else if constexpr (std::is_same_v<T, protocol::DatasetSummary>) {
          onDataset(m);
        } else if constexpr (std::is_same_v<T, protocol::Step>) {
          onStep(m);
        } else if constexpr (std::is_same_v<T, protocol::Val>) {
          onVal(m);
        } else if constexpr (std::is_same_v<T, protocol::Checkpoint>) {
          onCheckpoint(m);
        } else if constexpr (std::is_same_v<T, protocol::Log>) {
          onLog(m);
        } else if constexpr (std::is_same_v<T, protocol::RankExit>) {
          onRankExit(m);
        } else if constexpr (std::is_same_v<T, protocol::Finished>) {
          onFinished(m);
        }
        // Hello, BnStats, Stop, CheckpointNow: nothing for the console.
      },
      message);
  out_.flush();
}

void ConsoleReporter::endBarLine() {
  if (!barOpen_) return;
  out_ << '\n';
  barOpen_ = false;
  lastDrawnLength_ = 0;
}

void ConsoleReporter::onRunStarted(const protocol::RunStarted& run) {
  endBarLine();
  run_ = run;
  epoch_.reset();
  out_ << "Training " << run.run_dir << "\n  " << counted(run.world_size, "rank", "ranks") << " x "
       << run.per_rank_batch << " images = batch " << run.global_batch << " on " << run.device
       << ", norm " << run.norm << ", " << counted(run.epochs, "epoch", "epochs") << " of "
       << counted(run.iterations_per_epoch, "iteration", "iterations") << "\n";
}

void ConsoleReporter::onDataset(const protocol::DatasetSummary& dataset) {
  endBarLine();
  if (dataset.split == "val") valImages_ = dataset.images;
  out_ << dataset.split << ": " << counted(dataset.images, "image", "images") << ", "
       << counted(dataset.backgrounds, "background", "backgrounds") << ", "
       << counted(dataset.instances, "instance", "instances") << ", " << dataset.skipped
       << " skipped\n";
}

void ConsoleReporter::onStep(const protocol::Step& step) {
  const TimePoint time = now();
  const long long perEpoch = run_ ? run_->iterations_per_epoch : 0;  // 0: not known
  // Clamped so that the arithmetic below cannot overflow on absurd values.
  const long long iteration = std::clamp(step.iteration, -kHugeCount, kHugeCount);
  // Steps done in the epoch once this one completed (the message follows its iteration).
  const long long done = std::clamp(
      (perEpoch > 0 ? iteration - static_cast<long long>(step.epoch) * perEpoch : iteration) + 1,
      -kHugeCount, kHugeCount);
  const bool lastOfEpoch = perEpoch > 0 && done >= perEpoch;

  if (!epoch_ || *epoch_ != step.epoch) {
    endBarLine();
    epoch_ = step.epoch;
    epochFirstDone_ = done;
    epochFirstTime_ = time;
  }
  epochEnded_ = lastOfEpoch;

  if (style_.terminal) {
    const bool due = !barOpen_ || lastOfEpoch || time - lastDraw_ >= style_.redrawInterval;
    if (!due) return;
  } else {
    const long long every = std::max(style_.plainEvery, 1);
    if (done % every != 0 && !lastOfEpoch) return;
  }

  // Seconds per iteration: measured over this epoch's steps when there are two, else from the
  // reported throughput.
  double secondsPerStep = std::numeric_limits<double>::quiet_NaN();
  if (done > epochFirstDone_ && time > epochFirstTime_) {
    secondsPerStep = std::chrono::duration<double>(time - epochFirstTime_).count() /
                     static_cast<double>(done - epochFirstDone_);
  } else if (run_ && step.images_per_second > 0 && std::isfinite(step.images_per_second)) {
    secondsPerStep = run_->global_batch / step.images_per_second;
  }

  const std::string epochs = run_ ? std::to_string(run_->epochs) : "?";
  std::string head =
      "Epoch " + padLeft(std::to_string(static_cast<long long>(step.epoch) + 1), epochs.size()) +
      "/" + epochs + "  " +
      (perEpoch > 0 ? padLeft(std::to_string(done), std::to_string(perEpoch).size()) + "/" +
                          std::to_string(perEpoch)
                    : "iteration " + std::to_string(done));
  std::string tail;
  for (const auto& [name, value] : step.losses)
    tail += (tail.empty() ? "" : " ") + name + " " + fixed(value, 3);
  if (!tail.empty()) tail += "  ";
  tail += "lr " + significant(step.lr, 3) + "  " + fixed(step.images_per_second, 1) + " img/s";
  if (perEpoch > 0)
    tail +=
        "  ETA " + duration(secondsPerStep * static_cast<double>(std::max(perEpoch - done, 0LL)));

  if (!style_.terminal) {
    out_ << head << "  " << tail << "\n";
    return;
  }

  // Terminal: fit into width - 1 columns (writing the last column makes some terminals wrap),
  // giving the bar what the text leaves, within [kMinBarCells, kMaxBarCells].
  const long long columns = std::max(style_.width, 2) - 1;
  std::string line = head;
  const long long cells = std::min<long long>(
      kMaxBarCells, columns - static_cast<long long>(head.size() + tail.size()) - 4);
  if (perEpoch > 0 && cells >= kMinBarCells) {
    const long long filled = cells * std::clamp(done, 0LL, perEpoch) / perEpoch;
    line += " [" + std::string(filled, '#') + std::string(cells - filled, '-') + "] " + tail;
  } else {
    line += "  " + tail;
  }
  if (static_cast<long long>(line.size()) > columns) line.resize(columns);
  // Blank what a longer previous drawing left behind.
  const std::size_t length = line.size();
  if (length < lastDrawnLength_) line.append(lastDrawnLength_ - length, ' ');
  out_ << '\r' << line;
  barOpen_ = true;
  lastDraw_ = time;
  lastDrawnLength_ = length;
  if (lastOfEpoch) endBarLine();
}

void ConsoleReporter::onVal(const protocol::Val& val) {
  endBarLine();
  std::size_t nameWidth = 5;  // "Class"
  for (const auto& c : val.classes)
    nameWidth = std::max(nameWidth, c.name.size());
  constexpr std::size_t kColumn = 11;
  const auto row = [&](const std::string& name, const std::string& images, long long instances,
                       double p, double r, double map50, double map) {
    out_ << "  " << padLeft(name, nameWidth) << padLeft(images, kColumn)
         << padLeft(std::to_string(instances), kColumn) << padLeft(fixed(p, 3), kColumn)
         << padLeft(fixed(r, 3), kColumn) << padLeft(fixed(map50, 3), kColumn)
         << padLeft(fixed(map, 3), kColumn) << "\n";
  };
  out_ << "  " << padLeft("Class", nameWidth);
  for (const char* title : {"Images", "Instances", "P", "R", "mAP50", "mAP50-95"})
    out_ << padLeft(title, kColumn);
  out_ << "\n";
  long long instances = 0;
  for (const auto& c : val.classes)
    instances += c.instances;
  row("all", valImages_ ? std::to_string(*valImages_) : "-", instances, val.precision, val.recall,
      val.map50, val.map50_95);
  if (val.classes.size() > 1) {
    for (const auto& c : val.classes)
      row(c.name, std::to_string(c.images), c.instances, c.precision, c.recall, c.map50,
          c.map50_95);
  }
}

void ConsoleReporter::onCheckpoint(const protocol::Checkpoint& checkpoint) {
  // The routine `last` after each epoch would add a line per epoch; one saved mid-epoch (a stop,
  // checkpoint_now) is news.
  const bool routine =
      checkpoint.kind == "last" && epoch_ && *epoch_ == checkpoint.epoch && epochEnded_;
  if (routine) return;
  endBarLine();
  out_ << "saved " << checkpoint.kind << " checkpoint " << checkpoint.path << "\n";
}

void ConsoleReporter::onLog(const protocol::Log& log) {
  if (log.level == "debug") return;
  endBarLine();
  if (log.level == "info")
    out_ << log.text << "\n";
  else
    out_ << log.level << ": " << rankPrefix(log.rank) << log.text << "\n";
}

void ConsoleReporter::onRankExit(const protocol::RankExit& exit) {
  endBarLine();
  out_ << "rank " << exit.rank << " exited "
       << (exit.signal != 0 ? "on signal " + std::to_string(exit.signal)
                            : "with code " + std::to_string(exit.exit_code));
  if (!exit.reason.empty()) out_ << ": " << exit.reason;
  out_ << "\n";
}

void ConsoleReporter::onFinished(const protocol::Finished& finished) {
  endBarLine();
  const std::string best = "best fitness " + fixed(finished.best_fitness, 3) + ", best.pt: " +
                           (finished.best_checkpoint.empty() ? "none" : finished.best_checkpoint);
  std::string line = "finished: ";
  if (finished.status == "completed") {
    line += std::to_string(finished.epochs_completed) + " epochs, mAP50 " +
            fixed(finished.map50, 3) + ", mAP50-95 " + fixed(finished.map50_95, 3) + " (" + best +
            ")";
  } else {
    line += finished.status + " after " + std::to_string(finished.epochs_completed) + " epochs";
    if (finished.status != "failed") line += " (" + best + ")";
    if (!finished.error.empty()) line += ": " + finished.error;
  }
  out_ << oneLine(std::move(line)) << "\n";
}

}  // namespace syncbn::train
