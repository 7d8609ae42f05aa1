#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace syncbn {
namespace {

// Closes the descriptor and removes the temporary file unless released after a successful rename.
class TempFile {
 public:
  explicit TempFile(std::string pathTemplate) : path_(std::move(pathTemplate)) {
    fd_ = ::mkstemp(path_.data());
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  void closeFile() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw std::runtime_error("close failed");
  }
  void markRenamed() { renamed_ = true; }

 private:
  std::string path_;
  int fd_ = -1;
  bool renamed_ = false;
};

[[noreturn]] void fail(const std::filesystem::path& path, const char* what) {
  throw std::runtime_error("cannot write " + path.string() + ": " + what + ": " +
                           std::strerror(errno));
}

}  // namespace

void writeFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  writeFileAtomically(path, {contents});
}

void writeFileAtomically(const std::filesystem::path& path,
                         std::initializer_list<std::string_view> pieces) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  TempFile temp((dir / ("." + path.filename().string() + ".tmp.XXXXXX")).string());
  if (temp.fd() < 0) fail(path, "cannot create temporary file");
  ::fchmod(temp.fd(), 0644);

  for (const std::string_view contents : pieces) {
    std::size_t written = 0;
    while (written < contents.size()) {
      const ssize_t n = ::write(temp.fd(), contents.data() + written, contents.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(path, "write failed");
      written += static_cast<std::size_t>(n);
    }
  }
  if (::fsync(temp.fd()) != 0) fail(path, "fsync failed");
  temp.closeFile();
  if (::rename(temp.path().c_str(), path.c_str()) != 0) fail(path, "rename failed");
  temp.markRenamed();

  // Make the rename itself durable.
  if (const int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
}

namespace {

// ".last.pt.tmp.Ab3xYz": mkstemp's six characters after the target's name.
bool isTemporaryName(const std::string& name) {
  constexpr std::string_view kMarker = ".tmp.";
  if (name.size() < 1 + 1 + kMarker.size() + 6 || name.front() != '.') return false;
  const std::size_t marker = name.size() - 6 - kMarker.size();
  return name.compare(marker, kMarker.size(), kMarker) == 0;
}

}  // namespace

std::vector<std::filesystem::path> removeStaleTemporaries(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> removed;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (!isTemporaryName(entry.path().filename().string())) continue;
    if (!entry.is_regular_file(error) || entry.is_symlink(error)) continue;
    if (std::filesystem::remove(entry.path(), error)) removed.push_back(entry.path());
  }
  return removed;
}

}  // namespace syncbn
