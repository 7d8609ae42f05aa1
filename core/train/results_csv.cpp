#include "train/results_csv.h"

#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "common/atomic_file.h"

namespace syncbn::train {
namespace {

// The values after the epoch, in the order of kResultsCsvHeader.
constexpr std::size_t kValueColumns = 14;

// Pointers to them, const for a const row.
template <class Row>
std::array<decltype(&std::declval<Row&>().time), kValueColumns> valuesOf(Row& row) {
  return {&row.time,   &row.trainBox, &row.trainCls, &row.trainDfl, &row.precision,
          &row.recall, &row.map50,    &row.map50_95, &row.valBox,   &row.valCls,
          &row.valDfl, &row.lr[0],    &row.lr[1],    &row.lr[2]};
}

void appendNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "nan";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "inf" : "-inf";
    return;
  }
  char buffer[64];
  // to_chars' general format with a precision is printf's %.6g, without printf's locale.
  const auto [end, error] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 6);
  if (error != std::errc()) throw std::logic_error("results.csv: cannot format a number");
  out.append(buffer, end);
}

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

// One data line of a file with `header` (either of the two) -> a row; `where` ("file:line")
// prefixes every error.
ResultsRow parseRow(std::string_view line, std::string_view header, const std::string& where) {
  const std::vector<std::string_view> names = splitFields(header);
  const std::vector<std::string_view> fields = splitFields(line);
  if (fields.size() != names.size())
    throw std::runtime_error(where + ": expected " + std::to_string(names.size()) +
                             " comma-separated values, found " + std::to_string(fields.size()));
  ResultsRow row;
  const std::string_view epoch = fields[0];
  const auto [epochEnd, epochError] =
      std::from_chars(epoch.data(), epoch.data() + epoch.size(), row.epoch);
  if (epochError != std::errc() || epochEnd != epoch.data() + epoch.size() || row.epoch < 1)
    throw std::runtime_error(where + ": epoch '" + std::string(epoch) + "' is not an integer >= 1");
  // Without the time column, the values start one later in valuesOf (time stays 0).
  const std::size_t skipped = kValueColumns + 1 - names.size();
  const auto values = valuesOf(row);
  for (std::size_t i = 1; i < fields.size(); ++i) {
    const std::string_view field = fields[i];
    const auto [end, error] =
        std::from_chars(field.data(), field.data() + field.size(), *values[i - 1 + skipped]);
    if (field.empty() || error != std::errc() || end != field.data() + field.size())
      throw std::runtime_error(where + ": " + std::string(names[i]) + " '" + std::string(field) +
                               "' is not a number");
  }
  return row;
}

}  // namespace

std::string formatResultsRow(const ResultsRow& row) {
  std::string line = std::to_string(row.epoch);
  for (const double* value : valuesOf(row)) {
    line += ',';
    appendNumber(line, *value);
  }
  return line;
}

ResultsCsv::ResultsCsv(std::filesystem::path path) : path_(std::move(path)) {}

void ResultsCsv::keepFirstEpochs(int keepEpochs) {
  rows_.clear();
  std::error_code error;
  if (!std::filesystem::exists(path_, error)) {
    if (error)
      throw std::runtime_error(path_.string() + ": cannot check the file: " + error.message());
    return;
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw std::runtime_error(path_.string() + ": cannot open the file");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw std::runtime_error(path_.string() + ": cannot read the file");

  std::vector<ResultsRow> rows;
  std::string_view header = kResultsCsvHeader;
  bool dropped = false;
  int lastEpoch = 0;
  std::size_t start = 0;
  for (int number = 1; start < text.size() || number == 1; ++number) {
    const std::size_t newline = text.find('\n', start);
    std::string_view line(text.data() + start,
                          (newline == std::string::npos ? text.size() : newline) - start);
    start = newline == std::string::npos ? text.size() : newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = path_.string() + ":" + std::to_string(number);
    if (number == 1) {
      if (line != kResultsCsvHeader && line != kResultsCsvHeaderWithoutTime)
        throw std::runtime_error(where + ": the header is not Ultralytics' results.csv header '" +
                                 std::string(kResultsCsvHeader) + "' (nor that without time)");
      header = line == kResultsCsvHeader ? kResultsCsvHeader : kResultsCsvHeaderWithoutTime;
      continue;
    }
    ResultsRow row = parseRow(line, header, where);
    if (row.epoch <= lastEpoch)
      throw std::runtime_error(where + ": epoch " + std::to_string(row.epoch) + " after epoch " +
                               std::to_string(lastEpoch) + " (epochs must increase)");
    lastEpoch = row.epoch;
    if (row.epoch <= keepEpochs)
      rows.push_back(row);
    else
      dropped = true;
  }
  rows_ = std::move(rows);
  if (dropped || header != kResultsCsvHeader) write();  // the file in this format from now on
}

void ResultsCsv::append(const ResultsRow& row) {
  if (row.epoch < 1)
    throw std::invalid_argument(path_.string() + ": epoch " + std::to_string(row.epoch) +
                                " must be at least 1");
  if (!rows_.empty() && row.epoch <= rows_.back().epoch)
    throw std::invalid_argument(path_.string() + ": epoch " + std::to_string(row.epoch) +
                                " does not follow epoch " + std::to_string(rows_.back().epoch));
  rows_.push_back(parseRow(formatResultsRow(row), kResultsCsvHeader, path_.string()));
  try {
    write();
  } catch (...) {
    rows_.pop_back();  // rows() keeps matching the file
    throw;
  }
}

void ResultsCsv::write() const {
  std::string text(kResultsCsvHeader);
  text += '\n';
  for (const ResultsRow& row : rows_) {
    text += formatResultsRow(row);
    text += '\n';
  }
  writeFileAtomically(path_, text);
}

}  // namespace syncbn::train
