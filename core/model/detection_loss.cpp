#include "model/detection_loss.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "model/boxes.h"

namespace syncbn::model {

using torch::Tensor;

// The head's output decoded once, shared by the assignment and the loss. A anchors over all
// levels, grid units of each anchor's level.
struct DetectionLoss::DecodedHead {
  AnchorGrid anchors;      // points [A, 2], strides [A, 1]
  Tensor binLogits;        // [N, A, 4, regMax]
  Tensor predictedBoxes;   // [N, A, 4] xyxy
  Tensor classLogits;      // [N, A, nc]
  double imageHeight = 0;  // pixels
  double imageWidth = 0;
};

PaddedTargets padTargets(const Tensor& targets, int64_t batchSize, double imageWidth,
                         double imageHeight, int64_t numClasses, const Tensor& like) {
  if (targets.dim() != 2 || targets.size(1) != 6)
    throw std::invalid_argument(
        "detection loss: targets must be [M, 6] (image index, class, cx, cy, w, h), got " +
        std::to_string(targets.dim()) + " dimensions" +
        (targets.dim() == 2 ? " of width " + std::to_string(targets.size(1)) : std::string()));
  const auto options = like.options().requires_grad(false);
  const auto longOptions = options.dtype(torch::kLong);
  const int64_t m = targets.size(0);
  if (m == 0)
    return {torch::zeros({batchSize, 0}, longOptions), torch::zeros({batchSize, 0, 4}, options),
            torch::zeros({batchSize, 0}, options.dtype(torch::kBool))};

  const Tensor t = targets.detach().to(options);
  const Tensor image = t.select(1, 0).to(torch::kLong);
  const Tensor label = t.select(1, 1).to(torch::kLong);
  // One host round trip for the checks and the padded width.
  const Tensor summary =
      torch::stack({image.min(), image.max(), label.min(), label.max(),
                    torch::bincount(image.clamp(0, batchSize - 1), {}, batchSize).max()})
          .cpu();
  const auto* s = summary.data_ptr<int64_t>();
  if (s[0] < 0 || s[1] >= batchSize)
    throw std::invalid_argument("detection loss: target image index " +
                                std::to_string(s[0] < 0 ? s[0] : s[1]) + " outside [0, " +
                                std::to_string(batchSize) + ")");
  if (s[2] < 0 || s[3] >= numClasses)
    throw std::invalid_argument("detection loss: target class " +
                                std::to_string(s[2] < 0 ? s[2] : s[3]) + " outside [0, " +
                                std::to_string(numClasses) + ")");
  const int64_t slots = s[4];

  // Slot of each GT within its image: its rank among the image's GTs in the input order.
  const Tensor order = std::get<1>(torch::sort(image, /*stable=*/true, 0, false));
  const Tensor sortedImage = image.index({order});
  const Tensor counts = torch::bincount(image, {}, batchSize);
  const Tensor firstOfImage = counts.cumsum(0) - counts;
  const Tensor slot = torch::arange(m, longOptions) - firstOfImage.index({sortedImage});

  const Tensor scale = torch::tensor({imageWidth, imageHeight, imageWidth, imageHeight}, options);
  const Tensor pixels = xywhToXyxy(t.narrow(1, 2, 4) * scale).index({order});
  PaddedTargets padded{torch::zeros({batchSize, slots}, longOptions),
                       torch::zeros({batchSize, slots, 4}, options),
                       torch::zeros({batchSize, slots}, options.dtype(torch::kBool))};
  padded.labels.index_put_({sortedImage, slot}, label.index({order}));
  padded.boxes.index_put_({sortedImage, slot}, pixels);
  padded.mask.index_put_({sortedImage, slot}, true);
  return padded;
}

Tensor classificationLoss(const Tensor& logits, const Tensor& targets, const Tensor& normaliser) {
  return torch::binary_cross_entropy_with_logits(logits, targets, {}, {}, at::Reduction::Sum) /
         normaliser;
}

Tensor distributionFocalLoss(const Tensor& binLogits, const Tensor& targetDistances) {
  const int64_t regMax = binLogits.size(-1);
  // The right bin must exist: t <= regMax - 1 - 0.01 keeps floor(t) + 1 <= regMax - 1.
  const Tensor target = targetDistances.detach().clamp(0, static_cast<double>(regMax) - 1.01);
  const Tensor left = target.floor();
  const Tensor leftWeight = left + 1 - target;  // 1 when t sits on bin l, 0 as t nears l + 1
  const Tensor leftIndex = left.to(torch::kLong).unsqueeze(-1);
  const Tensor logProbabilities = binLogits.log_softmax(-1);
  const Tensor leftLoss = -logProbabilities.gather(-1, leftIndex).squeeze(-1);
  const Tensor rightLoss = -logProbabilities.gather(-1, leftIndex + 1).squeeze(-1);
  return (leftLoss * leftWeight + rightLoss * (1 - leftWeight)).mean(-1);
}

BoxLossTerms boxLosses(const Tensor& binLogits, const Tensor& predictedBoxes,
                       const Tensor& anchorPoints, const Tensor& targetBoxes, const Tensor& weights,
                       const Tensor& normaliser) {
  const int64_t regMax = binLogits.size(-1);
  const Tensor iou = ((1 - completeIou(predictedBoxes, targetBoxes)) * weights).sum() / normaliser;
  const Tensor targetDistances =
      boxesToDistances(anchorPoints, targetBoxes, static_cast<double>(regMax) - 1.01);
  const Tensor dfl =
      (distributionFocalLoss(binLogits, targetDistances) * weights).sum() / normaliser;
  return {iou, dfl};
}

DetectionLoss::DetectionLoss(HeadLayout layout, LossGains gains, AssignerOptions assigner)
    : layout_(std::move(layout)), gains_(gains), assigner_(assigner) {
  if (layout_.nc < 1) throw std::invalid_argument("DetectionLoss: need at least one class");
  if (layout_.regMax < 2)
    throw std::invalid_argument("DetectionLoss: the distribution focal loss needs regMax >= 2");
  if (layout_.strides.empty()) throw std::invalid_argument("DetectionLoss: no strides");
}

DetectionLoss::DecodedHead DetectionLoss::decode(const std::vector<Tensor>& levels) const {
  if (levels.size() != layout_.strides.size())
    throw std::invalid_argument("DetectionLoss: " + std::to_string(levels.size()) +
                                " head levels for " + std::to_string(layout_.strides.size()) +
                                " strides");
  const int64_t channels = layout_.outputsPerAnchor();
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const Tensor& level = levels[l];
    if (level.dim() != 4 || level.size(1) != channels || level.size(0) != levels[0].size(0))
      throw std::invalid_argument(
          "DetectionLoss: level " + std::to_string(l) + " must be [N, " + std::to_string(channels) +
          " = 4*regMax + nc, H, W] with the batch of level 0, got " + std::to_string(level.dim()) +
          " dimensions" +
          (level.dim() == 4 ? " and " + std::to_string(level.size(1)) + " channels" : ""));
    if (!level.is_floating_point())
      throw std::invalid_argument("DetectionLoss: level " + std::to_string(l) +
                                  " is not floating point");
  }
  const int64_t n = levels[0].size(0), reg = layout_.regMax, boxChannels = 4 * reg;
  // Half-precision outputs (mixed precision) are decoded in float32: pixel coordinates, the
  // IoU powers and the sums over anchors need its range and precision.
  Tensor flat = flattenLevels(levels);  // [N, C, A]
  if (flat.scalar_type() == torch::kHalf || flat.scalar_type() == torch::kBFloat16)
    flat = flat.to(torch::kFloat);
  DecodedHead head;
  const AnchorGrid anchors = makeAnchors(levels, layout_.strides);
  head.anchors = {anchors.points.to(flat.dtype()), anchors.strides.to(flat.dtype())};
  const int64_t a = flat.size(2);
  const Tensor boxDistributions = flat.narrow(1, 0, boxChannels);
  head.binLogits = boxDistributions.transpose(1, 2).reshape({n, a, 4, reg});
  head.predictedBoxes = distancesToBoxes(expectedDistances(boxDistributions, reg).transpose(1, 2),
                                         head.anchors.points, /*xywh=*/false);
  head.classLogits = flat.narrow(1, boxChannels, layout_.nc).transpose(1, 2);
  head.imageHeight = static_cast<double>(levels[0].size(2) * layout_.strides[0]);
  head.imageWidth = static_cast<double>(levels[0].size(3) * layout_.strides[0]);
  return head;
}

Assignment DetectionLoss::assign(const DecodedHead& head, const Tensor& targets) const {
  const PaddedTargets gt = padTargets(targets, head.classLogits.size(0), head.imageWidth,
                                      head.imageHeight, layout_.nc, head.predictedBoxes);
  // The assigner works in pixels on detached predictions.
  const Tensor& stride = head.anchors.strides;
  return assigner_(head.classLogits.detach().sigmoid(), head.predictedBoxes.detach() * stride,
                   head.anchors.points * stride, gt.labels, gt.boxes, gt.mask);
}

DetectionLossResult DetectionLoss::lossFor(const DecodedHead& head,
                                           const Assignment& assignment) const {
  const int64_t n = head.classLogits.size(0), a = head.classLogits.size(1);
  const Tensor targetScores = assignment.scores.to(head.classLogits.dtype());
  const Tensor scoreSum = targetScores.sum();
  const Tensor normaliser =
      reduceNormaliser_ ? reduceNormaliser_(scoreSum.detach()) : scoreSum.clamp_min(1);
  const Tensor cls = classificationLoss(head.classLogits, targetScores, normaliser);

  // Box terms on the positives only, in grid units of each positive's level.
  const Tensor& fg = assignment.foreground;
  const Tensor targetBoxes =
      assignment.boxes.to(head.predictedBoxes.dtype()) / head.anchors.strides;
  const BoxLossTerms terms =
      boxLosses(head.binLogits.index({fg}), head.predictedBoxes.index({fg}),
                head.anchors.points.unsqueeze(0).expand({n, a, 2}).index({fg}),
                targetBoxes.index({fg}), targetScores.sum(-1).index({fg}), normaliser);

  const Tensor box = terms.iou * gains_.box;
  const Tensor clsScaled = cls * gains_.cls;
  const Tensor dfl = terms.dfl * gains_.dfl;
  return {(box + clsScaled + dfl) * static_cast<double>(n), box.detach(), clsScaled.detach(),
          dfl.detach()};
}

DetectionLossResult DetectionLoss::operator()(const std::vector<Tensor>& levels,
                                              const Tensor& targets) const {
  const DecodedHead head = decode(levels);
  return lossFor(head, assign(head, targets));
}

Assignment DetectionLoss::assign(const std::vector<Tensor>& levels, const Tensor& targets) const {
  return assign(decode(levels), targets);
}

DetectionLossResult DetectionLoss::lossFor(const std::vector<Tensor>& levels,
                                           const Assignment& assignment) const {
  return lossFor(decode(levels), assignment);
}

}  // namespace syncbn::model
