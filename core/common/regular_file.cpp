#include "common/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/memory_estimate.h"

namespace syncbn {
namespace {

std::optional<std::string> kindOf(mode_t mode) {
  if (S_ISREG(mode)) return std::nullopt;
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Closes the descriptor on every path out.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::optional<std::string> nonRegularKind(const std::filesystem::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return std::nullopt;
  return kindOf(status.st_mode);
}

std::string readRegularFile(const std::filesystem::path& path, std::uint64_t maxBytes) {
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever. It has no effect on
  // reading a regular file, which is all that is read below.
  const Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    if (errno == ENOENT) throw FileReadError("does not exist");
    throw FileReadError(std::strerror(errno));
  }
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) throw FileReadError(std::strerror(errno));
  if (const auto kind = kindOf(status.st_mode))
    throw FileReadError("is " + *kind + ", not a regular file");
  const auto size = static_cast<std::uint64_t>(status.st_size);
  if (size > maxBytes)
    throw FileReadError("is " + formatBytes(size) + ", more than the " + formatBytes(maxBytes) +
                        " allowed");

  std::string contents(size, '\0');
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::read(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw FileReadError(std::strerror(errno));
    if (n == 0) break;  // shrank while being read: keep what is there
    done += static_cast<std::size_t>(n);
  }
  contents.resize(done);
  return contents;
}

std::optional<std::string> tryReadRegularFile(const std::filesystem::path& path,
                                              std::uint64_t maxBytes, std::string& error) {
  try {
    return readRegularFile(path, maxBytes);
  } catch (const FileReadError& e) {
    error = e.what();
    return std::nullopt;
  }
}

}  // namespace syncbn
