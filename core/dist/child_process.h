// One child process, started with posix_spawn and owned until reaped.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace syncbn::dist {

struct ExitStatus {
  int exitCode = 0;  // the shell's convention: 128 + signal when killed by a signal
  int signal = 0;    // the signal that killed the process, else 0
};

// The child leads its own process group, so a signal sent to the group also reaches whatever it
// started. Destroying a child that has not been reaped kills its group and reaps it: no orphans
// or zombies, whichever way the owner leaves (exceptions included).
class ChildProcess {
 public:
  // Runs argv[0] (searched in PATH when it contains no '/') with exactly `environment`
  // ("KEY=VALUE" entries), stdin from /dev/null and stdout/stderr onto the given descriptors.
  // Throws std::system_error whose what() is "argv[0]: reason" when it cannot be started.
  static ChildProcess spawn(const std::vector<std::string>& argv,
                            const std::vector<std::string>& environment, int stdoutFd,
                            int stderrFd);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Sends `signal` to the child's process group; does nothing once the child is reaped.
  void signalGroup(int signal) const;

  // The exit status if the child has exited (it is then reaped), without blocking.
  // Throws std::system_error when waitpid fails.
  std::optional<ExitStatus> tryReap();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

  pid_t pid_ = -1;  // -1 once reaped or moved from
};

}  // namespace syncbn::dist
