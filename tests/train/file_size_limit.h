// Caps the size of files this process may write, for tests of writes that fail half-way.
#pragma once

#include <sys/resource.h>

#include <csignal>
#include <stdexcept>

namespace syncbn::testing {

// Caps the size of files this process may write (RLIMIT_FSIZE) while in scope; writes past it
// fail with EFBIG instead of raising SIGXFSZ. Unlike a read-only directory this also fails for
// root, and it fails the save in the middle of writing the data.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previousHandler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limited = previous_;
    limited.rlim_cur = bytes;
    if (::setrlimit(RLIMIT_FSIZE, &limited) != 0) throw std::runtime_error("setrlimit failed");
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previousHandler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit previous_{};
  void (*previousHandler_)(int) = nullptr;
};

}  // namespace syncbn::testing
