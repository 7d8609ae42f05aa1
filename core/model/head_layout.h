// The detection head's output layout, shared by the model's Detect layer, the loss and
// inference. In training mode Detect returns one raw map per stride level:
//   level l: [N, 4*regMax + nc, H_l, W_l], channels 0..4*regMax-1 the box distributions (ltrb,
//   regMax bins each, side-major), then nc class logits;
// flattened over levels (flattenLevels) anchors run level by level, row-major within a level.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace syncbn::model {

struct HeadLayout {
  int64_t nc = 80;
  int64_t regMax = 16;
  std::vector<int64_t> strides{8, 16, 32};

  int64_t outputsPerAnchor() const { return 4 * regMax + nc; }
};

// Anchor points at grid-cell centres, in grid units of their level (x + 0.5, y + 0.5), and
// each anchor's stride.
struct AnchorGrid {
  at::Tensor points;   // [A, 2] (x, y)
  at::Tensor strides;  // [A, 1]
};

// levels: the per-stride maps (only their H, W, dtype and device are read).
AnchorGrid makeAnchors(const std::vector<at::Tensor>& levels, const std::vector<int64_t>& strides,
                       double offset = 0.5);

// [N, C, H_l, W_l] per level -> [N, C, A].
at::Tensor flattenLevels(const std::vector<at::Tensor>& levels);

// Box distributions [N, 4*regMax, A] -> expected ltrb distances [N, 4, A] in grid units:
// softmax over each side's regMax bins, then the expectation sum_i p_i * i (DFL decoding).
at::Tensor expectedDistances(const at::Tensor& boxDistributions, int64_t regMax);

// ltrb distances [..., 4] from anchor points [..., 2] -> boxes [..., 4] (xyxy, or xywh).
at::Tensor distancesToBoxes(const at::Tensor& distances, const at::Tensor& points, bool xywh);

// The inverse: xyxy boxes [..., 4] -> ltrb distances from the points, clamped to
// [0, maxDistance].
at::Tensor boxesToDistances(const at::Tensor& points, const at::Tensor& xyxy, double maxDistance);

}  // namespace syncbn::model
