#include "model/model_summary.h"

#include <torch/torch.h>

#include <iomanip>
#include <ostream>
#include <sstream>

#include "model/detection_model.h"

namespace syncbn::model {
namespace {

std::string list(const std::vector<std::string>& items) {
  std::string text = "[";
  for (std::size_t i = 0; i < items.size(); ++i)
    text += (i ? ", " : "") + items[i];
  return text + "]";
}

std::string str(int64_t value) {
  return std::to_string(value);
}

std::string pythonBool(bool value) {
  return value ? "True" : "False";
}

std::string fromText(const LayerSpec& spec) {
  if (spec.from.size() == 1) return str(spec.from[0]);
  std::vector<std::string> items;
  for (int f : spec.from)
    items.push_back(str(f));
  return list(items);
}

// The arguments the module was built with, in Ultralytics' order (input channels first).
std::string argumentText(const LayerSpec& spec) {
  const std::string c1 = spec.inChannels.empty() ? "0" : str(spec.inChannels[0]);
  const std::string c2 = str(spec.outChannels);
  switch (spec.type) {
    case LayerType::Conv:
      return list({c1, c2, str(spec.kernel), str(spec.stride)});
    case LayerType::C2f:
      return list({c1, c2, str(spec.repeats), pythonBool(spec.shortcut)});
    case LayerType::SPPF:
      return list({c1, c2, str(spec.kernel)});
    case LayerType::Bottleneck:
      return list({c1, c2, pythonBool(spec.shortcut)});
    case LayerType::Upsample:
      return list({"None", str(spec.scaleFactor), "'nearest'"});
    case LayerType::Concat:
      return "[1]";
    case LayerType::Detect: {
      std::vector<std::string> channels;
      for (int64_t c : spec.inChannels)
        channels.push_back(str(c));
      return list({str(spec.nc), list(channels)});
    }
  }
  return "[]";
}

int64_t countParameters(const torch::nn::Module& module, bool trainableOnly) {
  int64_t total = 0;
  for (const auto& p : module.parameters())
    if (!trainableOnly || p.requires_grad()) total += p.numel();
  return total;
}

int64_t countModules(const torch::nn::Module& module) {
  // What sits inside a norm slot is an implementation detail of that one norm layer.
  if (dynamic_cast<const nn::Norm2dImpl*>(&module)) return 1;
  int64_t total = 1;
  for (const auto& child : module.children())
    total += countModules(*child);
  return total;
}

using Size = std::array<int64_t, 2>;  // height, width

// Each layer's output size and `measure` of its convolutions: every convolution inside a block
// runs at the block's output resolution (only a Conv's own stride changes it), Detect per level.
std::vector<int64_t> measureLayers(const DetectionModelImpl& model, int64_t height, int64_t width,
                                   ConvMeasure measure) {
  const auto& specs = model.definition().layers;
  std::vector<Size> sizes(specs.size());
  std::vector<int64_t> macs(specs.size(), 0);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const LayerSpec& spec = specs[i];
    const torch::nn::Module& module = *model.layer(i);
    auto sizeOf = [&](int input) {
      return input < 0 ? Size{height, width} : sizes[static_cast<std::size_t>(input)];
    };
    Size size = sizeOf(spec.inputs[0]);
    switch (spec.type) {
      case LayerType::Conv:
        for (int r = 0; r < spec.repeats; ++r) {
          for (auto& extent : size)
            extent = (extent + 2 * (spec.kernel / 2) - spec.kernel) / spec.stride + 1;
          const auto& copy =
              spec.repeats > 1 ? *module.children()[static_cast<std::size_t>(r)] : module;
          macs[i] += measure(copy, size[0] * size[1]);
        }
        break;
      case LayerType::Upsample:
        for (auto& extent : size)
          extent *= spec.scaleFactor;
        break;
      case LayerType::Detect: {
        std::vector<Size> levels;
        for (int input : spec.inputs)
          levels.push_back(sizeOf(input));
        macs[i] = model.detect()->measure(levels, measure);
        break;
      }
      default:
        macs[i] = measure(module, size[0] * size[1]);
        break;
    }
    sizes[i] = size;
  }
  return macs;
}

}  // namespace

int64_t multiplyAdds(const DetectionModelImpl& model, int64_t height, int64_t width) {
  int64_t total = 0;
  for (int64_t macs : measureLayers(model, height, width, convMultiplyAdds))
    total += macs;
  return total;
}

ModelSummary summarize(const DetectionModelImpl& model, int64_t imgsz) {
  ModelSummary summary;
  summary.name = model.definition().name;
  summary.imgsz = imgsz;
  const std::vector<int64_t> macs = measureLayers(model, imgsz, imgsz, convMultiplyAdds);
  int64_t totalMacs = 0;
  for (const LayerSpec& spec : model.definition().layers) {
    const auto i = static_cast<std::size_t>(spec.index);
    summary.layers.push_back({spec.index, fromText(spec), spec.repeats,
                              countParameters(*model.layer(i), false),
                              std::string(toString(spec.type)), argumentText(spec), macs[i]});
    totalMacs += macs[i];
  }
  summary.modules = countModules(model);
  summary.parameters = countParameters(model, false);
  summary.gradients = countParameters(model, true);
  summary.gflops = 2.0 * static_cast<double>(totalMacs) / 1e9;
  for (int64_t elements : measureLayers(model, imgsz, imgsz, convOutputElements))
    summary.convOutputElements += elements;
  summary.activationElements = kSavedTensorsPerConvolution * summary.convOutputElements;
  return summary;
}

std::string summaryLine(const ModelSummary& summary) {
  std::ostringstream line;
  line << summary.name << " summary: " << summary.modules << " layers, " << summary.parameters
       << " parameters, " << summary.gradients << " gradients, " << std::fixed
       << std::setprecision(1) << summary.gflops << " GFLOPs";
  return line.str();
}

void printSummary(std::ostream& out, const ModelSummary& summary) {
  out << std::right << std::setw(3) << "" << std::setw(20) << "from" << std::setw(3) << "n"
      << std::setw(10) << "params"
      << "  " << std::left << std::setw(12) << "module"
      << "arguments\n";
  for (const LayerSummary& layer : summary.layers)
    out << std::right << std::setw(3) << layer.index << std::setw(20) << layer.from << std::setw(3)
        << layer.repeats << std::setw(10) << layer.parameters << "  " << std::left << std::setw(12)
        << layer.module << layer.arguments << "\n";
  out << std::right << summaryLine(summary) << " (at " << summary.imgsz << "x" << summary.imgsz
      << ")\n";
}

}  // namespace syncbn::model
