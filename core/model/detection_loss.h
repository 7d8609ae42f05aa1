// The YOLOv8 detection loss, as Ultralytics' v8DetectionLoss computes it:
//   cls: sum BCE-with-logits(class logits, assigned soft targets) / S,
//   box: sum over positives w * (1 - CIoU(predicted, target)) / S,
//   dfl: sum over positives w * (mean over the 4 sides of the two-bin distribution focal loss) / S,
// S = max(sum of target scores, 1), w = the positive's target score, targets from the
// task-aligned assigner. total = (gain_box * box + gain_cls * cls + gain_dfl * dfl) * batch size.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "model/head_layout.h"
#include "model/task_aligned_assigner.h"

namespace syncbn::model {

// Loss gains, named as Ultralytics' hyperparameters box, cls and dfl.
struct LossGains {
  double box = 7.5;
  double cls = 0.5;
  double dfl = 1.5;
};

struct DetectionLossResult {
  at::Tensor total;  // scalar, differentiable: (box + cls + dfl) * batch size
  at::Tensor box;    // scalars for logging: detached, gain applied, not scaled by batch size
  at::Tensor cls;
  at::Tensor dfl;
};

// Ground truth padded per image: labels [N, G] int64, boxes [N, G, 4] xyxy pixels, mask [N, G].
struct PaddedTargets {
  at::Tensor labels;
  at::Tensor boxes;
  at::Tensor mask;
};

// targets [M, 6] = (image index, class, cx, cy, w, h), box normalised to [0, 1] -> per-image
// padded GTs in pixels of an imageWidth x imageHeight input, in `like`'s dtype and device. GTs
// keep their order within an image. Throws on a wrong shape, an image index outside
// [0, batchSize) or a class outside [0, numClasses).
PaddedTargets padTargets(const at::Tensor& targets, int64_t batchSize, double imageWidth,
                         double imageHeight, int64_t numClasses, const at::Tensor& like);

// Loss pieces, exposed so each can be checked alone.

// sum BCE-with-logits(logits, targets) / normaliser; logits and targets of one shape.
at::Tensor classificationLoss(const at::Tensor& logits, const at::Tensor& targets,
                              const at::Tensor& normaliser);

// Distribution focal loss (Li et al. 2020) of binLogits [P, 4, regMax] against target distances
// [P, 4] clamped to [0, regMax - 1.01]: with l = floor(t), the cross entropy of bins l and l + 1
// weighted (l + 1 - t) and (t - l), averaged over the 4 sides -> [P].
at::Tensor distributionFocalLoss(const at::Tensor& binLogits, const at::Tensor& targetDistances);

struct BoxLossTerms {
  at::Tensor iou;  // sum w * (1 - CIoU) / normaliser
  at::Tensor dfl;  // sum w * distributionFocalLoss / normaliser
};

// For P positives, in grid units of each one's level: binLogits [P, 4, regMax], predicted boxes
// [P, 4] xyxy, anchor points [P, 2], target boxes [P, 4] xyxy, weights [P].
BoxLossTerms boxLosses(const at::Tensor& binLogits, const at::Tensor& predictedBoxes,
                       const at::Tensor& anchorPoints, const at::Tensor& targetBoxes,
                       const at::Tensor& weights, const at::Tensor& normaliser);

class DetectionLoss {
 public:
  explicit DetectionLoss(HeadLayout layout, LossGains gains = {}, AssignerOptions assigner = {});

  // levels: the head's training output, one [N, 4*regMax + nc, H_l, W_l] map per stride; the
  // input image is (H_0 * stride_0) x (W_0 * stride_0). targets [M, 6] as for padTargets.
  DetectionLossResult operator()(const std::vector<at::Tensor>& levels,
                                 const at::Tensor& targets) const;

  // The two halves of operator(): the assignment (no grad), then the loss for a given
  // assignment (holding the assignment fixed is what makes the loss smooth in the parameters).
  Assignment assign(const std::vector<at::Tensor>& levels, const at::Tensor& targets) const;
  DetectionLossResult lossFor(const std::vector<at::Tensor>& levels,
                              const Assignment& assignment) const;

  const HeadLayout& layout() const { return layout_; }
  const LossGains& gains() const { return gains_; }

  // Data-parallel training: maps this rank's sum of target scores to the normaliser S used in
  // place of max(sum, 1), e.g. max(sum over the ranks, 1) / W (an all-reduce; every rank must
  // call the loss the same number of times). With that, a rank's loss terms are W times its share
  // of the global batch's, their mean over the ranks is exactly the one-rank loss of the global
  // batch, and so are the averaged gradients; with per-rank sums (Ultralytics) they are only
  // close, and far off while the sums are below 1 early in training.
  using NormaliserReduction = std::function<at::Tensor(const at::Tensor& localSum)>;
  void setNormaliserReduction(NormaliserReduction reduce) { reduceNormaliser_ = std::move(reduce); }

 private:
  struct DecodedHead;
  DecodedHead decode(const std::vector<at::Tensor>& levels) const;
  Assignment assign(const DecodedHead& head, const at::Tensor& targets) const;
  DetectionLossResult lossFor(const DecodedHead& head, const Assignment& assignment) const;

  HeadLayout layout_;
  LossGains gains_;
  TaskAlignedAssigner assigner_;
  NormaliserReduction reduceNormaliser_;
};

}  // namespace syncbn::model
