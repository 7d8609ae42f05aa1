#include "dist/line_prefixer.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace syncbn::dist {

LinePrefixer::LinePrefixer(std::string prefix, std::size_t maxLineBytes)
    : prefix_(std::move(prefix)), maxLineBytes_(maxLineBytes) {
  if (maxLineBytes_ == 0) throw std::invalid_argument("LinePrefixer: maxLineBytes must be > 0");
}

void LinePrefixer::feed(std::string_view bytes, std::ostream& out) {
  while (!bytes.empty()) {
    // A full buffer is cut only when more of the same line follows: a line of exactly
    // maxLineBytes_ stays one line.
    if (partial_.size() == maxLineBytes_ && bytes.front() != '\n') writeLine(out);
    const std::size_t room = maxLineBytes_ - partial_.size();
    const std::size_t newline = bytes.find('\n');
    if (newline != std::string_view::npos && newline <= room) {
      partial_.append(bytes.substr(0, newline));
      writeLine(out);
      bytes.remove_prefix(newline + 1);
    } else {
      const std::size_t taken = std::min(room, bytes.size());
      partial_.append(bytes.substr(0, taken));
      bytes.remove_prefix(taken);
    }
  }
}

void LinePrefixer::finish(std::ostream& out) {
  if (!partial_.empty()) writeLine(out);
}

void LinePrefixer::writeLine(std::ostream& out) {
  out << prefix_ << partial_ << '\n';
  partial_.clear();
}

}  // namespace syncbn::dist
