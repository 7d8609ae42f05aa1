// What `syncbn-engine train` prints on its console: the progress protocol's messages turned into
// an Ultralytics-like report (a header, one progress bar or a few lines per epoch, the
// validation table, the final line). Torch-free.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>

#include "common/protocol.h"
#include "train/event_sink.h"

namespace syncbn::train {

struct ConsoleStyle {
  bool terminal = false;  // true: one progress bar per epoch redrawn in place with '\r' (and a
                          // final '\n'); false: plain lines, for logs and pipes
  int width = 100;        // terminal columns; a bar line takes at most width - 1 of them
  int plainEvery = 10;    // plain mode: a line every N iterations and always at an epoch's last
  std::function<std::chrono::steady_clock::time_point()> clock;  // empty: steady_clock::now
  std::chrono::milliseconds redrawInterval{100};  // terminal: redraw at most this often (always
                                                  // at an epoch's end and for a new bar)
};

// Prints:
//   run_started  a two-line header (run directory; ranks x per-rank batch = global batch, device,
//                norm, epochs)
//   dataset      `train: 510 images, 12 backgrounds, 1742 instances, 2 skipped`
//   step         `Epoch  4/30  12/32 [######------] box 1.284 cls 2.052 dfl 1.138  lr 0.00912
//                41.6 img/s  ETA 0:23`: the bar only in terminal mode. The ETA is the rest of
//                the epoch at the rate measured with `clock` since the epoch's first step
//                arrived (from images_per_second and the global batch for that first step)
//   val          Ultralytics' table: Class Images Instances P R mAP50 mAP50-95, the row `all`,
//                then one row per class when there are two or more. `all`'s Images is the val
//                split's image count from the `dataset` message (`-` when none came)
//   checkpoint   `saved best checkpoint PATH` for best and interval; `last` only when saved
//                mid-epoch (a stop or checkpoint_now), not the routine save after each epoch
//   log          `warning: ...`, `error: ...` ([rank N] after the prefix when a rank sent it),
//                info as is, debug not at all
//   rank_exit    `rank 1 exited on signal 9: reason` or `rank 1 exited with code 3: reason`
//   finished     completed: `finished: 30 epochs, mAP50 0.702, mAP50-95 0.455 (best fitness
//                0.481, best.pt: runs/train/demo/weights/best.pt)`; stopped or failed:
//                `finished: stopped after 12 epochs (...)`, `finished: failed after 3 epochs:
//                ERROR`. Always the last line, so scripts can `tail -1`.
// bn_stats, hello and the GUI's commands print nothing. Epochs and steps print 1-based (epoch 0
// is `Epoch 1/30`; the step after iteration k of the epoch is `k+1/N`). Any message ends an
// unfinished bar line first. Non-finite numbers print as nan, inf, -inf; publish() never throws
// on a message's values. publish() may be called from any thread.
class ConsoleReporter final : public EventSink {
 public:
  ConsoleReporter(std::ostream& out, ConsoleStyle style);

  void publish(const protocol::Message& message) override;

  // Whether fd is a terminal (isatty): choose ConsoleStyle::terminal with it.
  static bool isTerminal(int fd);
  // The terminal's columns (TIOCGWINSZ), or `fallback` when fd is not a terminal.
  static int terminalColumns(int fd, int fallback = 100);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;

  void onRunStarted(const protocol::RunStarted& run);
  void onDataset(const protocol::DatasetSummary& dataset);
  void onStep(const protocol::Step& step);
  void onVal(const protocol::Val& val);
  void onCheckpoint(const protocol::Checkpoint& checkpoint);
  void onLog(const protocol::Log& log);
  void onRankExit(const protocol::RankExit& exit);
  void onFinished(const protocol::Finished& finished);

  TimePoint now() const;
  // Ends an unfinished terminal bar line, so that the next output starts a line of its own.
  void endBarLine();

  std::ostream& out_;
  ConsoleStyle style_;
  std::mutex mutex_;

  std::optional<protocol::RunStarted> run_;
  std::optional<int> valImages_;  // from the val split's `dataset` message

  // The epoch the last step belonged to, and where the rate of its steps is measured from.
  std::optional<int> epoch_;
  long long epochFirstDone_ = 0;  // steps done in the epoch when its first step message arrived
  TimePoint epochFirstTime_{};
  bool epochEnded_ = false;  // the epoch's last step arrived

  bool barOpen_ = false;  // terminal: a bar is on the current line, not yet ended with '\n'
  TimePoint lastDraw_{};
  std::size_t lastDrawnLength_ = 0;
};

}  // namespace syncbn::train
