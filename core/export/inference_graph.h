// The detector as a flat list of inference operations with its norms folded away: what the ONNX
// and TorchScript writers both translate, so the two formats cannot disagree about the network.
// Built from a DetectionModelImpl (any norm kind); every BatchNorm kind (BatchNorm, SyncBN, frozen
// BN) is folded into the convolution before it, GroupNorm stays an operation (it normalises each
// image by its own statistics, so there is nothing constant to fold). Training-only parts (loss,
// probes, process groups) never appear.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace syncbn::model {
class DetectionModelImpl;
class ConvImpl;
}  // namespace syncbn::model

namespace syncbn::exporter {

enum class OpKind {
  Conv,       // inputs {x}; weight [Co, Ci, k, k], bias [Co] (undefined: none), stride, pad
  GroupNorm,  // inputs {x}; groups, weight (gamma) and bias (beta) [C], eps
  SiLU,       // inputs {x}
  Add,        // inputs {a, b}, same shape
  Concat,     // inputs {x...} along channels
  Split,      // inputs {x}; sizes along channels, one output each
  MaxPool,    // inputs {x}; kernel, stride 1, pad kernel / 2
  Upsample,   // inputs {x}; nearest, integer scale
  Detect,     // inputs {raw level maps}; the decoded [N, 4 + nc, A] (writers lower it)
};

struct Op {
  OpKind kind = OpKind::Conv;
  std::vector<int> inputs;   // value ids; 0 is the image
  std::vector<int> outputs;  // value ids, unique in the graph
  at::Tensor weight, bias;   // float32, CPU, contiguous
  int64_t stride = 1, pad = 0, kernel = 1, groups = 1, scale = 2;
  double eps = 0;
  std::vector<int64_t> sizes;  // Split
  std::string name;            // the module it came from ("model.2.cv1"), for node names
};

struct DetectLayout {
  int64_t nc = 0;
  int64_t regMax = 16;
  std::vector<int64_t> strides;   // input pixels per cell of each level
  std::vector<int64_t> channels;  // of each raw level map: 4 * regMax + nc
};

struct InferenceGraph {
  std::vector<Op> ops;  // in execution order; the last is Detect
  int values = 1;       // value ids in use: 0 .. values-1
  int64_t inputChannels = 3;
  int64_t maxStride = 1;  // image sizes must be multiples of it
  int foldedNorms = 0;    // BatchNorm-kind layers folded into their convolutions
  DetectLayout detect;
};

// The graph of `model`, its norms folded. Throws std::invalid_argument for a module the graph
// cannot express.
InferenceGraph buildInferenceGraph(const model::DetectionModelImpl& model);

// A BatchNorm-kind norm folded into the convolution before it: weight' = weight * s and bias' =
// beta - mean * s with s = gamma / sqrt(running_var + eps), computed in float64, returned in
// float32. Undefined tensors for a GroupNorm block (nothing to fold).
struct FoldedConv {
  at::Tensor weight, bias;
};
FoldedConv foldBatchNorm(const model::ConvImpl& conv);

}  // namespace syncbn::exporter
