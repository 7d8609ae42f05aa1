// Ultralytics detection labels: one object per line, `class cx cy w h`, the box's centre and size
// normalised by the image's width and height.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace syncbn::data {

struct LabelRow {
  int cls = 0;
  float cx = 0, cy = 0, w = 0, h = 0;
  bool operator==(const LabelRow&) const = default;
};

// Coordinates may exceed [0, 1] by this much (rounding in labelling tools); they are then clamped.
inline constexpr double kCoordinateTolerance = 1e-4;

struct ParsedLabels {
  std::vector<LabelRow> rows;  // in file order, exact duplicates removed
  std::size_t duplicatesRemoved = 0;
  // Empty when the file is usable; else the first problem and its 1-based line.
  std::string error;
  int errorLine = 0;
  bool ok() const { return error.empty(); }
};

// Parses a label file's text. Blank lines are ignored; a row with the wrong number of columns,
// a value that is not a finite number, a class id that is not an integer in [0, classCount), or a
// coordinate outside [0, 1] (beyond kCoordinateTolerance) makes the whole file unusable.
ParsedLabels parseLabels(std::string_view text, int classCount);

}  // namespace syncbn::data
