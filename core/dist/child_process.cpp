#include "dist/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

extern char** environ;

namespace syncbn::dist {
namespace {

void check(int error, const char* what) {
  if (error != 0) throw std::system_error(error, std::generic_category(), what);
}

// A new process group; default dispositions for the signals a launcher typically handles or
// ignores (SIGPIPE included: a child behaves as when started from a shell, and a program that
// must outlive a closed output pipe ignores SIGPIPE itself, as syncbn-engine train does); nothing
// blocked, whatever the spawning thread blocks.
class SpawnAttributes {
 public:
  SpawnAttributes() {
    check(::posix_spawnattr_init(&attributes_), "posix_spawnattr_init");
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal : {SIGINT, SIGTERM, SIGCHLD, SIGPIPE, SIGHUP})
      sigaddset(&defaults, signal);
    sigset_t noneBlocked;
    sigemptyset(&noneBlocked);
    check(::posix_spawnattr_setflags(
              &attributes_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK),
          "posix_spawnattr_setflags");
    check(::posix_spawnattr_setpgroup(&attributes_, 0), "posix_spawnattr_setpgroup");
    check(::posix_spawnattr_setsigdefault(&attributes_, &defaults),
          "posix_spawnattr_setsigdefault");
    check(::posix_spawnattr_setsigmask(&attributes_, &noneBlocked), "posix_spawnattr_setsigmask");
  }
  ~SpawnAttributes() { ::posix_spawnattr_destroy(&attributes_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;

  const posix_spawnattr_t* get() const { return &attributes_; }

 private:
  posix_spawnattr_t attributes_;
};

// Ranks run in background process groups: reading the terminal would stop them (SIGTTIN), hence
// /dev/null.
class StandardStreams {
 public:
  StandardStreams(int stdoutFd, int stderrFd) {
    check(::posix_spawn_file_actions_init(&actions_), "posix_spawn_file_actions_init");
    check(::posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0),
          "posix_spawn_file_actions_addopen");
    check(::posix_spawn_file_actions_adddup2(&actions_, stdoutFd, 1),
          "posix_spawn_file_actions_adddup2");
    check(::posix_spawn_file_actions_adddup2(&actions_, stderrFd, 2),
          "posix_spawn_file_actions_adddup2");
  }
  ~StandardStreams() { ::posix_spawn_file_actions_destroy(&actions_); }
  StandardStreams(const StandardStreams&) = delete;
  StandardStreams& operator=(const StandardStreams&) = delete;

  const posix_spawn_file_actions_t* get() const { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

// exec*() takes mutable, null-terminated arrays; `strings` must outlive the result.
std::vector<char*> nullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& text : strings)
    pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

ExitStatus decode(int status) {
  if (WIFSIGNALED(status)) return {128 + WTERMSIG(status), WTERMSIG(status)};
  return {WEXITSTATUS(status), 0};
}

}  // namespace

ChildProcess ChildProcess::spawn(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& environment, int stdoutFd,
                                 int stderrFd) {
  if (argv.empty()) throw std::invalid_argument("ChildProcess::spawn: empty command");
  std::vector<std::string> args = argv;
  std::vector<std::string> env = environment;
  const SpawnAttributes attributes;
  const StandardStreams streams(stdoutFd, stderrFd);
  pid_t pid = -1;
  // glibc reports exec failures (not found, not executable) here rather than as exit code 127.
  const int error = ::posix_spawnp(&pid, args[0].c_str(), streams.get(), attributes.get(),
                                   nullTerminated(args).data(), nullTerminated(env).data());
  if (error != 0) throw std::system_error(error, std::generic_category(), argv[0]);
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess::~ChildProcess() {
  if (!running()) return;
  ::kill(-pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void ChildProcess::signalGroup(int signal) const {
  if (running()) ::kill(-pid_, signal);
}

std::optional<ExitStatus> ChildProcess::tryReap() {
  if (!running()) return std::nullopt;
  int status = 0;
  pid_t reaped = -1;
  do {
    reaped = ::waitpid(pid_, &status, WNOHANG);
  } while (reaped < 0 && errno == EINTR);
  if (reaped < 0) throw std::system_error(errno, std::generic_category(), "waitpid");
  if (reaped == 0) return std::nullopt;
  pid_ = -1;
  return decode(status);
}

}  // namespace syncbn::dist
