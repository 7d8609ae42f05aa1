#include "model/model_definition.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace syncbn::model {
namespace {

constexpr std::string_view kBuiltinSource = "yolov8.yaml (built-in)";

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
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw ModelDefinitionError(source_, e.mark.is_null() ? 0 : e.mark.line + 1,
                                 e.mark.is_null() ? 0 : e.mark.column + 1, "", e.msg);
    }
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

 private:
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
      if (*ncOverride_ < 1) fail(root, "nc", "the class count must be at least 1");
      def.nc = *ncOverride_;
      return;
    }
    const YAML::Node nc = root["nc"];
    if (!nc) fail(root, "nc", "missing (the number of classes)");
    def.nc = scalar<int64_t>(nc, "nc", "a whole number of classes");
    if (def.nc < 1) fail(nc, "nc", "the class count must be at least 1");
  }

  void readScale(const YAML::Node& root, const std::string& scale, ModelDefinition& def) const {
    const YAML::Node scales = root["scales"];
    if (!scales) {
      if (!scale.empty())
        fail(root, "scales", "scale '" + scale + "' asked for, but the file has no scales");
      // Older Ultralytics files carry the gains directly.
      if (root["depth_multiple"])
        def.depth = scalar<double>(root["depth_multiple"], "depth_multiple", "a number");
      if (root["width_multiple"])
        def.width = scalar<double>(root["width_multiple"], "width_multiple", "a number");
      return;
    }
    if (!scales.IsMap() || scales.size() == 0)
      fail(scales, "scales", "expected a mapping like n: [depth, width, max_channels]");
    YAML::Node row;
    std::string known;
    for (const auto& entry : scales) {
      const auto key = entry.first.as<std::string>();
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
    def.depth = scalar<double>(row[0], field + "[0]", "a depth gain");
    def.width = scalar<double>(row[1], field + "[1]", "a width gain");
    def.maxChannels = scalar<int64_t>(row[2], field + "[2]", "a whole channel count");
    if (def.depth <= 0 || def.width <= 0 || def.maxChannels < 1)
      fail(row, field, "depth and width must be positive and max_channels at least 1");
  }

  // Width scaling as Ultralytics applies it; a value equal to nc is left alone there (it is
  // meant for class outputs), so it is here.
  int64_t scaledChannels(int64_t c2) const {
    if (c2 == nc_) return c2;
    const int64_t limited = maxChannels_ > 0 ? std::min(c2, maxChannels_) : c2;
    return makeDivisible(static_cast<double>(limited) * width_);
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
    if (written < 1) fail(row[1], field + ".repeats", "must be at least 1");
    layer.repeats = written > 1 ? std::max(roundLikePython(written * depth_), 1) : written;

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
        layer.outChannels = scaledChannels(intArgument(args[0], at0));
        if (args.size() > 1) layer.kernel = intArgument(args[1], at1);
        if (args.size() > 2) layer.stride = intArgument(args[2], at2);
        if (layer.kernel < 1 || layer.kernel % 2 == 0)
          fail(args[1], at1, "the kernel must be odd and positive (padding is kernel/2)");
        if (layer.stride < 1) fail(args[2], at2, "the stride must be at least 1");
        break;
      case LayerType::C2f:
        expectArgumentCount(args, field, layer, 1, 2, "[c2, shortcut=False]");
        expectSingleInput(args, field, layer);
        layer.outChannels = scaledChannels(intArgument(args[0], at0));
        if (args.size() > 1) layer.shortcut = boolArgument(args[1], at1);
        break;
      case LayerType::SPPF:
        expectArgumentCount(args, field, layer, 1, 2, "[c2, kernel=5]");
        expectSingleInput(args, field, layer);
        layer.outChannels = scaledChannels(intArgument(args[0], at0));
        layer.kernel = args.size() > 1 ? intArgument(args[1], at1) : 5;
        if (layer.kernel < 1 || layer.kernel % 2 == 0)
          fail(args[1], at1, "the pooling kernel must be odd and positive");
        break;
      case LayerType::Bottleneck:
        expectArgumentCount(args, field, layer, 1, 2, "[c2, shortcut=True]");
        expectSingleInput(args, field, layer);
        layer.outChannels = scaledChannels(intArgument(args[0], at0));
        layer.shortcut = args.size() > 1 ? boolArgument(args[1], at1) : true;
        break;
      case LayerType::Upsample:
        expectArgumentCount(args, field, layer, 2, 3, "[None, scale_factor, \"nearest\"]");
        expectSingleInput(args, field, layer);
        if (!isNone(args[0])) fail(args[0], at0, "only size None is supported (use scale_factor)");
        layer.scaleFactor = intArgument(args[1], at1);
        if (layer.scaleFactor < 1) fail(args[1], at1, "the scale factor must be at least 1");
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
        break;
      case LayerType::Detect:
        expectArgumentCount(args, field, layer, 1, 1, "[nc]");
        layer.nc = intArgument(args[0], at0);
        if (layer.nc < 1) fail(args[0], at0, "the class count must be at least 1");
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
        for (int r = 0; r < layer.repeats; ++r)
          stride *= layer.stride;
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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelDefinitionError(path, 0, 0, "", "cannot open the model file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
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

bool isModelArgument(const std::string& argument) {
  if (argument == "yolov8.yaml" || isBuiltinName(argument)) return true;
  try {
    const YAML::Node root = YAML::LoadFile(argument);
    return root.IsMap() && root["backbone"];
  } catch (const YAML::Exception&) {
    return false;  // unreadable or not YAML: let the configuration loader report it
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
