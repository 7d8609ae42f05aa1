// Signals as bytes on a pipe (the self-pipe trick), so one poll() waits for output and signals.
#pragma once

#include <signal.h>

#include <array>
#include <vector>

#include "dist/file_descriptor.h"

namespace syncbn::dist {

// While alive, SIGINT, SIGTERM, SIGHUP (unless it was ignored, as under nohup) and SIGCHLD are
// caught process-wide and queued on a pipe; the
// previous dispositions are restored on destruction. Handlers are process-wide, so at most one
// SignalPipe may be alive at a time (a second throws std::logic_error).
class SignalPipe {
 public:
  SignalPipe();
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  // Readable when a signal is waiting.
  int fd() const { return readEnd_.get(); }

  // The signals caught since the last call, in arrival order. Never blocks.
  std::vector<int> take();

  static constexpr std::array<int, 4> kSignals = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};

 private:
  void restoreHandlers();

  FileDescriptor readEnd_;
  FileDescriptor writeEnd_;
  std::array<struct sigaction, kSignals.size()> previous_{};
  std::size_t installed_ = 0;  // how many of kSignals have our handler
};

}  // namespace syncbn::dist
