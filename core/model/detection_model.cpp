#include "model/detection_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>

namespace syncbn::model {

using torch::Tensor;

namespace {

// One copy of a single-input block; the parser has checked the arguments.
torch::nn::AnyModule makeBlock(const LayerSpec& spec, int64_t c1, const NormChoice& norm) {
  switch (spec.type) {
    case LayerType::Conv:
      return torch::nn::AnyModule(Conv(c1, spec.outChannels, spec.kernel, spec.stride, norm));
    case LayerType::C2f:
      return torch::nn::AnyModule(C2f(c1, spec.outChannels, spec.repeats, spec.shortcut, norm));
    case LayerType::SPPF:
      return torch::nn::AnyModule(SPPF(c1, spec.outChannels, spec.kernel, norm));
    case LayerType::Bottleneck:
      return torch::nn::AnyModule(Bottleneck(c1, spec.outChannels, spec.shortcut, 0.5, norm));
    case LayerType::Upsample:
      return torch::nn::AnyModule(torch::nn::Upsample(
          torch::nn::UpsampleOptions()
              .scale_factor(std::vector<double>(2, static_cast<double>(spec.scaleFactor)))
              .mode(torch::kNearest)));
    case LayerType::Concat:
      return torch::nn::AnyModule(Concat());
    case LayerType::Detect:
      break;
  }
  throw std::logic_error("makeBlock: Detect is built by the model");
}

std::shared_ptr<torch::nn::Module> makeLayer(const LayerSpec& spec, const NormChoice& norm) {
  // Ultralytics chains n identical copies of blocks other than C2f (which repeats inside).
  if (spec.repeats > 1 && spec.type != LayerType::C2f) {
    torch::nn::Sequential chain;
    for (int r = 0; r < spec.repeats; ++r)
      chain->push_back(makeBlock(spec, spec.inChannels[0], norm));
    return chain.ptr();
  }
  return makeBlock(spec, spec.inChannels[0], norm).ptr();
}

}  // namespace

DetectionModelImpl::DetectionModelImpl(ModelDefinition definition, const NormChoice& norm)
    : definition_(std::move(definition)) {
  const auto& specs = definition_.layers;
  if (specs.empty() || specs.back().type != LayerType::Detect)
    throw std::invalid_argument(definition_.source + ": the last layer must be Detect");
  layers_ = register_module("model", torch::nn::ModuleList());
  lastUse_.assign(specs.size(), -1);
  for (const LayerSpec& spec : specs) {
    for (int input : spec.inputs)
      if (input >= 0) lastUse_[static_cast<std::size_t>(input)] = spec.index;
    if (spec.type == LayerType::Detect) {
      std::vector<int64_t> strides;
      for (int input : spec.inputs)
        strides.push_back(input < 0 ? 1 : specs[static_cast<std::size_t>(input)].outputStride);
      detect_ = Detect(spec.nc, spec.inChannels, strides, norm);
      layers_->push_back(detect_);
    } else {
      layers_->push_back(makeLayer(spec, norm));
    }
  }
}

Tensor DetectionModelImpl::runLayer(std::size_t index, const std::vector<Tensor>& inputs) const {
  torch::nn::Module& module = *layers_->ptr(index);
  switch (definition_.layers[index].type) {
    case LayerType::Conv:
    case LayerType::SPPF:
    case LayerType::Bottleneck:
      if (auto* chain = module.as<torch::nn::SequentialImpl>()) return chain->forward(inputs[0]);
      if (auto* conv = module.as<ConvImpl>()) return conv->forward(inputs[0]);
      if (auto* sppf = module.as<SPPFImpl>()) return sppf->forward(inputs[0]);
      return module.as<BottleneckImpl>()->forward(inputs[0]);
    case LayerType::C2f:
      return module.as<C2fImpl>()->forward(inputs[0]);
    case LayerType::Upsample:
      return module.as<torch::nn::UpsampleImpl>()->forward(inputs[0]);
    case LayerType::Concat:
      return module.as<ConcatImpl>()->forward(inputs);
    case LayerType::Detect:
      break;
  }
  throw std::logic_error("runLayer: Detect returns levels");
}

std::vector<Tensor> DetectionModelImpl::forwardLevels(const Tensor& images) {
  int64_t maxStride = 1;
  for (const LayerSpec& spec : definition_.layers)
    maxStride = std::max(maxStride, spec.outputStride);
  if (images.dim() != 4 || images.size(1) != definition_.inputChannels ||
      images.size(2) % maxStride != 0 || images.size(3) % maxStride != 0)
    throw std::invalid_argument("DetectionModel: expected images [N, " +
                                std::to_string(definition_.inputChannels) +
                                ", H, W] with H and W multiples of " + std::to_string(maxStride) +
                                ", got " + c10::str(images.sizes()));

  // A channels-last model lays its input out so (a no-op for input already channels-last); an
  // NCHW model takes the images as the caller gave them.
  const Tensor laidOut =
      memoryFormat_ == c10::MemoryFormat::Contiguous ? images : images.contiguous(memoryFormat_);
  const auto& specs = definition_.layers;
  std::vector<Tensor> outputs(specs.size());
  auto gather = [&](const LayerSpec& spec) {
    std::vector<Tensor> inputs;
    for (int input : spec.inputs)
      inputs.push_back(input < 0 ? laidOut : outputs[static_cast<std::size_t>(input)]);
    return inputs;
  };
  for (std::size_t i = 0; i + 1 < specs.size(); ++i) {
    outputs[i] = runLayer(i, gather(specs[i]));
    // Drop what no later layer reads, so inference keeps only the maps still needed.
    for (int input : specs[i].inputs)
      if (input >= 0 && lastUse_[static_cast<std::size_t>(input)] == static_cast<int>(i))
        outputs[static_cast<std::size_t>(input)] = Tensor();
  }
  return detect_->forward(gather(specs.back()));
}

void DetectionModelImpl::setMemoryFormat(c10::MemoryFormat format) {
  const torch::NoGradGuard noGrad;
  // set_data keeps each tensor's identity (autograd, parameter lists already taken) and swaps
  // its storage for the re-laid-out copy.
  for (Tensor& parameter : parameters())
    if (parameter.dim() == 4) parameter.set_data(parameter.contiguous(format));
  for (Tensor& buffer : buffers())
    if (buffer.dim() == 4) buffer.set_data(buffer.contiguous(format));
  memoryFormat_ = format;
}

Tensor DetectionModelImpl::predict(const Tensor& images) {
  return decode(forwardLevels(images));
}

Tensor DetectionModelImpl::decode(const std::vector<Tensor>& levels) const {
  return detect_->decode(levels);
}

DetectionModel buildDetectionModel(const std::string& model, const std::string& scale,
                                   std::optional<int64_t> nc, const NormChoice& norm) {
  return DetectionModel(loadModelDefinition(model, scale, nc), norm);
}

}  // namespace syncbn::model
