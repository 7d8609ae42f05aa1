// The building blocks of YOLOv8, one module per concept, with Ultralytics' structure and
// parameter names (conv/bn, cv1/cv2/m, cv2/cv3/dfl) so state dicts map onto theirs one to one.
// Every normalisation sits in an nn::Norm2d slot, so BN, SyncBN, GroupNorm or frozen BN is a
// construction choice or a later nn::convertNorms.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>

#include <array>
#include <memory>
#include <vector>

#include "model/head_layout.h"
#include "nn/norm.h"

namespace syncbn::model {

// Which norm every block builds, and the process group SyncBN reduces over.
struct NormChoice {
  NormKind kind = NormKind::BatchNorm;
  std::shared_ptr<dist::ProcessGroup> group;
};

// Multiply-adds of one pass through every convolution in `module`, each producing `pixels`
// output positions: sum over 4-D weights of their size (c_out * c_in/groups * kh * kw) * pixels.
int64_t convMultiplyAdds(const torch::nn::Module& module, int64_t pixels);
// Elements the convolutions in `module` output at `pixels` positions: sum of c_out * pixels.
int64_t convOutputElements(const torch::nn::Module& module, int64_t pixels);
// Either of the two, for the walks that apply one to every convolution of a model.
using ConvMeasure = int64_t (*)(const torch::nn::Module& module, int64_t pixels);

// Conv2d (no bias, padding k/2) -> norm -> SiLU. (Detect runs the three steps itself, stage by
// stage over its branches, so that their norms can meet the other ranks together.)
class ConvImpl : public torch::nn::Module {
 public:
  ConvImpl(int64_t c1, int64_t c2, int64_t kernel = 1, int64_t stride = 1,
           const NormChoice& norm = {});
  // x: [N, c1, H, W] -> [N, c2, H/stride, W/stride]
  at::Tensor forward(const at::Tensor& x);

  torch::nn::Conv2d conv{nullptr};
  nn::Norm2d bn{nullptr};
};
TORCH_MODULE(Conv);

// Two 3x3 Convs, with a residual add when `shortcut` and c1 == c2.
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(int64_t c1, int64_t c2, bool shortcut = true, double expansion = 0.5,
                 const NormChoice& norm = {});
  // x: [N, c1, H, W] -> [N, c2, H, W]
  at::Tensor forward(const at::Tensor& x);

  Conv cv1{nullptr};
  Conv cv2{nullptr};
  bool add;
};
TORCH_MODULE(Bottleneck);

// CSP block with two convolutions: cv1 to 2c channels, split in halves, n Bottlenecks chained
// on the second half, every intermediate concatenated ((2 + n) * c) and fused by cv2; c = c2/2.
class C2fImpl : public torch::nn::Module {
 public:
  C2fImpl(int64_t c1, int64_t c2, int64_t n = 1, bool shortcut = false,
          const NormChoice& norm = {});
  // x: [N, c1, H, W] -> [N, c2, H, W]
  at::Tensor forward(const at::Tensor& x);

  Conv cv1{nullptr};
  Conv cv2{nullptr};
  torch::nn::ModuleList m{nullptr};  // Bottleneck(c, c, shortcut, 1.0) x n
};
TORCH_MODULE(C2f);

// Spatial pyramid pooling, fast: cv1 to c1/2, three chained k x k max-pools (stride 1), the four
// maps concatenated and fused by cv2. Equivalent to SPP with kernels k, 2k-1, 3k-2.
class SPPFImpl : public torch::nn::Module {
 public:
  SPPFImpl(int64_t c1, int64_t c2, int64_t kernel = 5, const NormChoice& norm = {});
  // x: [N, c1, H, W] -> [N, c2, H, W]
  at::Tensor forward(const at::Tensor& x);

  Conv cv1{nullptr};
  Conv cv2{nullptr};
  torch::nn::MaxPool2d m{nullptr};
};
TORCH_MODULE(SPPF);

// Concatenation along channels.
class ConcatImpl : public torch::nn::Module {
 public:
  // xs: [N, C_i, H, W] each -> [N, sum C_i, H, W]
  at::Tensor forward(const std::vector<at::Tensor>& xs);
};
TORCH_MODULE(Concat);

// Distribution Focal Loss decoding as a frozen 1x1 convolution whose weight is 0..regMax-1: the
// expectation of each side's softmaxed bins. Kept as a parameter because Ultralytics counts and
// saves it (model.22.dfl.conv.weight); Detect decodes through expectedDistances, which is the
// same function (and the loss uses it too).
class DFLImpl : public torch::nn::Module {
 public:
  explicit DFLImpl(int64_t regMax = 16);
  // x: [N, 4*regMax, A] -> [N, 4, A] (ltrb distances in grid units)
  at::Tensor forward(const at::Tensor& x);

  torch::nn::Conv2d conv{nullptr};

 private:
  int64_t regMax_;
};
TORCH_MODULE(DFL);

// The decoupled detection head: per level a box branch (Conv3x3 -> Conv3x3 -> 1x1 to
// 4*regMax) and a class branch (Conv3x3 -> Conv3x3 -> 1x1 to nc).
class DetectImpl : public torch::nn::Module {
 public:
  // ch: input channels per level; strides: input pixels per cell of each level.
  DetectImpl(int64_t nc, const std::vector<int64_t>& ch, const std::vector<int64_t>& strides,
             const NormChoice& norm = {});

  // levels: [N, ch_l, H_l, W_l] -> per level [N, 4*regMax + nc, H_l, W_l] (head_layout.h)
  std::vector<at::Tensor> forward(const std::vector<at::Tensor>& levels);

  // Raw levels -> [N, 4 + nc, A]: (cx, cy, w, h) in input pixels, then sigmoid class scores
  // (Ultralytics' inference and ONNX layout).
  at::Tensor decode(const std::vector<at::Tensor>& levels) const;

  const HeadLayout& layout() const { return layout_; }

  // `measure` of every convolution of one pass at the given level sizes (H_l, W_l), DFL
  // included: convMultiplyAdds gives the head's multiply-adds.
  int64_t measure(const std::vector<std::array<int64_t, 2>>& levelSizes,
                  ConvMeasure measureOne) const;

  torch::nn::ModuleList cv2{nullptr};  // box branches, one Sequential per level
  torch::nn::ModuleList cv3{nullptr};  // class branches
  DFL dfl{nullptr};

 private:
  // Ultralytics' priors: box logits 1.0; class logits log(5 / nc / (640 / stride)^2), i.e.
  // about 5 objects per 640 px image spread over the level's cells and classes.
  void initializeBiases();

  HeadLayout layout_;
};
TORCH_MODULE(Detect);

}  // namespace syncbn::model
