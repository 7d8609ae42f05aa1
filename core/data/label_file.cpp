#include "data/label_file.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <set>
#include <tuple>

namespace syncbn::data {
namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::vector<std::string_view> columnsOf(std::string_view line) {
  std::vector<std::string_view> columns;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && isSpace(line[i]))
      ++i;
    const std::size_t start = i;
    while (i < line.size() && !isSpace(line[i]))
      ++i;
    if (i > start) columns.push_back(line.substr(start, i - start));
  }
  return columns;
}

bool parseNumber(std::string_view text, double& value) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);  // from_chars rejects '+'
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

std::string shown(std::string_view text) {
  constexpr std::size_t kMax = 40;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

}  // namespace

ParsedLabels parseLabels(std::string_view text, int classCount) {
  ParsedLabels parsed;
  const auto fail = [&](int line, std::string reason) {
    parsed.rows.clear();
    parsed.duplicatesRemoved = 0;
    parsed.error = std::move(reason);
    parsed.errorLine = line;
    return parsed;
  };
  static constexpr std::array<const char*, 5> kColumnNames{"class", "x_center", "y_center", "width",
                                                           "height"};
  using Key = std::tuple<int, float, float, float, float>;
  std::set<Key> seen;
  int lineNumber = 0;
  while (!text.empty()) {
    ++lineNumber;
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);

    const auto columns = columnsOf(line);
    if (columns.empty()) continue;
    if (columns.size() != 5)
      return fail(lineNumber, "expected 5 columns (class x_center y_center width height), got " +
                                  std::to_string(columns.size()));
    std::array<double, 5> values{};
    for (std::size_t c = 0; c < 5; ++c)
      if (!parseNumber(columns[c], values[c]))
        return fail(lineNumber,
                    std::string(kColumnNames[c]) + ": '" + shown(columns[c]) + "' is not a number");
    if (values[0] != std::floor(values[0]) || values[0] < 0 || values[0] >= classCount)
      return fail(lineNumber, "class " + shown(columns[0]) + " is not in names (" +
                                  std::to_string(classCount) + " classes: 0-" +
                                  std::to_string(classCount - 1) + ")");
    for (std::size_t c = 1; c < 5; ++c) {
      if (values[c] < -kCoordinateTolerance || values[c] > 1 + kCoordinateTolerance)
        return fail(lineNumber, std::string(kColumnNames[c]) + " " + shown(columns[c]) +
                                    " is outside [0, 1]: coordinates must be normalised");
      values[c] = std::clamp(values[c], 0.0, 1.0);
    }
    const LabelRow row{.cls = static_cast<int>(values[0]),
                       .cx = static_cast<float>(values[1]),
                       .cy = static_cast<float>(values[2]),
                       .w = static_cast<float>(values[3]),
                       .h = static_cast<float>(values[4])};
    if (!seen.emplace(row.cls, row.cx, row.cy, row.w, row.h).second) {
      ++parsed.duplicatesRemoved;
      continue;
    }
    parsed.rows.push_back(row);
  }
  return parsed;
}

}  // namespace syncbn::data
