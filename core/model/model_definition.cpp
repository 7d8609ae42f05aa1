#include "model/model_definition.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <regex>
#include <sstream>

#include "common/regular_file.h"
#include "common/yaml_error.h"

namespace syncbn::model {
namespace {

constexpr std::string_view kBuiltinSource = "yolov8.yaml (built-in)";

// Limits checked before anything is allocated (model_definition.h, ModelLimits).
constexpr ModelLimits kLimits;

struct Location {
  int line = 0;
  int column = 0;
};

Location locationOf(const YAML::Node& node) {
  if (!node.IsDefined() || node.Mark().is_null()) return {};
  return {node.Mark().line + 1, node.Mark().column + 1};
}

// Ultralytics: ceil(x / 8) * 8, so every scaled layer keeps a channel count divisible by 8.
int64_t makeDivisible(double channels) {
  return static_cast<int64_t>(std::ceil(channels / 8.0)) * 8;
}

// Python's round() (ties to even), which is what Ultralytics uses for the depth gain;
// std::nearbyint rounds ties to even under the default rounding mode.
int roundLikePython(double value) {
  return static_cast<int>(std::nearbyint(value));
}

std::string joinInts(const std::vector<int>& values) {
  std::string text;
  for (std::size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text;
}

class Parser {
 public:
  Parser(std::string source, std::optional<int64_t> ncOverride)
      : source_(std::move(source)), ncOverride_(ncOverride) {}

  ModelDefinition parse(const std::string& text, const std::string& name,
                        const std::string& scale) {
    // Every yaml-cpp error (a parse error, nesting too deep, a node of an unexpected type that
    // slipped past the checks below) becomes this file's error with its position.
    try {
      return parseRoot(text, name, scale);
    } catch (const YAML::Exception& e) {
      throw ModelDefinitionError(source_, e.mark.is_null() ? 0 : e.mark.line + 1,
                                 e.mark.is_null() ? 0 : e.mark.column + 1, "",
                                 "invalid YAML: " + yamlErrorText(e));
    }
  }

 private:
  ModelDefinition parseRoot(const std::string& text, const std::string& name,
                            const std::string& scale) {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) fail(root, "", "expected a mapping with nc, scales, backbone and head");

    ModelDefinition def;
    def.source = source_;
    def.name = name;
    readNc(root, def);
    readScale(root, scale, def);
    nc_ = def.nc;
    depth_ = def.depth;
    width_ = def.width;
    maxChannels_ = def.maxChannels;

    channels_.clear();
    strides_.clear();
    for (const char* section : {"backbone", "head"}) {
      const YAML::Node rows = root[section];
      if (!rows) fail(root, section, "missing (a list of [from, repeats, module, args] rows)");
      if (!rows.IsSequence())
        fail(rows, section, "expected a list of [from, repeats, module, args]");
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::string field = std::string(section) + "[" + std::to_string(i) + "]";
        if (def.layers.size() >= static_cast<std::size_t>(kLimits.layers))
          fail(rows[i], field, "more than " + std::to_string(kLimits.layers) + " layers");
        def.layers.push_back(readLayer(rows[i], field, static_cast<int>(def.layers.size())));
      }
    }
    if (def.layers.empty() || def.layers.back().type != LayerType::Detect)
      fail(root["head"], "head", "the last layer must be Detect");
    for (std::size_t i = 0; i + 1 < def.layers.size(); ++i)
      if (def.layers[i].type == LayerType::Detect)
        throw ModelDefinitionError(
            source_, def.layers[i].line, 0, "Detect",
            "only the last layer may be Detect (layer " + std::to_string(i) + " is one too)");
    return def;
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& field,
                         const std::string& message) const {
    const Location at = locationOf(node);
    throw ModelDefinitionError(source_, at.line, at.column, field, message);
  }

  template <typename T>
  T scalar(const YAML::Node& node, const std::string& field, const char* expected) const {
    if (!node || !node.IsScalar()) fail(node, field, std::string("expected ") + expected);
    try {
      return node.as<T>();
    } catch (const YAML::Exception&) {
      fail(node, field, std::string("expected ") + expected + ", got '" + node.Scalar() + "'");
    }
  }

  void readNc(const YAML::Node& root, ModelDefinition& def) const {
    if (ncOverride_) {
      checkClassCount(root, "nc", *ncOverride_);
      def.nc = *ncOverride_;
      return;
    }
    const YAML::Node nc = root["nc"];
    if (!nc) fail(root, "nc", "missing (the number of classes)");
    def.nc = scalar<int64_t>(nc, "nc", "a whole number of classes");
    checkClassCount(nc, "nc", def.nc);
  }

  void checkClassCount(const YAML::Node& node, const std::string& field, int64_t nc) const {
    if (nc < 1 || nc > kLimits.classes)
      fail(node, field,
           "the class count must be 1 to " + std::to_string(kLimits.classes) + ", got " +
               std::to_string(nc));
  }

  // A depth or width gain: finite and in (0, kLimits.gain].
  double gain(const YAML::Node& node, const std::string& field, const char* what) const {
    const auto value = scalar<double>(node, field, what);
    if (!std::isfinite(value) || value <= 0 || value > kLimits.gain)
      fail(node, field,
           std::string(what) + " must be a number above 0 and at most " + number(kLimits.gain) +
               ", got '" + node.Scalar() + "'");
    return value;
  }

  static std::string number(double value) {
    std::ostringstream text;
    text << value;
    return text.str();
  }

  void readScale(const YAML::Node& root, const std::string& scale, ModelDefinition& def) const {
    const YAML::Node scales = root["scales"];
    if (!scales) {
      if (!scale.empty())
        fail(root, "scales", "scale '" + scale + "' asked for, but the file has no scales");
      // Older Ultralytics files carry the gains directly.
      if (root["depth_multiple"])
        def.depth = gain(root["depth_multiple"], "depth_multiple", "the depth gain");
      if (root["width_multiple"])
        def.width = gain(root["width_multiple"], "width_multiple", "the width gain");
      return;
    }
    if (!scales.IsMap() || scales.size() == 0)
      fail(scales, "scales", "expected a mapping like n: [depth, width, max_channels]");
    YAML::Node row;
    std::string known;
    for (const auto& entry : scales) {
      const auto key = scalar<std::string>(entry.first, "scales", "a scale name such as n or x");
      known += (known.empty() ? "" : ", ") + key;
      if (def.scale.empty() && (scale.empty() || key == scale)) {
        def.scale = key;
        row = entry.second;
      }
    }
    if (def.scale.empty())
      fail(scales, "scales", "unknown scale '" + scale + "' (known: " + known + ")");
    const std::string field = "scales." + def.scale;
    if (!row.IsSequence() || row.size() != 3)
      fail(row, field, "expected [depth, width, max_channels]");
    def.depth = gain(row[0], field + "[0]", "the depth gain");
    def.width = gain(row[1], field + "[1]", "the width gain");
    def.maxChannels = scalar<int64_t>(row[2], field + "[2]", "a whole channel count");
    if (def.maxChannels < 1 || def.maxChannels > kLimits.channels)
      fail(row[2], field + "[2]",
           "max_channels must be 1 to " + std::to_string(kLimits.channels) + ", got " +
               std::to_string(def.maxChannels));
  }

  // Width scaling as Ultralytics applies it; a value equal to nc is left alone there (it is
  // meant for class outputs), so it is here.
  int64_t scaledChannels(const YAML::Node& node, const std::string& field, int64_t c2) const {
    if (c2 < 1 || c2 > kLimits.channels)
      fail(node, field,
           "the channel count must be 1 to " + std::to_string(kLimits.channels) + ", got " +
               std::to_string(c2));
    if (c2 == nc_) return c2;
    const int64_t limited = maxChannels_ > 0 ? std::min(c2, maxChannels_) : c2;
    const int64_t scaled = makeDivisible(static_cast<double>(limited) * width_);
    if (scaled > kLimits.channels)
      fail(node, field,
           std::to_string(c2) + " channels scaled by width " + number(width_) + " make " +
               std::to_string(scaled) + ", more than " + std::to_string(kLimits.channels));
    return scaled;
  }

  // A kernel (convolution or pooling): odd, positive, at most kLimits.kernel.
  int64_t kernelArgument(const YAML::Node& node, const std::string& field, const char* what) const {
    const int64_t kernel = intArgument(node, field);
    if (kernel < 1 || kernel % 2 == 0 || kernel > kLimits.kernel)
      fail(node, field,
           std::string(what) + " must be odd, 1 to " + std::to_string(kLimits.kernel) +
               " (padding is kernel/2), got " + std::to_string(kernel));
    return kernel;
  }

  // An argument: a number, or a name the file defines (only `nc`).
  int64_t intArgument(const YAML::Node& node, const std::string& field) const {
    if (node.IsScalar() && node.Scalar() == "nc") return nc_;
    return scalar<int64_t>(node, field, "a whole number (or nc)");
  }

  bool boolArgument(const YAML::Node& node, const std::string& field) const {
    return scalar<bool>(node, field, "True or False");
  }

  static bool isNone(const YAML::Node& node) {
    return node.IsNull() || (node.IsScalar() && node.Scalar() == "None");
  }

  LayerSpec readLayer(const YAML::Node& row, const std::string& field, int index) {
    if (!row.IsSequence() || row.size() != 4)
      fail(row, field, "expected [from, repeats, module, args]");
    LayerSpec layer;
    layer.index = index;
    layer.line = locationOf(row).line;
    readFrom(row[0], field + ".from", layer);

    const int written = scalar<int>(row[1], field + ".repeats", "a whole number of repeats");
    if (written < 1 || written > kLimits.repeats)
      fail(row[1], field + ".repeats",
           "must be 1 to " + std::to_string(kLimits.repeats) + ", got " + std::to_string(written));
    layer.repeats = written > 1 ? std::max(roundLikePython(written * depth_), 1) : written;
    if (layer.repeats > kLimits.repeats)
      fail(row[1], field + ".repeats",
           std::to_string(written) + " repeats scaled by depth " + number(depth_) + " make " +
               std::to_string(layer.repeats) + ", more than " + std::to_string(kLimits.repeats));

    layer.module = scalar<std::string>(row[2], field + ".module", "a module name");
    static const std::vector<std::pair<std::string, LayerType>> kModules{
        {"Conv", LayerType::Conv},
        {"C2f", LayerType::C2f},
        {"SPPF", LayerType::SPPF},
        {"Bottleneck", LayerType::Bottleneck},
        {"nn.Upsample", LayerType::Upsample},
        {"Upsample", LayerType::Upsample},
        {"Concat", LayerType::Concat},
        {"Detect", LayerType::Detect}};
    const auto known = std::find_if(kModules.begin(), kModules.end(),
                                    [&](const auto& m) { return m.first == layer.module; });
    if (known == kModules.end())
      fail(row[2], field + ".module",
           "unknown module '" + layer.module +
               "' (known: Conv, C2f, SPPF, Bottleneck, nn.Upsample, Concat, Detect)");
    layer.type = known->second;

    const YAML::Node args = row[3];
    if (!args.IsSequence()) fail(args, field + ".args", "expected a list of arguments");
    readArguments(args, field + ".args", layer);

    layer.outputStride = outputStride(row, field, layer);
    channels_.push_back(layer.outChannels);
    strides_.push_back(layer.outputStride);
    return layer;
  }

  void readFrom(const YAML::Node& node, const std::string& field, LayerSpec& layer) const {
    if (node.IsSequence()) {
      if (node.size() == 0) fail(node, field, "expected at least one layer index");
      for (const auto& item : node)
        layer.from.push_back(scalar<int>(item, field, "a layer index"));
    } else {
      layer.from.push_back(scalar<int>(node, field, "-1 or a layer index"));
    }
    for (int f : layer.from) {
      const int input = f < 0 ? layer.index + f : f;
      if (input < -1 || input >= layer.index)
        fail(node, field,
             "index " + std::to_string(f) + " is not an earlier layer (layer " +
                 std::to_string(layer.index) + " can take -1 or 0.." +
                 std::to_string(layer.index - 1) + ")");
      layer.inputs.push_back(input);
      layer.inChannels.push_back(input < 0 ? 3 : channels_[static_cast<std::size_t>(input)]);
    }
  }

  void expectArgumentCount(const YAML::Node& args, const std::string& field, const LayerSpec& layer,
                           std::size_t least, std::size_t most, const char* shape) const {
    if (args.size() < least || args.size() > most)
      fail(args, field,
           layer.module + " takes " + shape + ", got " + std::to_string(args.size()) +
               " argument(s)");
  }

  void expectSingleInput(const YAML::Node& args, const std::string& field,
                         const LayerSpec& layer) const {
    if (layer.inputs.size() != 1)
      fail(args, field, layer.module + " takes one input, got from [" + joinInts(layer.from) + "]");
  }

  void readArguments(const YAML::Node& args, const std::string& field, LayerSpec& layer) const {
    const std::string at0 = field + "[0]", at1 = field + "[1]", at2 = field + "[2]";
    switch (layer.type) {
      case LayerType::Conv:
        expectArgumentCount(args, field, layer, 1, 3, "[c2, kernel=1, stride=1]");
        expectSingleInput(args, field, layer);
        layer.outChannels = scaledChannels(args[0], at0, intArgument(args[0], at0));
        if (args.size() > 1) layer.kernel = kernelArgument(args[1], at1, "the kernel");
        if (args.size() > 2) layer.stride = intArgument(args[2], at2);
        if (layer.stride < 1 || layer.stride > kLimits.stride)
          fail(args[2], at2,
               "the stride must be 1 to " + std::to_string(kLimits.stride) + ", got " +
                   std::to_string(layer.stride));
        break;
      case LayerType::C2f:
        expectArgumentCount(args, field, layer, 1, 2, "[c2, shortcut=False]");
        expectSingleInput(args, field, layer);
        layer.outChannels = scaledChannels(args[0], at0, intArgument(args[0], at0));
        if (args.size() > 1) layer.shortcut = boolArgument(args[1], at1);
        break;
      case LayerType::SPPF:
        expectArgumentCount(args, field, layer, 1, 2, "[c2, kernel=5]");
        expectSingleInput(args, field, layer);
        layer.outChannels = scaledChannels(args[0], at0, intArgument(args[0], at0));
        layer.kernel = args.size() > 1 ? kernelArgument(args[1], at1, "the pooling kernel") : 5;
        break;
      case LayerType::Bottleneck:
        expectArgumentCount(args, field, layer, 1, 2, "[c2, shortcut=True]");
        expectSingleInput(args, field, layer);
        layer.outChannels = scaledChannels(args[0], at0, intArgument(args[0], at0));
        layer.shortcut = args.size() > 1 ? boolArgument(args[1], at1) : true;
        break;
      case LayerType::Upsample:
        expectArgumentCount(args, field, layer, 2, 3, "[None, scale_factor, \"nearest\"]");
        expectSingleInput(args, field, layer);
        if (!isNone(args[0])) fail(args[0], at0, "only size None is supported (use scale_factor)");
        layer.scaleFactor = intArgument(args[1], at1);
        if (layer.scaleFactor < 1 || layer.scaleFactor > kLimits.stride)
          fail(args[1], at1,
               "the scale factor must be 1 to " + std::to_string(kLimits.stride) + ", got " +
                   std::to_string(layer.scaleFactor));
        if (args.size() > 2 && scalar<std::string>(args[2], at2, "a mode") != "nearest")
          fail(args[2], at2, "only mode \"nearest\" is supported");
        layer.outChannels = layer.inChannels[0];
        break;
      case LayerType::Concat:
        expectArgumentCount(args, field, layer, 0, 1, "[dimension=1]");
        if (args.size() == 1 && intArgument(args[0], at0) != 1)
          fail(args[0], at0, "only concatenation along channels (dimension 1) is supported");
        layer.outChannels = 0;
        for (int64_t c : layer.inChannels)
          layer.outChannels += c;
        if (layer.outChannels > kLimits.channels)
          fail(args, field,
               "concatenates " + std::to_string(layer.outChannels) + " channels, more than " +
                   std::to_string(kLimits.channels));
        break;
      case LayerType::Detect:
        expectArgumentCount(args, field, layer, 1, 1, "[nc]");
        layer.nc = intArgument(args[0], at0);
        checkClassCount(args[0], at0, layer.nc);
        layer.outChannels = layer.nc;
        break;
    }
    if (layer.repeats > 1 && layer.type != LayerType::C2f) {
      if (layer.type == LayerType::Upsample || layer.type == LayerType::Concat ||
          layer.type == LayerType::Detect)
        fail(args, field, layer.module + " cannot be repeated (repeats must be 1)");
      // Ultralytics chains identical copies, which only fits when channels are preserved.
      if (layer.inChannels[0] != layer.outChannels)
        fail(args, field,
             "repeating " + layer.module + " needs equal input and output channels (" +
                 std::to_string(layer.inChannels[0]) + " -> " + std::to_string(layer.outChannels) +
                 ")");
    }
  }

  // How many input pixels one output pixel spans; Concat and Detect inputs must agree on it.
  int64_t outputStride(const YAML::Node& row, const std::string& field, const LayerSpec& layer) {
    auto strideOf = [&](int input) {
      return input < 0 ? int64_t{1} : strides_[static_cast<std::size_t>(input)];
    };
    const int64_t in = strideOf(layer.inputs[0]);
    switch (layer.type) {
      case LayerType::Conv: {
        int64_t stride = in;
        for (int r = 0; r < layer.repeats; ++r) {
          stride *= layer.stride;
          if (stride > kLimits.outputStride)
            fail(row, field,
                 "downsamples the input more than " + std::to_string(kLimits.outputStride) +
                     " times: no pixel would be left at any image size the engine takes");
        }
        return stride;
      }
      case LayerType::Upsample:
        if (in % layer.scaleFactor != 0)
          fail(row, field,
               "upsampling by " + std::to_string(layer.scaleFactor) + " a feature map of stride " +
                   std::to_string(in));
        return in / layer.scaleFactor;
      case LayerType::Concat:
        for (int input : layer.inputs)
          if (strideOf(input) != in)
            fail(row, field,
                 "concatenates feature maps of different strides (" + std::to_string(in) + " and " +
                     std::to_string(strideOf(input)) + ")");
        return in;
      default:
        return in;
    }
  }

  std::string source_;
  std::optional<int64_t> ncOverride_;
  int64_t nc_ = 0;
  double depth_ = 1.0;
  double width_ = 1.0;
  int64_t maxChannels_ = 0;
  std::vector<int64_t> channels_;  // output channels of each layer so far
  std::vector<int64_t> strides_;   // output stride of each layer so far
};

// "n".."x" or "yolov8n.yaml".."yolov8x.yaml"; `scale` receives the letter.
bool isBuiltinName(const std::string& model, std::string* scale = nullptr) {
  static const std::regex kBuiltin("[nsmlx]|yolov8([nsmlx])\\.yaml");
  std::smatch match;
  if (!std::regex_match(model, match, kBuiltin)) return false;
  if (scale) *scale = match[1].matched ? match[1].str() : model;
  return true;
}

std::string readFile(const std::string& path) {
  try {
    return readRegularFile(path, kMaxTextFileBytes);
  } catch (const FileReadError& e) {
    throw ModelDefinitionError(path, 0, 0, "",
                               std::string("cannot read the model file: ") + e.what());
  }
}

// "file:line:column: field: message", leaving out what is unknown.
std::string errorText(const std::string& source, int line, int column, const std::string& field,
                      const std::string& message) {
  std::ostringstream text;
  text << source;
  if (line > 0) text << ':' << line;
  if (line > 0 && column > 0) text << ':' << column;
  text << ": ";
  if (!field.empty()) text << field << ": ";
  text << message;
  return text.str();
}

}  // namespace

ModelDefinitionError::ModelDefinitionError(const std::string& source, int line, int column,
                                           const std::string& field, const std::string& message)
    : std::runtime_error(errorText(source, line, column, field, message)),
      source_(source),
      line_(line),
      field_(field) {}

std::string_view toString(LayerType type) {
  switch (type) {
    case LayerType::Conv:
      return "Conv";
    case LayerType::C2f:
      return "C2f";
    case LayerType::SPPF:
      return "SPPF";
    case LayerType::Bottleneck:
      return "Bottleneck";
    case LayerType::Upsample:
      return "Upsample";
    case LayerType::Concat:
      return "Concat";
    case LayerType::Detect:
      return "Detect";
  }
  return "?";
}

ModelDefinition parseModelDefinition(const std::string& yamlText, const std::string& source,
                                     const std::string& name, const std::string& scale,
                                     std::optional<int64_t> nc) {
  ModelDefinition definition = Parser(source, nc).parse(yamlText, name, scale);
  definition.yamlText = yamlText;
  return definition;
}

namespace {

// One convolution's share of the footprint: a bias-free convolution followed by BatchNorm (a
// Conv block) unless `plain` (the head's last 1x1 convolutions, with a bias and no norm).
void addConvolution(ModelFootprint& footprint, int64_t in, int64_t out, int64_t kernel,
                    int64_t pixels, bool plain = false) {
  footprint.parameters += in * out * kernel * kernel + (plain ? out : 2 * out);
  footprint.convOutputElements += out * pixels;
}

// The blocks as yolo_modules.cpp builds them; the test compares the sum with the built model's.
void addBlock(ModelFootprint& footprint, const LayerSpec& spec, int64_t in, int64_t pixels) {
  const int64_t out = spec.outChannels;
  switch (spec.type) {
    case LayerType::C2f: {
      const int64_t c = out / 2;
      addConvolution(footprint, in, 2 * c, 1, pixels);
      for (int r = 0; r < spec.repeats; ++r) {
        addConvolution(footprint, c, c, 3, pixels);
        addConvolution(footprint, c, c, 3, pixels);
      }
      addConvolution(footprint, (2 + spec.repeats) * c, out, 1, pixels);
      break;
    }
    case LayerType::SPPF: {
      const int64_t hidden = in / 2;
      addConvolution(footprint, in, hidden, 1, pixels);
      addConvolution(footprint, 4 * hidden, out, 1, pixels);
      break;
    }
    case LayerType::Bottleneck: {
      const auto hidden = static_cast<int64_t>(static_cast<double>(out) * 0.5);
      addConvolution(footprint, in, hidden, 3, pixels);
      addConvolution(footprint, hidden, out, 3, pixels);
      break;
    }
    default:
      break;
  }
}

}  // namespace

ModelFootprint estimateFootprint(const ModelDefinition& definition, int64_t imgsz) {
  // HeadLayout::regMax: the box distribution's bins per side.
  constexpr int64_t kRegMax = 16;
  ModelFootprint footprint;
  std::vector<std::array<int64_t, 2>> sizes(definition.layers.size());
  for (std::size_t i = 0; i < definition.layers.size(); ++i) {
    const LayerSpec& spec = definition.layers[i];
    const auto sizeOf = [&](int input) {
      return input < 0 ? std::array<int64_t, 2>{imgsz, imgsz}
                       : sizes[static_cast<std::size_t>(input)];
    };
    std::array<int64_t, 2> size = sizeOf(spec.inputs[0]);
    const int64_t in = spec.inChannels.empty() ? 0 : spec.inChannels[0];
    switch (spec.type) {
      case LayerType::Conv:
        for (int r = 0; r < spec.repeats; ++r) {
          for (auto& extent : size)
            extent = (extent + 2 * (spec.kernel / 2) - spec.kernel) / spec.stride + 1;
          addConvolution(footprint, r == 0 ? in : spec.outChannels, spec.outChannels, spec.kernel,
                         size[0] * size[1]);
        }
        break;
      case LayerType::Upsample:
        for (auto& extent : size)
          extent *= spec.scaleFactor;
        break;
      case LayerType::Concat:
        break;
      case LayerType::Detect: {
        const int64_t c2 = std::max({int64_t{16}, in / 4, kRegMax * 4});
        const int64_t c3 = std::max(in, std::min<int64_t>(spec.nc, 100));
        int64_t anchors = 0;
        for (std::size_t l = 0; l < spec.inputs.size(); ++l) {
          const auto level = sizeOf(spec.inputs[l]);
          const int64_t pixels = level[0] * level[1];
          const int64_t c = spec.inChannels[l];
          addConvolution(footprint, c, c2, 3, pixels);
          addConvolution(footprint, c2, c2, 3, pixels);
          addConvolution(footprint, c2, 4 * kRegMax, 1, pixels, true);
          addConvolution(footprint, c, c3, 3, pixels);
          addConvolution(footprint, c3, c3, 3, pixels);
          addConvolution(footprint, c3, spec.nc, 1, pixels, true);
          anchors += pixels;
        }
        // The DFL's fixed 1x1 convolution over 4 sides x the anchors: weights only.
        footprint.parameters += kRegMax;
        footprint.convOutputElements += 4 * anchors;
        break;
      }
      case LayerType::C2f:  // repeats its bottlenecks inside
        addBlock(footprint, spec, in, size[0] * size[1]);
        break;
      default:  // other blocks are chained copies
        for (int r = 0; r < spec.repeats; ++r)
          addBlock(footprint, spec, r == 0 ? in : spec.outChannels, size[0] * size[1]);
        break;
    }
    sizes[i] = size;
  }
  return footprint;
}

bool isModelArgument(const std::string& argument) {
  if (argument == "yolov8.yaml" || isBuiltinName(argument)) return true;
  try {
    const YAML::Node root = YAML::Load(readRegularFile(argument, kMaxTextFileBytes));
    return root.IsMap() && root["backbone"];
  } catch (const std::exception&) {
    // Unreadable (a FIFO, a folder, too large), or not YAML: the configuration loader reports it.
    return false;
  }
}

ModelDefinition loadModelDefinition(const std::string& model, const std::string& scale,
                                    std::optional<int64_t> nc) {
  std::string fromName;
  if (isBuiltinName(model, &fromName)) {
    if (!scale.empty() && scale != fromName)
      throw ModelDefinitionError(model, 0, 0, "model.scale",
                                 "scale '" + scale + "' contradicts the model name");
    return parseModelDefinition(std::string(builtinYolov8Yaml()), std::string(kBuiltinSource),
                                "YOLOv8" + fromName, fromName, nc);
  }
  if (model == "yolov8.yaml") {
    const std::string chosen = scale.empty() ? "n" : scale;
    return parseModelDefinition(std::string(builtinYolov8Yaml()), std::string(kBuiltinSource),
                                "YOLOv8" + chosen, chosen, nc);
  }
  std::string stem = std::filesystem::path(model).stem().string();
  std::string chosen = scale;
  static const std::regex kScaleInStem("yolov\\d+([nslmx])");
  std::smatch match;
  if (chosen.empty() && std::regex_search(stem, match, kScaleInStem)) chosen = match[1];
  if (stem.rfind("yolo", 0) == 0) stem.replace(0, 4, "YOLO");
  return parseModelDefinition(readFile(model), model, stem, chosen, nc);
}

}  // namespace syncbn::model
