#include "common/protocol.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <concepts>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <type_traits>

namespace syncbn::protocol {
namespace {

// ordered_json keeps "v" and "type" at the start of every line, where a reader of a log looks.
using Json = nlohmann::ordered_json;

// ---- Each struct's fields, listed once for both the encoder and the decoder ----

// Decode-time constraints on a field.
struct AtLeast {
  long long min;
};
struct OneOf {
  std::span<const std::string_view> allowed;
};
// The protocol version that added the field. The encoder always writes it (it writes the newest
// version); lines of older versions do not have it, and the decoder leaves it at its default.
struct Since {
  int version;
};

constexpr Since kVersion2{2};
constexpr Since kVersion3{3};

constexpr AtLeast kCount{0};
constexpr AtLeast kPositive{1};
constexpr AtLeast kRankOrLauncher{-1};

constexpr std::array<std::string_view, 2> kDevices{"cpu", "cuda"};
constexpr std::array<std::string_view, 3> kCheckpointKinds{"last", "best", "interval"};
constexpr std::array<std::string_view, 4> kLogLevels{"debug", "info", "warning", "error"};
constexpr std::array<std::string_view, 3> kFinishStatuses{"completed", "stopped", "failed"};
constexpr std::array<std::string_view, 3> kSplits{"train", "val", "test"};
constexpr std::array<std::string_view, 2> kProblemLevels{"error", "warning"};

// M is the struct itself when decoding and const when encoding, so one list serves both.
template <class M, class T>
concept Is = std::same_as<std::remove_const_t<M>, T>;

template <class V, Is<Hello> M>
void describe(V& v, M& m) {
  v.field("protocol", m.protocol, kPositive);
  v.field("engine_version", m.engine_version);
  v.field("token", m.token);
}

template <class V, Is<RunStarted> M>
void describe(V& v, M& m) {
  v.field("run_dir", m.run_dir);
  v.field("start_time", m.start_time, kVersion2);
  v.field("world_size", m.world_size, kPositive);
  v.field("device", m.device, OneOf{kDevices});
  v.field("norm", m.norm);
  v.field("epochs", m.epochs, kPositive);
  v.field("iterations_per_epoch", m.iterations_per_epoch, kPositive);
  v.field("global_batch", m.global_batch, kPositive);
  v.field("per_rank_batch", m.per_rank_batch, kPositive);
  v.field("config_yaml", m.config_yaml);
}

template <class V, Is<RankTiming> M>
void describe(V& v, M& m) {
  v.field("rank", m.rank, kCount);
  v.field("data_ms", m.data_ms);
  v.field("compute_ms", m.compute_ms);
  v.field("comm_ms", m.comm_ms);
}

template <class V, Is<Step> M>
void describe(V& v, M& m) {
  v.field("epoch", m.epoch, kCount);
  v.field("iteration", m.iteration, kCount);
  v.field("time", m.time, kVersion2);
  v.field("losses", m.losses);
  v.field("rank_losses", m.rank_losses);
  v.field("lr", m.lr);
  v.field("images_per_second", m.images_per_second);
  v.field("ranks", m.ranks);
}

template <class V, Is<BnLayerStats> M>
void describe(V& v, M& m) {
  v.field("layer", m.layer);
  v.field("divergence", m.divergence);
  v.field("rank_mean", m.rank_mean);
  v.field("rank_var", m.rank_var);
  v.field("disagreement", m.disagreement, kVersion3);
  v.field("noise", m.noise, kVersion3);
  v.field("rank_noise", m.rank_noise, kVersion3);
  v.field("rank_running_mean", m.rank_running_mean, kVersion3);
  v.field("rank_running_var", m.rank_running_var, kVersion3);
}

template <class V, Is<BnStats> M>
void describe(V& v, M& m) {
  v.field("iteration", m.iteration, kCount);
  v.field("layers", m.layers);
  v.field("rank_images", m.rank_images, kCount, kVersion3);
  v.field("layers_total", m.layers_total, kCount, kVersion3);
  v.field("disagreement_max", m.disagreement_max, kVersion3);
  v.field("disagreement_median", m.disagreement_median, kVersion3);
  v.field("noise_max", m.noise_max, kVersion3);
  v.field("noise_median", m.noise_median, kVersion3);
  v.field("worst_layer", m.worst_layer, kVersion3);
}

template <class V, Is<ClassMetrics> M>
void describe(V& v, M& m) {
  v.field("name", m.name);
  v.field("images", m.images, kCount);
  v.field("instances", m.instances, kCount);
  v.field("precision", m.precision);
  v.field("recall", m.recall);
  v.field("map50", m.map50);
  v.field("map50_95", m.map50_95);
}

template <class V, Is<Val> M>
void describe(V& v, M& m) {
  v.field("epoch", m.epoch, kCount);
  v.field("time", m.time, kVersion2);
  v.field("precision", m.precision);
  v.field("recall", m.recall);
  v.field("map50", m.map50);
  v.field("map50_95", m.map50_95);
  v.field("fitness", m.fitness);
  v.field("classes", m.classes);
  v.field("box_loss", m.box_loss, kVersion3);
  v.field("cls_loss", m.cls_loss, kVersion3);
  v.field("dfl_loss", m.dfl_loss, kVersion3);
}

template <class V, Is<Checkpoint> M>
void describe(V& v, M& m) {
  v.field("path", m.path);
  v.field("kind", m.kind, OneOf{kCheckpointKinds});
  v.field("epoch", m.epoch, kCount);
  v.field("iteration", m.iteration, kCount);
}

template <class V, Is<Log> M>
void describe(V& v, M& m) {
  v.field("level", m.level, OneOf{kLogLevels});
  v.field("rank", m.rank, kRankOrLauncher);
  v.field("text", m.text);
}

template <class V, Is<RankExit> M>
void describe(V& v, M& m) {
  v.field("rank", m.rank, kCount);
  v.field("exit_code", m.exit_code);
  v.field("signal", m.signal, kCount);
  v.field("reason", m.reason);
}

template <class V, Is<Finished> M>
void describe(V& v, M& m) {
  v.field("status", m.status, OneOf{kFinishStatuses});
  v.field("epochs_completed", m.epochs_completed, kCount);
  v.field("best_fitness", m.best_fitness);
  v.field("map50", m.map50);
  v.field("map50_95", m.map50_95);
  v.field("best_checkpoint", m.best_checkpoint);
  v.field("error", m.error);
}

template <class V, Is<DatasetClass> M>
void describe(V& v, M& m) {
  v.field("name", m.name);
  v.field("images", m.images, kCount);
  v.field("instances", m.instances, kCount);
}

template <class V, Is<DatasetProblem> M>
void describe(V& v, M& m) {
  v.field("file", m.file);
  v.field("line", m.line, kCount);
  v.field("level", m.level, OneOf{kProblemLevels});
  v.field("reason", m.reason);
}

template <class V, Is<DatasetSummary> M>
void describe(V& v, M& m) {
  v.field("data", m.data);
  v.field("split", m.split, OneOf{kSplits});
  v.field("images", m.images, kCount);
  v.field("backgrounds", m.backgrounds, kCount);
  v.field("skipped", m.skipped, kCount);
  v.field("duplicates_removed", m.duplicates_removed, kCount);
  v.field("instances", m.instances, kCount);
  v.field("classes", m.classes);
  v.field("problems", m.problems);
  v.field("problems_total", m.problems_total, kCount);
}

template <class V, Is<Stop> M>
void describe(V&, M&) {}

template <class V, Is<CheckpointNow> M>
void describe(V&, M&) {}

// ---- Encoding ----

class JsonWriter {
 public:
  template <class T, class... Constraints>
  void field(std::string_view name, const T& value, const Constraints&...) {
    object_[std::string(name)] = toJson(value);
  }

  Json take() && { return std::move(object_); }

 private:
  static Json toJson(int value) { return value; }
  static Json toJson(long long value) { return value; }
  static Json toJson(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }
  static Json toJson(const std::string& value) { return value; }

  static Json toJson(const std::map<std::string, double>& values) {
    Json object = Json::object();
    for (const auto& [key, value] : values)
      object[key] = toJson(value);
    return object;
  }

  template <class T>
  static Json toJson(const std::vector<T>& values) {
    Json array = Json::array();
    for (const auto& value : values)
      array.push_back(toJson(value));
    return array;
  }

  template <class Record>
  requires std::is_class_v<Record>
  static Json toJson(const Record& record) {
    JsonWriter writer;
    describe(writer, record);
    return std::move(writer).take();
  }

  Json object_ = Json::object();
};

// ---- Decoding ----

// Thrown and caught only inside decode(), which turns it into a DecodeError.
class FieldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Input text shown in an error message: cut short (on a UTF-8 character boundary), so that a
// hostile 1 MiB string does not become a 1 MiB error.
std::string shortened(std::string_view text) {
  constexpr std::size_t kMaxShown = 60;
  if (text.size() <= kMaxShown) return std::string(text);
  std::size_t cut = kMaxShown;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return std::string(text.substr(0, cut)) + "...";
}

// A string from the input, shortened, quoted and escaped as JSON.
std::string quote(std::string_view text) {
  return Json(shortened(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string kindOf(const Json& value) {
  if (value.is_number_float()) return "floating-point number";
  if (value.is_number()) return "integer";
  return value.type_name();
}

int sinceVersion(const Since& since) {
  return since.version;
}
template <class Constraint>
int sinceVersion(const Constraint&) {
  return kOldestProtocolVersion;
}

// Reads the fields of one object of a line of protocol version `version`.
class JsonReader {
 public:
  JsonReader(const Json& object, std::string path, int version)
      : object_(object), path_(std::move(path)), version_(version) {}

  template <class T, class... Constraints>
  void field(std::string_view name, T& value, const Constraints&... constraints) {
    const int since = std::max({kOldestProtocolVersion, sinceVersion(constraints)...});
    if (version_ < since) return;  // not part of this line's version: keeps its default
    const std::string path = path_.empty() ? std::string(name) : path_ + "." + std::string(name);
    const auto found = object_.find(std::string(name));
    if (found == object_.end()) throw FieldError(path + ": missing field");
    read(*found, value, path);
    (check(value, constraints, path), ...);
  }

 private:
  [[noreturn]] static void wrongType(const Json& value, std::string_view expected,
                                     const std::string& path) {
    throw FieldError(path + ": expected " + std::string(expected) + ", got " + kindOf(value));
  }

  static long long readInteger(const Json& value, const std::string& path) {
    if (!value.is_number_integer()) wrongType(value, "integer", path);
    const bool tooLarge =
        value.is_number_unsigned() &&
        value.get<unsigned long long>() > static_cast<unsigned long long>(LLONG_MAX);
    if (tooLarge) throw FieldError(path + ": integer out of range");
    return value.get<long long>();
  }

  static void read(const Json& value, long long& out, const std::string& path) {
    out = readInteger(value, path);
  }

  static void read(const Json& value, int& out, const std::string& path) {
    const long long wide = readInteger(value, path);
    if (wide < INT_MIN || wide > INT_MAX)
      throw FieldError(path + ": integer " + std::to_string(wide) + " out of range");
    out = static_cast<int>(wide);
  }

  static void read(const Json& value, double& out, const std::string& path) {
    if (value.is_null()) {
      out = std::numeric_limits<double>::quiet_NaN();  // how non-finite values are sent
    } else if (value.is_number()) {
      out = value.get<double>();
    } else {
      wrongType(value, "number or null", path);
    }
  }

  static void read(const Json& value, std::string& out, const std::string& path) {
    if (!value.is_string()) wrongType(value, "string", path);
    out = value.get<std::string>();
  }

  static void read(const Json& value, std::map<std::string, double>& out, const std::string& path) {
    if (!value.is_object()) wrongType(value, "object", path);
    for (const auto& [key, number] : value.items())
      read(number, out[key], path + "." + shortened(key));
  }

  template <class T>
  void read(const Json& value, std::vector<T>& out, const std::string& path) const {
    if (!value.is_array()) wrongType(value, "array", path);
    out.resize(value.size());
    for (std::size_t i = 0; i < out.size(); ++i)
      read(value[i], out[i], path + "[" + std::to_string(i) + "]");
  }

  template <class Record>
  requires std::is_class_v<Record>
  void read(const Json& value, Record& out, const std::string& path) const {
    if (!value.is_object()) wrongType(value, "object", path);
    JsonReader reader(value, path, version_);
    describe(reader, out);
  }

  static void check(long long value, AtLeast constraint, const std::string& path) {
    if (value < constraint.min)
      throw FieldError(path + ": must be >= " + std::to_string(constraint.min) + ", got " +
                       std::to_string(value));
  }

  template <class T>
  static void check(const std::vector<T>& values, AtLeast constraint, const std::string& path) {
    for (std::size_t i = 0; i < values.size(); ++i)
      check(values[i], constraint, path + "[" + std::to_string(i) + "]");
  }

  static void check(const std::string& value, OneOf constraint, const std::string& path) {
    std::string expected;
    for (const auto allowed : constraint.allowed) {
      if (value == allowed) return;
      expected += (expected.empty() ? "" : ", ") + quote(allowed);
    }
    throw FieldError(path + ": expected one of " + expected + ", got " + quote(value));
  }

  template <class T>
  static void check(const T&, Since, const std::string&) {}  // applied before reading

  const Json& object_;
  std::string path_;
  int version_;
};

template <class M>
Message readMessage(const Json& root, int version) {
  M message;
  JsonReader reader(root, std::string(M::kType), version);
  describe(reader, message);
  return message;
}

template <class... M>
Message readMessageOfType(std::string_view type, const Json& root, int version,
                          std::type_identity<std::variant<M...>>) {
  Message message;
  // Stops at the one alternative whose kType matches, if any.
  const bool known = ((type == M::kType && (message = readMessage<M>(root, version), true)) || ...);
  if (!known) throw FieldError("unknown message type " + quote(type));
  return message;
}

// "version 2", "versions 1 and 2", "versions 1 to 3".
std::string supportedVersions() {
  const std::string oldest = std::to_string(kOldestProtocolVersion);
  const std::string newest = std::to_string(kProtocolVersion);
  if (kOldestProtocolVersion == kProtocolVersion) return "version " + newest;
  if (kOldestProtocolVersion + 1 == kProtocolVersion)
    return "versions " + oldest + " and " + newest;
  return "versions " + oldest + " to " + newest;
}

Message readEnvelope(const Json& root) {
  if (!root.is_object()) throw FieldError("expected a JSON object, got " + kindOf(root));
  JsonReader envelope(root, "", kProtocolVersion);
  int version = 0;
  envelope.field("v", version);
  if (version < kOldestProtocolVersion || version > kProtocolVersion)
    throw FieldError("unsupported protocol version " + std::to_string(version) +
                     " (this build supports " + supportedVersions() + ")");
  std::string type;
  envelope.field("type", type);
  return readMessageOfType(type, root, version, std::type_identity<Message>{});
}

std::string_view withoutTerminator(std::string_view line) {
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

std::string describeParseError(const Json::parse_error& error, std::size_t lineSize) {
  std::string what = error.what();
  // Drop nlohmann's "[json.exception.parse_error.101] " prefix; the rest says where and why.
  if (const auto end = what.find("] "); what.starts_with("[json.") && end != std::string::npos)
    what.erase(0, end + 2);
  // The message quotes the input it choked on ("last read: '...'"): raw bytes of any length.
  constexpr std::size_t kMaxShown = 200;
  if (what.size() > kMaxShown) what.replace(kMaxShown, std::string::npos, "...");
  for (char& c : what)
    if (c < ' ' || c > '~') c = '?';
  // `byte` is 1-based and points past the end when the input stopped too early.
  const bool truncated = error.byte > lineSize;
  return (truncated ? "truncated JSON: " : "not valid JSON: ") + what;
}

std::string lineLimit() {
  return std::to_string(kMaxLineBytes) + " bytes";
}

// The '\r' of a CRLF ending may still sit at the end of an unfinished line.
constexpr std::size_t kMaxUnfinishedBytes = kMaxLineBytes + 1;

}  // namespace

std::string_view typeName(const Message& message) {
  return std::visit([](const auto& m) { return m.kType; }, message);
}

std::string encode(const Message& message) {
  return std::visit(
      [](const auto& m) {
        JsonWriter writer;
        writer.field("v", kProtocolVersion);
        writer.field("type", std::string(m.kType));
        describe(writer, m);
        return std::move(writer).take().dump(-1, ' ', false, Json::error_handler_t::replace) + '\n';
      },
      message);
}

DecodeResult decode(std::string_view line) {
  line = withoutTerminator(line);
  if (line.size() > kMaxLineBytes)
    return DecodeError{"line of " + std::to_string(line.size()) + " bytes exceeds the limit of " +
                       lineLimit()};
  if (line.empty()) return DecodeError{"empty line"};
  try {
    return readEnvelope(Json::parse(line));
  } catch (const FieldError& error) {
    return DecodeError{error.what()};
  } catch (const Json::parse_error& error) {
    return DecodeError{describeParseError(error, line.size())};
  } catch (const Json::exception& error) {
    return DecodeError{std::string("malformed message: ") + error.what()};
  } catch (const std::exception& error) {
    return DecodeError{std::string("cannot decode message: ") + error.what()};
  }
}

// ---- LineSplitter ----

void LineSplitter::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t newline = bytes.find('\n');
    append(bytes.substr(0, newline));
    if (newline == std::string_view::npos) return;
    endLine();
    bytes.remove_prefix(newline + 1);
  }
}

void LineSplitter::append(std::string_view piece) {
  if (dropping_) return;
  if (partial_.size() + piece.size() <= kMaxUnfinishedBytes) {
    partial_.append(piece);
    return;
  }
  dropping_ = true;
  partial_.clear();
  complete_.emplace_back(DecodeError{"oversized line dropped: longer than " + lineLimit()});
}

void LineSplitter::endLine() {
  if (!dropping_) {
    std::string line = std::move(partial_);
    if (line.ends_with('\r')) line.pop_back();
    if (!line.empty()) complete_.emplace_back(std::move(line));
  }
  partial_.clear();
  dropping_ = false;
}

std::vector<Result<std::string>> LineSplitter::take() {
  return std::exchange(complete_, {});
}

std::vector<DecodeResult> LineSplitter::feedAndDecode(std::string_view bytes) {
  feed(bytes);
  std::vector<DecodeResult> results;
  for (const auto& line : take())
    results.push_back(line.ok() ? decode(line.value()) : DecodeResult(line.error()));
  return results;
}

}  // namespace syncbn::protocol
