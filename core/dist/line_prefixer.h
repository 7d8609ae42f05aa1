// Cuts one output stream of a rank into whole lines and writes each with a prefix.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

namespace syncbn::dist {

// Lines longer than this are split into pieces of this size, so memory stays bounded.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;

class LinePrefixer {
 public:
  explicit LinePrefixer(std::string prefix, std::size_t maxLineBytes = kMaxLineBytes);

  // Writes every line that `bytes` completes to `out` as prefix + line + '\n'; the unfinished
  // rest is kept for the next call. Chunks may be cut anywhere.
  void feed(std::string_view bytes, std::ostream& out);

  // At the end of the stream: writes an unfinished last line, adding its newline.
  void finish(std::ostream& out);

 private:
  void writeLine(std::ostream& out);

  std::string prefix_;
  std::size_t maxLineBytes_;
  std::string partial_;  // never longer than maxLineBytes_
};

}  // namespace syncbn::dist
