// Box geometry shared by the loss, NMS and metrics. Boxes are [..., 4] tensors in pixels:
// xyxy = (x1, y1, x2, y2) corners, xywh = (cx, cy, w, h) centre and size.
#pragma once

#include <ATen/core/Tensor.h>

namespace syncbn::model {

at::Tensor xywhToXyxy(const at::Tensor& xywh);
at::Tensor xyxyToXywh(const at::Tensor& xyxy);

// Pairwise IoU: a [N, 4] and b [M, 4] xyxy -> [N, M]. Empty boxes give IoU 0, never NaN.
at::Tensor boxIou(const at::Tensor& a, const at::Tensor& b);

// Element-wise IoU of matching boxes: a, b [..., 4] xyxy -> [...].
at::Tensor elementwiseIou(const at::Tensor& a, const at::Tensor& b, double eps = 1e-7);

// Element-wise Complete IoU (Zheng et al. 2020), a, b [..., 4] xyxy -> [...]:
//   CIoU = IoU - rho^2 / c^2 - alpha * v, v = 4/pi^2 (atan(w_b/h_b) - atan(w_a/h_a))^2,
//   alpha = v / (v - IoU + 1 + eps), alpha carrying no gradient;
// rho the distance between centres, c the diagonal of the smallest enclosing box.
at::Tensor completeIou(const at::Tensor& a, const at::Tensor& b, double eps = 1e-7);

}  // namespace syncbn::model
