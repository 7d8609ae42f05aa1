// Owning wrappers for POSIX file descriptors and pipes, so no path (exceptions included) leaks one.
#pragma once

#include <utility>

namespace syncbn::dist {

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }
  bool isOpen() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

struct Pipe {
  FileDescriptor readEnd;
  FileDescriptor writeEnd;
};

// Both ends are close-on-exec: a child receives only the descriptors it is handed explicitly, so
// one rank never holds another rank's pipe open. Throws std::system_error.
Pipe makePipe();

// Throws std::system_error.
void setNonBlocking(const FileDescriptor& fd);

}  // namespace syncbn::dist
