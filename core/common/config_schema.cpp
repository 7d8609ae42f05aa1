#include "common/config_schema.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <type_traits>

namespace syncbn {
namespace {

// Builds one FieldSpec bound to `Config::*section .* member`.
template <typename S, typename T>
FieldSpec field(std::string_view section, std::string_view key, S Config::*sec, T S::*member,
                std::string_view help) {
  FieldSpec f;
  f.section = section;
  f.key = key;
  f.help = help;
  if constexpr (std::is_same_v<T, int>) {
    f.type = FieldType::Int;
    f.get = [sec, member](const Config& c) -> FieldValue { return (long long)((c.*sec).*member); };
    f.set = [sec, member](Config& c, const FieldValue& v) {
      (c.*sec).*member = static_cast<int>(std::get<long long>(v));
    };
  } else if constexpr (std::is_same_v<T, double>) {
    f.type = FieldType::Float;
    f.get = [sec, member](const Config& c) -> FieldValue { return (c.*sec).*member; };
    f.set = [sec, member](Config& c, const FieldValue& v) {
      (c.*sec).*member = std::get<double>(v);
    };
  } else if constexpr (std::is_same_v<T, bool>) {
    f.type = FieldType::Bool;
    f.get = [sec, member](const Config& c) -> FieldValue { return (c.*sec).*member; };
    f.set = [sec, member](Config& c, const FieldValue& v) { (c.*sec).*member = std::get<bool>(v); };
  } else if constexpr (std::is_same_v<T, std::string>) {
    f.type = FieldType::String;
    f.get = [sec, member](const Config& c) -> FieldValue { return (c.*sec).*member; };
    f.set = [sec, member](Config& c, const FieldValue& v) {
      (c.*sec).*member = std::get<std::string>(v);
    };
  } else {
    // Enumerations: stored as enums, exchanged as their canonical names.
    f.type = FieldType::Choice;
    f.get = [sec, member](const Config& c) -> FieldValue {
      return std::string(toString((c.*sec).*member));
    };
    f.set = [sec, member](Config& c, const FieldValue& v) {
      const auto& name = std::get<std::string>(v);
      if constexpr (std::is_same_v<T, NormKind>) {
        if (auto e = parseNormKind(name)) (c.*sec).*member = *e;
      } else {
        if (auto e = parseBackend(name)) (c.*sec).*member = *e;
      }
    };
  }
  return f;
}

FieldSpec ranged(FieldSpec f, double min, double max) {
  f.min = min;
  f.max = max;
  return f;
}

FieldSpec choices(FieldSpec f, std::vector<std::string_view> names) {
  f.type = FieldType::Choice;
  f.choices = std::move(names);
  return f;
}

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<FieldSpec> buildFields() {
  using C = Config;
  return {
      field("data", "data", &C::data, &DataConfig::data,
            "Ultralytics data.yaml, or 'demo' for the built-in synthetic dataset"),
      ranged(field("data", "imgsz", &C::data, &DataConfig::imgsz,
                   "Training and validation image size in pixels (multiple of 32)"),
             32, 8192),
      ranged(field("data", "max_image_pixels", &C::data, &DataConfig::max_image_pixels,
                   "Pixels above which an image is reported; above twice it, refused unread "
                   "(0: no limit)"),
             0, 1000000000),
      ranged(field("data", "cache_mb", &C::data, &DataConfig::cache_mb,
                   "RAM per rank for decoded images, MiB, so each is decoded once (0: no cache)"),
             0, 1048576),

      field("model", "model", &C::model, &ModelConfig::model,
            "Model: a scale (n/s/m/l/x), a built-in yolov8n.yaml..yolov8x.yaml, or a model YAML"),

      ranged(field("train", "epochs", &C::train, &TrainConfig::epochs, "Epochs to train"), 1,
             100000),
      ranged(field("train", "batch", &C::train, &TrainConfig::batch,
                   "Global batch size, split evenly across ranks"),
             1, 65536),
      choices(field("train", "optimizer", &C::train, &TrainConfig::optimizer,
                    "Optimizer; auto picks SGD or AdamW from the run length as Ultralytics does"),
              {"auto", "SGD", "Adam", "Adamax", "AdamW", "NAdam", "RAdam", "RMSProp"}),
      ranged(field("train", "lr0", &C::train, &TrainConfig::lr0, "Initial learning rate"), 1e-8,
             10),
      ranged(field("train", "lrf", &C::train, &TrainConfig::lrf,
                   "Final learning rate as a fraction of lr0"),
             0, 1),
      field("train", "cos_lr", &C::train, &TrainConfig::cos_lr,
            "Cosine learning-rate decay (else linear)"),
      ranged(field("train", "momentum", &C::train, &TrainConfig::momentum,
                   "SGD momentum / Adam beta1"),
             0, 0.9999),
      ranged(field("train", "weight_decay", &C::train, &TrainConfig::weight_decay,
                   "Weight decay at the nominal batch size"),
             0, 0.1),
      ranged(field("train", "warmup_epochs", &C::train, &TrainConfig::warmup_epochs,
                   "Warmup length in epochs (fractions allowed)"),
             0, 1000),
      ranged(field("train", "warmup_momentum", &C::train, &TrainConfig::warmup_momentum,
                   "Momentum at the start of warmup"),
             0, 0.9999),
      ranged(field("train", "warmup_bias_lr", &C::train, &TrainConfig::warmup_bias_lr,
                   "Bias learning rate at the start of warmup"),
             0, 10),
      ranged(field("train", "nbs", &C::train, &TrainConfig::nbs,
                   "Nominal batch size: gradients accumulate until this many images"),
             1, 65536),
      field("train", "amp", &C::train, &TrainConfig::amp, "Automatic mixed precision (CUDA only)"),
      ranged(field("train", "seed", &C::train, &TrainConfig::seed, "Random seed"), 0, INT_MAX),
      field("train", "deterministic", &C::train, &TrainConfig::deterministic,
            "Use deterministic algorithms"),
      ranged(field("train", "workers", &C::train, &TrainConfig::workers,
                   "Data loader threads per rank"),
             0, 64),
      ranged(field("train", "freeze", &C::train, &TrainConfig::freeze,
                   "Freeze the first N layers when fine-tuning (0 = train every layer)"),
             0, 512),
      ranged(field("train", "close_mosaic", &C::train, &TrainConfig::close_mosaic,
                   "Turn mosaic off for the last N epochs"),
             0, 100000),
      ranged(field("train", "patience", &C::train, &TrainConfig::patience,
                   "Stop after N epochs without improvement (0 = never)"),
             0, 100000),
      ranged(field("train", "hsv_h", &C::train, &TrainConfig::hsv_h, "Hue jitter (fraction)"), 0,
             1),
      ranged(
          field("train", "hsv_s", &C::train, &TrainConfig::hsv_s, "Saturation jitter (fraction)"),
          0, 1),
      ranged(field("train", "hsv_v", &C::train, &TrainConfig::hsv_v, "Value jitter (fraction)"), 0,
             1),
      ranged(field("train", "degrees", &C::train, &TrainConfig::degrees, "Rotation (+/- degrees)"),
             0, 180),
      ranged(field("train", "translate", &C::train, &TrainConfig::translate,
                   "Translation (+/- fraction of image size)"),
             0, 0.9),
      ranged(field("train", "scale", &C::train, &TrainConfig::scale, "Scale gain (+/- fraction)"),
             0, 0.95),
      ranged(field("train", "shear", &C::train, &TrainConfig::shear, "Shear (+/- degrees)"), 0, 45),
      ranged(field("train", "fliplr", &C::train, &TrainConfig::fliplr,
                   "Probability of a horizontal flip"),
             0, 1),
      ranged(field("train", "mosaic", &C::train, &TrainConfig::mosaic, "Probability of mosaic"), 0,
             1),
      field("train", "augment", &C::train, &TrainConfig::augment,
            "Augment training images (off: letterbox only, for reproducibility checks)"),

      field("distributed", "device", &C::distributed, &DistributedConfig::device,
            "'' = all CUDA devices (else CPU), 'cpu', or CUDA device ids such as '0,1'"),
      ranged(field("distributed", "cpu_ranks", &C::distributed, &DistributedConfig::cpu_ranks,
                   "Processes per node when training on the CPU"),
             1, 256),
      ranged(field("distributed", "cpu_threads", &C::distributed, &DistributedConfig::cpu_threads,
                   "Threads per CPU rank (0: its share of the cores left free at start)"),
             0, 1024),
      choices(field("distributed", "backend", &C::distributed, &DistributedConfig::backend,
                    "Collective backend; auto = NCCL on CUDA, Gloo on CPU"),
              {"auto", "nccl", "gloo"}),
      choices(field("distributed", "norm", &C::distributed, &DistributedConfig::norm,
                    "Normalisation: per-rank BN, synchronized BN, GroupNorm, or frozen BN"),
              {"bn", "syncbn", "groupnorm", "frozen"}),
      ranged(field("distributed", "precise_bn", &C::distributed, &DistributedConfig::precise_bn,
                   "Batches for PreciseBN recalibration before validation (0 = off)"),
             0, 100000),
      ranged(field("distributed", "nnodes", &C::distributed, &DistributedConfig::nnodes,
                   "Number of machines"),
             1, 4096),
      ranged(field("distributed", "node_rank", &C::distributed, &DistributedConfig::node_rank,
                   "This machine's index among nnodes"),
             0, 4095),
      field("distributed", "master_addr", &C::distributed, &DistributedConfig::master_addr,
            "Address of node 0, where ranks meet"),
      ranged(field("distributed", "master_port", &C::distributed, &DistributedConfig::master_port,
                   "TCP port on node 0 for the rendezvous"),
             1, 65535),
      ranged(field("distributed", "timeout", &C::distributed, &DistributedConfig::timeout,
                   "Seconds a collective may wait before the run fails"),
             1, 86400),

      field("output", "project", &C::output, &OutputConfig::project, "Directory holding runs"),
      field("output", "name", &C::output, &OutputConfig::name,
            "Run name: the run dir is project/name"),
      field("output", "exist_ok", &C::output, &OutputConfig::exist_ok,
            "Reuse an existing run dir instead of numbering a new one"),
      ranged(field("output", "checkpoint_interval", &C::output, &OutputConfig::checkpoint_interval,
                   "Iterations between checkpoints (0 = at epoch end only)"),
             0, kInf),
      field("output", "resume", &C::output, &OutputConfig::resume,
            "Continue the run in project/name from its last checkpoint"),
      field("output", "tensorboard", &C::output, &OutputConfig::tensorboard,
            "Write TensorBoard event files into the run dir's tb/ (tensorboard --logdir)"),
      field("output", "best_fp16", &C::output, &OutputConfig::best_fp16,
            "Store best.pt's weights in float16: half the file, float16 rounding in val, "
            "predict and export"),
  };
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return out;
}

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

}  // namespace

std::string FieldSpec::path() const {
  return std::string(section) + "." + std::string(key);
}

const std::vector<FieldSpec>& configFields() {
  static const std::vector<FieldSpec> fields = buildFields();
  return fields;
}

const std::vector<std::string_view>& configSections() {
  static const std::vector<std::string_view> sections{"data", "model", "train", "distributed",
                                                      "output"};
  return sections;
}

const FieldSpec* findField(std::string_view pathOrKey) {
  for (const auto& f : configFields()) {
    if (f.key == pathOrKey || f.path() == pathOrKey) return &f;
  }
  return nullptr;
}

std::vector<std::string> suggestFields(std::string_view unknown) {
  // Compare against both the bare key and the dotted path; keep the closer of the two.
  const std::string_view bare =
      unknown.substr(unknown.find('.') == std::string_view::npos ? 0 : unknown.find('.') + 1);
  const std::size_t limit = std::max<std::size_t>(2, bare.size() / 3);
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& f : configFields()) {
    const std::string lowerBare = lowercase(bare);
    std::size_t d =
        std::min(editDistance(lowerBare, f.key), editDistance(lowercase(unknown), f.path()));
    // "batchsize" for "batch", "mosaic_prob" for "mosaic": one name containing the other.
    if (f.key.size() >= 3 && (lowerBare.find(f.key) != std::string::npos ||
                              f.key.find(lowerBare) != std::string_view::npos))
      d = std::min<std::size_t>(d, 1);
    if (d <= limit) scored.emplace_back(d, f.path());
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < scored.size() && i < 3; ++i)
    out.push_back(scored[i].second);
  return out;
}

std::variant<FieldValue, std::string> parseFieldValue(const FieldSpec& spec, std::string_view raw) {
  const std::string_view text = trim(raw);
  const auto quoted = [&] { return "'" + std::string(raw) + "'"; };
  switch (spec.type) {
    case FieldType::Int: {
      std::string_view digits = text;
      if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
      long long value = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (digits.empty() || ec == std::errc::invalid_argument ||
          end != digits.data() + digits.size())
        return "expected an integer, got " + quoted();
      if (ec == std::errc::result_out_of_range || value < INT_MIN || value > INT_MAX)
        return "integer " + quoted() + " is too large";
      return FieldValue{value};
    }
    case FieldType::Float: {
      std::string_view digits = text;
      if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
      double value = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          !std::isfinite(value))
        return "expected a number, got " + quoted();
      return FieldValue{value};
    }
    case FieldType::Bool: {
      const std::string lower = lowercase(text);
      if (lower == "true" || lower == "yes" || lower == "on") return FieldValue{true};
      if (lower == "false" || lower == "no" || lower == "off") return FieldValue{false};
      return "expected true or false, got " + quoted();
    }
    case FieldType::String:
      return FieldValue{std::string(text)};
    case FieldType::Choice: {
      const std::string lower = lowercase(text);
      for (const auto choice : spec.choices)
        if (lowercase(choice) == lower) return FieldValue{std::string(choice)};
      std::string list;
      for (const auto choice : spec.choices)
        list += (list.empty() ? "" : ", ") + std::string(choice);
      return "expected one of " + list + ", got " + quoted();
    }
  }
  return std::string("unsupported field type");
}

std::string formatFieldValue(const FieldValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else {
          char buffer[64];
          const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
          std::string out(buffer, ec == std::errc() ? end : buffer);
          // Keep floats recognisable as floats when written out ("1" -> "1.0").
          if constexpr (std::is_same_v<T, double>)
            if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
          return out;
        }
      },
      value);
}

std::string checkFieldRange(const FieldSpec& spec, const FieldValue& value) {
  double number = 0;
  if (const auto* i = std::get_if<long long>(&value))
    number = static_cast<double>(*i);
  else if (const auto* d = std::get_if<double>(&value))
    number = *d;
  else
    return {};
  if (number >= spec.min && number <= spec.max) return {};
  const auto bound = [&](double b) {
    return formatFieldValue(spec.type == FieldType::Int ? FieldValue{(long long)b} : FieldValue{b});
  };
  if (std::isinf(spec.max))
    return "must be at least " + bound(spec.min) + ", got " + formatFieldValue(value);
  return "must be between " + bound(spec.min) + " and " + bound(spec.max) + ", got " +
         formatFieldValue(value);
}

}  // namespace syncbn
