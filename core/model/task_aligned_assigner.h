// Task-aligned label assignment (Feng et al. 2021, TOOD), as Ultralytics' TaskAlignedAssigner
// does it for YOLOv8. For each ground-truth box (GT) the anchors whose centres lie strictly
// inside it are candidates; each candidate is ranked by the alignment metric
//   t = s^alpha * u^beta,
// s the predicted score of the GT's class, u = max(CIoU(GT, predicted box), 0); the top-k
// candidates per GT are its positives. An anchor positive for several GTs goes to the GT with
// the highest u. Positives get the GT's box and label and a soft class target
//   t * max_u / (max_t + eps),
// max_u and max_t taken over that GT's positives, so each GT's best-aligned anchor targets its
// best IoU.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace syncbn::model {

struct AssignerOptions {
  int64_t topk = 10;
  double alpha = 0.5;  // exponent of the class score
  double beta = 6.0;   // exponent of the IoU
  double eps = 1e-9;
};

// Per anchor, N images by A anchors. labels, boxes and gtIndex are meaningful only where
// foreground is true (elsewhere they repeat the image's first GT slot, as Ultralytics does).
struct Assignment {
  at::Tensor labels;      // [N, A] int64: class of the assigned GT
  at::Tensor boxes;       // [N, A, 4] xyxy pixels of the assigned GT
  at::Tensor scores;      // [N, A, nc] one-hot class * normalised alignment; 0 for background
  at::Tensor foreground;  // [N, A] bool
  at::Tensor gtIndex;     // [N, A] int64: index of the assigned GT among its image's GTs
};

class TaskAlignedAssigner {
 public:
  explicit TaskAlignedAssigner(AssignerOptions options = {});

  // scores [N, A, nc] class probabilities (after sigmoid), boxes [N, A, 4] predicted xyxy
  // pixels, anchorPoints [A, 2] pixels; GTs padded per image to G slots: gtLabels [N, G] int64,
  // gtBoxes [N, G, 4] xyxy pixels, gtMask [N, G] bool (false for padding). Runs without grad.
  Assignment operator()(const at::Tensor& scores, const at::Tensor& boxes,
                        const at::Tensor& anchorPoints, const at::Tensor& gtLabels,
                        const at::Tensor& gtBoxes, const at::Tensor& gtMask) const;

  const AssignerOptions& options() const { return options_; }

 private:
  AssignerOptions options_;
};

}  // namespace syncbn::model
