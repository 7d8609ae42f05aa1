#include "export/inference_graph.h"

#include <torch/torch.h>

#include <stdexcept>

#include "model/detection_model.h"
#include "model/yolo_modules.h"
#include "nn/norm.h"

namespace syncbn::exporter {
namespace {

at::Tensor tensorNamed(const torch::nn::Module& module, const std::string& name) {
  if (const at::Tensor* found = module.named_parameters(false).find(name)) return *found;
  if (const at::Tensor* found = module.named_buffers(false).find(name)) return *found;
  return {};
}

at::Tensor exportable(const at::Tensor& tensor) {
  return tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous().clone();
}

// Appends ops to a graph, handing out value ids.
class GraphBuilder {
 public:
  explicit GraphBuilder(InferenceGraph& graph) : graph_(graph) {}

  int add(Op op, int outputs = 1) {
    for (int i = 0; i < outputs; ++i)
      op.outputs.push_back(graph_.values++);
    const int first = op.outputs.front();
    graph_.ops.push_back(std::move(op));
    return first;
  }

  // Conv -> norm -> SiLU, the norm folded when it is a BatchNorm kind.
  int conv(const model::ConvImpl& block, int x, const std::string& name) {
    const auto& options = block.conv->options;
    Op conv;
    conv.kind = OpKind::Conv;
    conv.inputs = {x};
    conv.stride = options.stride()->at(0);
    conv.kernel = options.kernel_size()->at(0);
    conv.pad = c10::get<torch::ExpandingArray<2>>(options.padding())->at(0);
    conv.name = name + ".conv";
    const FoldedConv folded = foldBatchNorm(block);
    int y;
    if (folded.weight.defined()) {
      ++graph_.foldedNorms;
      conv.weight = folded.weight;
      conv.bias = folded.bias;
      y = add(std::move(conv));
    } else {  // GroupNorm: the convolution, then the norm as it is
      conv.weight = exportable(block.conv->weight);
      y = add(std::move(conv));
      const auto& layer = block.bn->layer();
      const auto* groupNorm = layer.as<torch::nn::GroupNormImpl>();
      if (groupNorm == nullptr)
        throw std::invalid_argument(name +
                                    ": a norm that is neither a BatchNorm kind nor GroupNorm");
      Op norm;
      norm.kind = OpKind::GroupNorm;
      norm.inputs = {y};
      norm.groups = groupNorm->options.num_groups();
      norm.eps = groupNorm->options.eps();
      norm.weight = exportable(groupNorm->weight);
      norm.bias = exportable(groupNorm->bias);
      norm.name = name + ".bn";
      y = add(std::move(norm));
    }
    Op silu;
    silu.kind = OpKind::SiLU;
    silu.inputs = {y};
    silu.name = name + ".act";
    return add(std::move(silu));
  }

  // A plain Conv2d with its own bias (Detect's last 1x1 convolutions).
  int plainConv(const torch::nn::Conv2dImpl& layer, int x, const std::string& name) {
    Op conv;
    conv.kind = OpKind::Conv;
    conv.inputs = {x};
    conv.stride = layer.options.stride()->at(0);
    conv.kernel = layer.options.kernel_size()->at(0);
    conv.pad = c10::get<torch::ExpandingArray<2>>(layer.options.padding())->at(0);
    conv.weight = exportable(layer.weight);
    if (layer.bias.defined()) conv.bias = exportable(layer.bias);
    conv.name = name;
    return add(std::move(conv));
  }

  int binary(OpKind kind, std::vector<int> inputs, const std::string& name) {
    Op op;
    op.kind = kind;
    op.inputs = std::move(inputs);
    op.name = name;
    return add(std::move(op));
  }

  int bottleneck(const model::BottleneckImpl& block, int x, const std::string& name) {
    const int y = conv(*block.cv2, conv(*block.cv1, x, name + ".cv1"), name + ".cv2");
    return block.add ? binary(OpKind::Add, {x, y}, name + ".add") : y;
  }

  int c2f(const model::C2fImpl& block, int x, const std::string& name) {
    const int hidden = conv(*block.cv1, x, name + ".cv1");
    const int64_t half = block.cv1->conv->options.out_channels() / 2;
    Op split;
    split.kind = OpKind::Split;
    split.inputs = {hidden};
    split.sizes = {half, half};
    split.name = name + ".split";
    const int first = add(std::move(split), 2);
    std::vector<int> parts{first, first + 1};
    for (std::size_t i = 0; i < block.m->size(); ++i)
      parts.push_back(bottleneck(*block.m->ptr(i)->as<model::BottleneckImpl>(), parts.back(),
                                 name + ".m." + std::to_string(i)));
    const int joined = binary(OpKind::Concat, parts, name + ".cat");
    return conv(*block.cv2, joined, name + ".cv2");
  }

  int sppf(const model::SPPFImpl& block, int x, const std::string& name) {
    std::vector<int> pyramid{conv(*block.cv1, x, name + ".cv1")};
    for (int i = 0; i < 3; ++i) {
      Op pool;
      pool.kind = OpKind::MaxPool;
      pool.inputs = {pyramid.back()};
      pool.kernel = block.m->options.kernel_size()->at(0);
      pool.pad = block.m->options.padding()->at(0);
      pool.name = name + ".m." + std::to_string(i);
      pyramid.push_back(add(std::move(pool)));
    }
    return conv(*block.cv2, binary(OpKind::Concat, pyramid, name + ".cat"), name + ".cv2");
  }

  // Any block a layer of the definition builds (a Sequential of them for repeated rows).
  int block(torch::nn::Module& module, int x, const std::string& name) {
    if (auto* chain = module.as<torch::nn::SequentialImpl>()) {
      for (std::size_t i = 0; i < chain->size(); ++i)
        x = block(*chain->ptr(i), x, name + "." + std::to_string(i));
      return x;
    }
    if (auto* c = module.as<model::ConvImpl>()) return conv(*c, x, name);
    if (auto* c = module.as<model::C2fImpl>()) return c2f(*c, x, name);
    if (auto* s = module.as<model::SPPFImpl>()) return sppf(*s, x, name);
    if (auto* b = module.as<model::BottleneckImpl>()) return bottleneck(*b, x, name);
    if (auto* u = module.as<torch::nn::UpsampleImpl>()) {
      const auto& factors = u->options.scale_factor();
      if (!factors || factors->size() != 2 || (*factors)[0] != (*factors)[1] ||
          (*factors)[0] != static_cast<int64_t>((*factors)[0]) ||
          !c10::get_if<torch::enumtype::kNearest>(&u->options.mode()))
        throw std::invalid_argument(name +
                                    ": only nearest upsampling by an integer factor exports");
      Op up;
      up.kind = OpKind::Upsample;
      up.inputs = {x};
      up.scale = static_cast<int64_t>((*factors)[0]);
      up.name = name;
      return add(std::move(up));
    }
    throw std::invalid_argument(name + ": a module the export cannot express");
  }

 private:
  InferenceGraph& graph_;
};

}  // namespace

FoldedConv foldBatchNorm(const model::ConvImpl& block) {
  const auto& layer = block.bn->layer();
  if (layer.as<torch::nn::GroupNormImpl>() != nullptr) return {};
  const at::Tensor mean = tensorNamed(layer, "running_mean");
  const at::Tensor var = tensorNamed(layer, "running_var");
  const at::Tensor gamma = tensorNamed(layer, "weight");
  const at::Tensor beta = tensorNamed(layer, "bias");
  if (!mean.defined() || !var.defined() || !gamma.defined() || !beta.defined())
    throw std::invalid_argument("a BatchNorm without running statistics, weight or bias");
  const torch::NoGradGuard noGrad;
  const double eps = block.bn->normOptions().eps;
  const at::Tensor scale = gamma.to(torch::kFloat64) / (var.to(torch::kFloat64) + eps).sqrt();
  FoldedConv folded;
  folded.weight = exportable(block.conv->weight.to(torch::kFloat64) * scale.view({-1, 1, 1, 1}));
  folded.bias = exportable(beta.to(torch::kFloat64) - mean.to(torch::kFloat64) * scale);
  return folded;
}

InferenceGraph buildInferenceGraph(const model::DetectionModelImpl& model) {
  InferenceGraph graph;
  const model::ModelDefinition& definition = model.definition();
  graph.inputChannels = definition.inputChannels;
  for (const model::LayerSpec& spec : definition.layers)
    graph.maxStride = std::max(graph.maxStride, spec.outputStride);
  GraphBuilder builder(graph);
  std::vector<int> outputs(definition.layers.size(), -1);
  const auto valueOf = [&](int input) {
    return input < 0 ? 0 : outputs[static_cast<std::size_t>(input)];
  };
  for (std::size_t i = 0; i + 1 < definition.layers.size(); ++i) {
    const model::LayerSpec& spec = definition.layers[i];
    const std::string name = "model." + std::to_string(i);
    if (spec.type == model::LayerType::Concat) {
      std::vector<int> inputs;
      for (const int input : spec.inputs)
        inputs.push_back(valueOf(input));
      outputs[i] = builder.binary(OpKind::Concat, inputs, name);
    } else {
      outputs[i] = builder.block(*model.layer(i), valueOf(spec.inputs.at(0)), name);
    }
  }

  const model::LayerSpec& head = definition.layers.back();
  const model::Detect detect = model.detect();
  const std::string name = "model." + std::to_string(definition.layers.size() - 1);
  std::vector<int> levels;
  for (std::size_t l = 0; l < head.inputs.size(); ++l) {
    const int x = valueOf(head.inputs[l]);
    const auto branch = [&](torch::nn::ModuleList& list, const std::string& which) {
      auto* chain = list->ptr(l)->as<torch::nn::SequentialImpl>();
      const std::string prefix = name + "." + which + "." + std::to_string(l);
      int y = builder.conv(*chain->ptr(0)->as<model::ConvImpl>(), x, prefix + ".0");
      y = builder.conv(*chain->ptr(1)->as<model::ConvImpl>(), y, prefix + ".1");
      return builder.plainConv(*chain->ptr(2)->as<torch::nn::Conv2dImpl>(), y, prefix + ".2");
    };
    auto cv2 = detect->cv2;
    auto cv3 = detect->cv3;
    const int box = branch(cv2, "cv2");
    const int cls = branch(cv3, "cv3");
    levels.push_back(
        builder.binary(OpKind::Concat, {box, cls}, name + ".level" + std::to_string(l)));
  }
  const model::HeadLayout& layout = model.headLayout();
  graph.detect.nc = layout.nc;
  graph.detect.regMax = layout.regMax;
  graph.detect.strides = layout.strides;
  graph.detect.channels.assign(levels.size(), 4 * layout.regMax + layout.nc);
  builder.binary(OpKind::Detect, levels, name);
  return graph;
}

}  // namespace syncbn::exporter
