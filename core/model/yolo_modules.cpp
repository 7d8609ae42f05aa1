#include "model/yolo_modules.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace syncbn::model {

using torch::Tensor;

int64_t convMultiplyAdds(const torch::nn::Module& module, int64_t pixels) {
  int64_t total = 0;
  for (const Tensor& p : module.parameters())
    if (p.dim() == 4) total += p.numel() * pixels;
  return total;
}

int64_t convOutputElements(const torch::nn::Module& module, int64_t pixels) {
  int64_t total = 0;
  for (const Tensor& p : module.parameters())
    if (p.dim() == 4) total += p.size(0) * pixels;
  return total;
}

ConvImpl::ConvImpl(int64_t c1, int64_t c2, int64_t kernel, int64_t stride, const NormChoice& norm)
    : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(c1, c2, kernel)
                                                         .stride(stride)
                                                         .padding(kernel / 2)
                                                         .bias(false)))),
      bn(register_module("bn", nn::Norm2d(c2, norm.kind, nn::NormOptions{}, norm.group))) {}

Tensor ConvImpl::forward(const Tensor& x) {
  return torch::silu(bn(conv(x)));
}

BottleneckImpl::BottleneckImpl(int64_t c1, int64_t c2, bool shortcut, double expansion,
                               const NormChoice& norm)
    : add(shortcut && c1 == c2) {
  const auto hidden = static_cast<int64_t>(static_cast<double>(c2) * expansion);
  cv1 = register_module("cv1", Conv(c1, hidden, 3, 1, norm));
  cv2 = register_module("cv2", Conv(hidden, c2, 3, 1, norm));
}

Tensor BottleneckImpl::forward(const Tensor& x) {
  Tensor y = cv2(cv1(x));
  return add ? x + y : y;
}

C2fImpl::C2fImpl(int64_t c1, int64_t c2, int64_t n, bool shortcut, const NormChoice& norm) {
  const int64_t c = c2 / 2;
  cv1 = register_module("cv1", Conv(c1, 2 * c, 1, 1, norm));
  cv2 = register_module("cv2", Conv((2 + n) * c, c2, 1, 1, norm));
  m = register_module("m", torch::nn::ModuleList());
  for (int64_t i = 0; i < n; ++i)
    m->push_back(Bottleneck(c, c, shortcut, 1.0, norm));
}

Tensor C2fImpl::forward(const Tensor& x) {
  std::vector<Tensor> parts = cv1(x).chunk(2, 1);
  parts.reserve(2 + m->size());
  for (const auto& bottleneck : *m)
    parts.push_back(bottleneck->as<BottleneckImpl>()->forward(parts.back()));
  return cv2(torch::cat(parts, 1));
}

SPPFImpl::SPPFImpl(int64_t c1, int64_t c2, int64_t kernel, const NormChoice& norm) {
  const int64_t hidden = c1 / 2;
  cv1 = register_module("cv1", Conv(c1, hidden, 1, 1, norm));
  cv2 = register_module("cv2", Conv(hidden * 4, c2, 1, 1, norm));
  m = register_module(
      "m", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(kernel).stride(1).padding(kernel / 2)));
}

Tensor SPPFImpl::forward(const Tensor& x) {
  std::vector<Tensor> pyramid{cv1(x)};
  for (int i = 0; i < 3; ++i)
    pyramid.push_back(m(pyramid.back()));
  return cv2(torch::cat(pyramid, 1));
}

Tensor ConcatImpl::forward(const std::vector<Tensor>& xs) {
  return torch::cat(xs, 1);
}

DFLImpl::DFLImpl(int64_t regMax)
    : conv(register_module("conv",
                           torch::nn::Conv2d(torch::nn::Conv2dOptions(regMax, 1, 1).bias(false)))),
      regMax_(regMax) {
  torch::NoGradGuard noGrad;
  conv->weight.copy_(torch::arange(regMax, torch::kFloat).view({1, regMax, 1, 1}));
  conv->weight.set_requires_grad(false);
}

Tensor DFLImpl::forward(const Tensor& x) {
  const auto n = x.size(0), anchors = x.size(2);
  // [N, 4, regMax, A] -> bins as channels [N, regMax, 4, A], softmax over bins, weighted sum.
  const Tensor probabilities = x.view({n, 4, regMax_, anchors}).transpose(2, 1).softmax(1);
  return conv(probabilities).view({n, 4, anchors});
}

DetectImpl::DetectImpl(int64_t nc, const std::vector<int64_t>& ch,
                       const std::vector<int64_t>& strides, const NormChoice& norm) {
  if (ch.empty() || ch.size() != strides.size())
    throw std::invalid_argument("Detect: need one stride per input level");
  layout_.nc = nc;
  layout_.strides = strides;
  const int64_t regMax = layout_.regMax;
  const int64_t c2 = std::max({int64_t{16}, ch[0] / 4, regMax * 4});
  const int64_t c3 = std::max(ch[0], std::min<int64_t>(nc, 100));
  cv2 = register_module("cv2", torch::nn::ModuleList());
  cv3 = register_module("cv3", torch::nn::ModuleList());
  for (const int64_t c : ch) {
    cv2->push_back(
        torch::nn::Sequential(Conv(c, c2, 3, 1, norm), Conv(c2, c2, 3, 1, norm),
                              torch::nn::Conv2d(torch::nn::Conv2dOptions(c2, 4 * regMax, 1))));
    cv3->push_back(torch::nn::Sequential(Conv(c, c3, 3, 1, norm), Conv(c3, c3, 3, 1, norm),
                                         torch::nn::Conv2d(torch::nn::Conv2dOptions(c3, nc, 1))));
  }
  dfl = register_module("dfl", DFL(regMax));
  initializeBiases();
}

void DetectImpl::initializeBiases() {
  torch::NoGradGuard noGrad;
  for (std::size_t l = 0; l < layout_.strides.size(); ++l) {
    auto lastConv = [](const std::shared_ptr<torch::nn::Module>& branch) {
      const auto& sequential = *branch->as<torch::nn::SequentialImpl>();
      return sequential.ptr(sequential.size() - 1)->as<torch::nn::Conv2dImpl>();
    };
    const double cellsPerImage = std::pow(640.0 / static_cast<double>(layout_.strides[l]), 2);
    lastConv(cv2->ptr(l))->bias.fill_(1.0);
    lastConv(cv3->ptr(l))
        ->bias.fill_(std::log(5.0 / static_cast<double>(layout_.nc) / cellsPerImage));
  }
}

std::vector<Tensor> DetectImpl::forward(const std::vector<Tensor>& levels) {
  if (levels.size() != cv2->size())
    throw std::invalid_argument("Detect: expected " + std::to_string(cv2->size()) +
                                " levels, got " + std::to_string(levels.size()));
  // Every branch (box and class, per level) is Conv -> Conv -> 1x1, and no branch reads another's
  // output, so each of the two Conv stages runs for all branches at once: their norms then meet
  // the other ranks under SyncBN once per stage, not once per branch (yolov8n: 24 of its 114
  // collectives per step become 4; docs/syncbn.md). Each Conv is still conv, norm, SiLU.
  std::vector<torch::nn::SequentialImpl*> branches;
  std::vector<Tensor> xs;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    for (const auto* list : {&cv2, &cv3}) {
      branches.push_back((*list)->ptr(l)->as<torch::nn::SequentialImpl>());
      xs.push_back(levels[l]);
    }
  }
  constexpr std::size_t kConvStages = 2;
  for (std::size_t stage = 0; stage < kConvStages; ++stage) {
    std::vector<nn::Norm2dImpl*> norms;
    for (std::size_t b = 0; b < branches.size(); ++b) {
      auto* conv = branches[b]->ptr(stage)->as<ConvImpl>();
      xs[b] = conv->conv(xs[b]);
      norms.push_back(conv->bn.get());
    }
    xs = nn::Norm2dImpl::forwardTogether(norms, xs);
    for (Tensor& x : xs)
      x = torch::silu(x);
  }
  std::vector<Tensor> out;
  out.reserve(levels.size());
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const auto predict = [&](std::size_t b) {
      return branches[b]->ptr(kConvStages)->as<torch::nn::Conv2dImpl>()->forward(xs[b]);
    };
    out.push_back(torch::cat({predict(2 * l), predict(2 * l + 1)}, 1));
  }
  return out;
}

Tensor DetectImpl::decode(const std::vector<Tensor>& levels) const {
  const int64_t boxChannels = 4 * layout_.regMax;
  const Tensor flat = flattenLevels(levels);  // [N, 4*regMax + nc, A]
  const AnchorGrid anchors = makeAnchors(levels, layout_.strides);
  const Tensor distances = expectedDistances(flat.narrow(1, 0, boxChannels), layout_.regMax);
  const Tensor boxes = distancesToBoxes(distances.transpose(1, 2), anchors.points, true) *
                       anchors.strides;  // [N, A, 4] in input pixels
  return torch::cat({boxes.transpose(1, 2), flat.narrow(1, boxChannels, layout_.nc).sigmoid()}, 1);
}

int64_t DetectImpl::measure(const std::vector<std::array<int64_t, 2>>& levelSizes,
                            ConvMeasure measureOne) const {
  int64_t total = 0, anchors = 0;
  for (std::size_t l = 0; l < levelSizes.size(); ++l) {
    const int64_t pixels = levelSizes[l][0] * levelSizes[l][1];
    total += measureOne(*cv2->ptr(l), pixels) + measureOne(*cv3->ptr(l), pixels);
    anchors += pixels;
  }
  // The DFL convolution runs over 4 sides x A anchors.
  return total + measureOne(*dfl, 4 * anchors);
}

}  // namespace syncbn::model
