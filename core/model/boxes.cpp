#include "model/boxes.h"

#include <torch/torch.h>

#include <numbers>

namespace syncbn::model {
namespace {

using torch::Tensor;

Tensor coord(const Tensor& boxes, int64_t i) {
  return boxes.select(-1, i);
}

}  // namespace

Tensor xywhToXyxy(const Tensor& xywh) {
  const Tensor centre = xywh.narrow(-1, 0, 2);
  const Tensor half = xywh.narrow(-1, 2, 2) / 2;
  return torch::cat({centre - half, centre + half}, -1);
}

Tensor xyxyToXywh(const Tensor& xyxy) {
  const Tensor topLeft = xyxy.narrow(-1, 0, 2);
  const Tensor bottomRight = xyxy.narrow(-1, 2, 2);
  return torch::cat({(topLeft + bottomRight) / 2, bottomRight - topLeft}, -1);
}

Tensor boxIou(const Tensor& a, const Tensor& b) {
  const Tensor lt = torch::max(a.narrow(-1, 0, 2).unsqueeze(1), b.narrow(-1, 0, 2).unsqueeze(0));
  const Tensor rb = torch::min(a.narrow(-1, 2, 2).unsqueeze(1), b.narrow(-1, 2, 2).unsqueeze(0));
  const Tensor inter = (rb - lt).clamp_min(0).prod(-1);
  const Tensor areaA = (a.narrow(-1, 2, 2) - a.narrow(-1, 0, 2)).clamp_min(0).prod(-1);
  const Tensor areaB = (b.narrow(-1, 2, 2) - b.narrow(-1, 0, 2)).clamp_min(0).prod(-1);
  const Tensor unionArea = areaA.unsqueeze(1) + areaB.unsqueeze(0) - inter;
  // Two empty boxes have union 0: their IoU is 0 rather than 0/0.
  return torch::where(unionArea > 0, inter / unionArea.clamp_min(1e-12),
                      torch::zeros_like(unionArea));
}

Tensor elementwiseIou(const Tensor& a, const Tensor& b, double eps) {
  const Tensor w1 = coord(a, 2) - coord(a, 0), h1 = coord(a, 3) - coord(a, 1) + eps;
  const Tensor w2 = coord(b, 2) - coord(b, 0), h2 = coord(b, 3) - coord(b, 1) + eps;
  const Tensor inter =
      (torch::min(coord(a, 2), coord(b, 2)) - torch::max(coord(a, 0), coord(b, 0))).clamp_min(0) *
      (torch::min(coord(a, 3), coord(b, 3)) - torch::max(coord(a, 1), coord(b, 1))).clamp_min(0);
  return inter / (w1 * h1 + w2 * h2 - inter + eps);
}

Tensor completeIou(const Tensor& a, const Tensor& b, double eps) {
  const Tensor w1 = coord(a, 2) - coord(a, 0), h1 = coord(a, 3) - coord(a, 1) + eps;
  const Tensor w2 = coord(b, 2) - coord(b, 0), h2 = coord(b, 3) - coord(b, 1) + eps;
  const Tensor iou = elementwiseIou(a, b, eps);
  const Tensor enclosingW =
      torch::max(coord(a, 2), coord(b, 2)) - torch::min(coord(a, 0), coord(b, 0));
  const Tensor enclosingH =
      torch::max(coord(a, 3), coord(b, 3)) - torch::min(coord(a, 1), coord(b, 1));
  const Tensor diagonal2 = enclosingW.pow(2) + enclosingH.pow(2) + eps;
  const Tensor centreDistance2 = ((coord(b, 0) + coord(b, 2) - coord(a, 0) - coord(a, 2)).pow(2) +
                                  (coord(b, 1) + coord(b, 3) - coord(a, 1) - coord(a, 3)).pow(2)) /
                                 4;
  const double k = 4 / (std::numbers::pi * std::numbers::pi);
  const Tensor v = k * (torch::atan(w2 / h2) - torch::atan(w1 / h1)).pow(2);
  Tensor alpha;
  {
    torch::NoGradGuard noGrad;
    alpha = v / (v - iou + (1 + eps));
  }
  return iou - (centreDistance2 / diagonal2 + v * alpha);
}

}  // namespace syncbn::model
