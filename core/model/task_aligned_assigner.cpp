#include "model/task_aligned_assigner.h"

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "model/boxes.h"

namespace syncbn::model {
namespace {

using torch::Tensor;

std::string shapeOf(const Tensor& t) {
  std::string text = "[";
  for (int64_t d = 0; d < t.dim(); ++d)
    text += (d ? ", " : "") + std::to_string(t.size(d));
  return text + "]";
}

void check(bool ok, const std::string& what, const Tensor& t) {
  if (!ok) throw std::invalid_argument("TaskAlignedAssigner: " + what + ", got " + shapeOf(t));
}

// [N, G, A] -> [N, A]: the first GT with the largest value at each anchor, as argmax(1). ATen's
// argmax over a middle dimension walks it A elements apart and cost 6 ms per call at batch 16
// (docs/benchmarks.md, "Where the step goes"); over the last dimension of a transposed copy it
// reads each anchor's values side by side, with the same first-index rule for ties.
Tensor argmaxOverGts(const Tensor& values) {
  return values.transpose(1, 2).contiguous().argmax(-1);
}

}  // namespace

TaskAlignedAssigner::TaskAlignedAssigner(AssignerOptions options) : options_(options) {
  if (options_.topk < 1) throw std::invalid_argument("TaskAlignedAssigner: topk must be >= 1");
}

Assignment TaskAlignedAssigner::operator()(const Tensor& scores, const Tensor& boxes,
                                           const Tensor& anchorPoints, const Tensor& gtLabels,
                                           const Tensor& gtBoxes, const Tensor& gtMask) const {
  check(scores.dim() == 3, "scores must be [N, A, nc]", scores);
  const int64_t n = scores.size(0), a = scores.size(1), nc = scores.size(2);
  check(boxes.dim() == 3 && boxes.size(0) == n && boxes.size(1) == a && boxes.size(2) == 4,
        "boxes must be [N, A, 4] like scores", boxes);
  check(anchorPoints.dim() == 2 && anchorPoints.size(0) == a && anchorPoints.size(1) == 2,
        "anchorPoints must be [A, 2]", anchorPoints);
  check(gtBoxes.dim() == 3 && gtBoxes.size(0) == n && gtBoxes.size(2) == 4,
        "gtBoxes must be [N, G, 4]", gtBoxes);
  const int64_t g = gtBoxes.size(1);
  check(gtLabels.dim() == 2 && gtLabels.size(0) == n && gtLabels.size(1) == g,
        "gtLabels must be [N, G] like gtBoxes", gtLabels);
  check(gtMask.dim() == 2 && gtMask.size(0) == n && gtMask.size(1) == g,
        "gtMask must be [N, G] like gtBoxes", gtMask);

  torch::NoGradGuard noGrad;
  const auto longOptions = scores.options().dtype(torch::kLong);
  if (g == 0) {
    return {torch::zeros({n, a}, longOptions), torch::zeros({n, a, 4}, gtBoxes.options()),
            torch::zeros_like(scores), torch::zeros({n, a}, scores.options().dtype(torch::kBool)),
            torch::zeros({n, a}, longOptions)};
  }

  const Tensor labels = gtLabels.to(torch::kLong).clamp_min(0);  // padded slots may hold anything
  const Tensor valid = gtMask.to(torch::kBool).unsqueeze(-1);    // [N, G, 1]

  // Candidates: centre strictly inside the GT, min(x - x1, y - y1, x2 - x, y2 - y) > eps.
  const Tensor points = anchorPoints.to(gtBoxes.dtype()).view({1, 1, a, 2});
  const Tensor topLeft = gtBoxes.narrow(-1, 0, 2).unsqueeze(2);      // [N, G, 1, 2]
  const Tensor bottomRight = gtBoxes.narrow(-1, 2, 2).unsqueeze(2);  // [N, G, 1, 2]
  const Tensor eligible =
      (torch::cat({points - topLeft, bottomRight - points}, -1).amin(-1) > options_.eps) & valid;

  // [N, G, A]: the score of each GT's class at every anchor, and the clamped CIoU.
  const Tensor classScores =
      scores.transpose(1, 2).gather(1, labels.unsqueeze(-1).expand({n, g, a}));
  // CIoU only for the candidate pairs: all N x G x A pairs would cost far more memory.
  const Tensor predicted = boxes.to(gtBoxes.options());
  Tensor overlaps = torch::zeros({n, g, a}, gtBoxes.options());
  overlaps.index_put_({eligible},
                      completeIou(gtBoxes.unsqueeze(2).expand({n, g, a, 4}).index({eligible}),
                                  predicted.unsqueeze(1).expand({n, g, a, 4}).index({eligible}))
                          .clamp_min(0));
  const Tensor alignment = torch::where(
      eligible, classScores.to(overlaps.dtype()).pow(options_.alpha) * overlaps.pow(options_.beta),
      torch::zeros({}, overlaps.options()));

  // Top-k anchors per GT by alignment, among its candidates only (-1 ranks the others last).
  const int64_t k = std::min(options_.topk, a);
  const Tensor topIndices = std::get<1>(torch::where(eligible, alignment, -1.0).topk(k, -1));
  Tensor positive = (torch::zeros_like(alignment).scatter_(-1, topIndices, 1.0) > 0) & eligible;

  // An anchor positive for several GTs keeps only the GT it overlaps most (over all GTs).
  const Tensor contested = positive.sum(1, /*keepdim=*/true) > 1;  // [N, 1, A]
  const Tensor bestGt = argmaxOverGts(overlaps).unsqueeze(1);      // [N, 1, A]
  const Tensor isBest = torch::zeros_like(alignment).scatter_(1, bestGt, 1.0) > 0;
  positive = torch::where(contested, isBest, positive);

  const Tensor foreground = positive.any(1);                             // [N, A]
  const Tensor gtIndex = argmaxOverGts(positive.to(alignment.dtype()));  // [N, A]; 0: background
  const Tensor assignedLabels = labels.gather(1, gtIndex);
  const Tensor assignedBoxes = gtBoxes.gather(1, gtIndex.unsqueeze(-1).expand({n, a, 4}));

  // Normalised alignment t * max_u / (max_t + eps), both maxima over the GT's positives; each
  // anchor has at most one GT left, so the max over GTs picks its own.
  const Tensor positiveAlignment = alignment * positive;
  const Tensor maxAlignment = positiveAlignment.amax(-1, /*keepdim=*/true);    // [N, G, 1]
  const Tensor maxOverlap = (overlaps * positive).amax(-1, /*keepdim=*/true);  // [N, G, 1]
  const Tensor normalised =
      (positiveAlignment * maxOverlap / (maxAlignment + options_.eps)).amax(1);  // [N, A]
  const Tensor targetScores = torch::one_hot(assignedLabels, nc).to(scores.dtype()) *
                              (normalised * foreground).to(scores.dtype()).unsqueeze(-1);
  return {assignedLabels, assignedBoxes, targetScores, foreground, gtIndex};
}

}  // namespace syncbn::model
