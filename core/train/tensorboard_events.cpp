#include "train/tensorboard_events.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <type_traits>

namespace syncbn::train {
namespace {

// Table-driven CRC-32C, reflected polynomial 0x82F63B78: the 256-entry table is the usual
// byte-at-a-time trade; event files are small and written once a step.
constexpr std::array<std::uint32_t, 256> makeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrcTable = makeCrcTable();

// ---- protobuf wire format, the three kinds of field the two messages use ----
enum WireType : std::uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void appendVarint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void appendKey(std::string& out, int field, WireType type) {
  appendVarint(out, (static_cast<std::uint64_t>(field) << 3) | type);
}

template <typename T>
void appendLittleEndian(std::string& out, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86 and ARM Linux are little-endian, as the format
  out.append(bytes, sizeof(T));
}

void appendBytes(std::string& out, int field, std::string_view bytes) {
  appendKey(out, field, kLengthDelimited);
  appendVarint(out, bytes.size());
  out.append(bytes);
}

// Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
std::string eventHeader(double wallTime, std::int64_t step) {
  std::string event;
  appendKey(event, 1, kFixed64);
  appendLittleEndian(event, wallTime);
  if (step != 0) {
    appendKey(event, 2, kVarint);
    appendVarint(event, static_cast<std::uint64_t>(step));  // two's complement, as int64 is
  }
  return event;
}

std::string hostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

std::uint32_t crc32c(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char c : data)
    crc = kCrcTable[(crc ^ static_cast<unsigned char>(c)) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::uint32_t maskedCrc32c(std::string_view data) {
  const std::uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;  // TFRecord's mask (tensorflow crc32c.h)
}

std::string scalarEvent(const std::string& tag, float value, std::int64_t step, double wallTime) {
  // Summary.Value { string tag = 1; float simple_value = 2; }
  std::string summaryValue;
  appendBytes(summaryValue, 1, tag);
  appendKey(summaryValue, 2, kFixed32);
  appendLittleEndian(summaryValue, value);
  // Summary { repeated Value value = 1; }
  std::string summary;
  appendBytes(summary, 1, summaryValue);
  std::string event = eventHeader(wallTime, step);
  appendBytes(event, 5, summary);
  return event;
}

TensorBoardFile::TensorBoardFile(const std::filesystem::path& folder, double wallTime) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw std::runtime_error("cannot create " + folder.string() + ": " + ec.message());
  path_ = folder / ("events.out.tfevents." + std::to_string(static_cast<long long>(wallTime)) +
                    "." + hostName());
  out_.open(path_, std::ios::binary | std::ios::app);
  if (!out_) throw std::runtime_error("cannot write " + path_.string());
  std::string version = eventHeader(wallTime, 0);
  appendBytes(version, 3, "brain.Event:2");
  writeRecord(version);
  flush();
}

void TensorBoardFile::writeRecord(std::string_view data) {
  std::string header;
  appendLittleEndian(header, static_cast<std::uint64_t>(data.size()));
  out_.write(header.data(), static_cast<std::streamsize>(header.size()));
  std::string crc;
  appendLittleEndian(crc, maskedCrc32c(header));
  out_.write(crc.data(), static_cast<std::streamsize>(crc.size()));
  out_.write(data.data(), static_cast<std::streamsize>(data.size()));
  crc.clear();
  appendLittleEndian(crc, maskedCrc32c(data));
  out_.write(crc.data(), static_cast<std::streamsize>(crc.size()));
}

void TensorBoardFile::addScalar(const std::string& tag, double value, std::int64_t step,
                                double wallTime) {
  writeRecord(scalarEvent(tag, static_cast<float>(value), step, wallTime));
}

void TensorBoardFile::flush() {
  out_.flush();
  if (!out_) throw std::runtime_error("cannot write " + path_.string());
}

TensorBoardSink::TensorBoardSink(std::filesystem::path folder) : folder_(std::move(folder)) {}

void TensorBoardSink::scalar(const std::string& tag, double value, std::int64_t step, double time) {
  file_->addScalar(tag, value, step, startTime_ + time);
}

void TensorBoardSink::publish(const protocol::Message& message) {
  if (!error_.empty()) return;
  try {
    write(message);
  } catch (const std::exception& e) {
    error_ = e.what();
    std::fprintf(stderr, "warning: TensorBoard logging stopped: %s\n", error_.c_str());
  }
}

void TensorBoardSink::write(const protocol::Message& message) {
  if (const auto* started = std::get_if<protocol::RunStarted>(&message)) {
    startTime_ = started->start_time;
    file_ = std::make_unique<TensorBoardFile>(folder_, startTime_);
    return;
  }
  if (!file_) return;  // nothing to plot before the run has started
  {
    if (const auto* step = std::get_if<protocol::Step>(&message)) {
      const std::int64_t x = step->iteration;
      for (const auto& [term, value] : step->losses)
        scalar("train/" + term + "_loss", value, x, step->time);
      scalar("lr/pg0", step->lr, x, step->time);
      scalar("speed/images_per_second", step->images_per_second, x, step->time);
      for (std::size_t r = 0; r < step->ranks.size(); ++r) {
        const std::string rank = "rank" + std::to_string(r) + "/";
        scalar(rank + "data_ms", step->ranks[r].data_ms, x, step->time);
        scalar(rank + "compute_ms", step->ranks[r].compute_ms, x, step->time);
        scalar(rank + "comm_ms", step->ranks[r].comm_ms, x, step->time);
      }
    } else if (const auto* val = std::get_if<protocol::Val>(&message)) {
      const std::int64_t x = val->epoch;
      scalar("metrics/precision(B)", val->precision, x, val->time);
      scalar("metrics/recall(B)", val->recall, x, val->time);
      scalar("metrics/mAP50(B)", val->map50, x, val->time);
      scalar("metrics/mAP50-95(B)", val->map50_95, x, val->time);
      scalar("metrics/fitness", val->fitness, x, val->time);
      scalar("val/box_loss", val->box_loss, x, val->time);
      scalar("val/cls_loss", val->cls_loss, x, val->time);
      scalar("val/dfl_loss", val->dfl_loss, x, val->time);
    } else if (const auto* bn = std::get_if<protocol::BnStats>(&message)) {
      // bn_stats carries no time of its own: the wall clock now is when it was measured.
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count() -
          startTime_;
      scalar("bn/noise_max", bn->noise_max, bn->iteration, now);
      scalar("bn/noise_median", bn->noise_median, bn->iteration, now);
      scalar("bn/disagreement_max", bn->disagreement_max, bn->iteration, now);
      scalar("bn/disagreement_median", bn->disagreement_median, bn->iteration, now);
    } else {
      return;
    }
    file_->flush();  // TensorBoard reads the file as it grows
  }
}

}  // namespace syncbn::train
