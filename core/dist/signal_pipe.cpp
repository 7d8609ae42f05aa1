#include "dist/signal_pipe.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace syncbn::dist {
namespace {

// The handler's only state; lock-free, hence usable from a signal handler.
std::atomic<int> gWriteFd{-1};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void queueSignal(int signal) {
  const int savedErrno = errno;
  const auto byte = static_cast<unsigned char>(signal);
  // The write end is non-blocking: if the pipe were ever full the byte is dropped rather than
  // the process deadlocking inside the handler.
  [[maybe_unused]] const auto written = ::write(gWriteFd.load(), &byte, 1);
  errno = savedErrno;
}

}  // namespace

SignalPipe::SignalPipe() {
  Pipe pipe = makePipe();
  setNonBlocking(pipe.readEnd);
  setNonBlocking(pipe.writeEnd);
  int expected = -1;
  if (!gWriteFd.compare_exchange_strong(expected, pipe.writeEnd.get()))
    throw std::logic_error("SignalPipe: another one is already alive in this process");
  readEnd_ = std::move(pipe.readEnd);
  writeEnd_ = std::move(pipe.writeEnd);

  struct sigaction action {};
  action.sa_handler = queueSignal;
  sigemptyset(&action.sa_mask);
  // SA_NOCLDSTOP: a stopped or continued child is not an exit.
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  for (; installed_ < kSignals.size(); ++installed_) {
    if (::sigaction(kSignals[installed_], &action, &previous_[installed_]) != 0) {
      const int error = errno;
      restoreHandlers();
      gWriteFd.store(-1);
      throw std::system_error(error, std::generic_category(), "sigaction");
    }
    // nohup's SIGHUP stays ignored: the user asked for the run to outlive the terminal.
    if (kSignals[installed_] == SIGHUP && previous_[installed_].sa_handler == SIG_IGN)
      ::sigaction(SIGHUP, &previous_[installed_], nullptr);
  }
}

SignalPipe::~SignalPipe() {
  restoreHandlers();
  gWriteFd.store(-1);
}

void SignalPipe::restoreHandlers() {
  for (; installed_ > 0; --installed_)
    ::sigaction(kSignals[installed_ - 1], &previous_[installed_ - 1], nullptr);
}

std::vector<int> SignalPipe::take() {
  std::vector<int> signals;
  unsigned char bytes[64];
  for (;;) {
    const ssize_t count = ::read(readEnd_.get(), bytes, sizeof bytes);
    if (count > 0) {
      signals.insert(signals.end(), bytes, bytes + count);
      continue;
    }
    if (count < 0 && errno == EINTR) continue;
    if (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      throw std::system_error(errno, std::generic_category(), "read(signal pipe)");
    return signals;
  }
}

}  // namespace syncbn::dist
