// Learning sanity: the detector, its loss and the optimizer together can fit a handful of images.
// A broken assigner, a sign error in a loss term or a head that ignores its input all show here as
// a loss that plateaus.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/boxes.h"
#include "model/detection_loss.h"
#include "model/detection_metrics.h"
#include "model/detection_model.h"
#include "model/postprocess.h"

namespace syncbn::model {
namespace {

using torch::Tensor;

struct SyntheticBatch {
  Tensor images;   // [N, 3, S, S] in [0, 1]
  Tensor targets;  // [M, 6]: batch index, class, cx, cy, w, h (normalised)
};

// Filled rectangles of three class colours on a noisy background: every box is exactly the
// object it labels.
SyntheticBatch makeSyntheticBatch(int64_t images, int64_t size) {
  torch::manual_seed(7);
  const Tensor colours =
      torch::tensor({{0.9f, 0.1f, 0.1f}, {0.1f, 0.8f, 0.2f}, {0.2f, 0.3f, 0.9f}});
  Tensor batch = torch::rand({images, 3, size, size}) * 0.3 + 0.2;
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < images; ++i) {
    for (int64_t k = 0; k < 1 + i % 3; ++k) {
      const int64_t cls = (i + k) % 3;
      const int64_t w = torch::randint(size / 6, size / 2, {1}).item<int64_t>();
      const int64_t h = torch::randint(size / 6, size / 2, {1}).item<int64_t>();
      const int64_t x = torch::randint(0, size - w, {1}).item<int64_t>();
      const int64_t y = torch::randint(0, size - h, {1}).item<int64_t>();
      batch[i].slice(1, y, y + h).slice(2, x, x + w) = colours[cls].view({3, 1, 1});
      const double s = static_cast<double>(size);
      rows.push_back(torch::tensor({static_cast<double>(i), static_cast<double>(cls),
                                    (x + w / 2.0) / s, (y + h / 2.0) / s, w / s, h / s},
                                   torch::kFloat));
    }
  }
  return {batch, torch::stack(rows)};
}

TEST(LearningSanity, YoloV8nOverfitsFourImages) {
  torch::manual_seed(0);
  DetectionModel model = buildDetectionModel("yolov8n.yaml", "", 3);
  model->train();
  const DetectionLoss loss(model->headLayout());
  const SyntheticBatch data = makeSyntheticBatch(4, 128);

  std::vector<Tensor> trainable;
  for (const Tensor& p : model->parameters())
    if (p.requires_grad()) trainable.push_back(p);
  torch::optim::Adam optimizer(trainable, torch::optim::AdamOptions(1e-3));

  double first = 0, last = 0;
  int steps = 0;
  for (; steps < 300; ++steps) {
    optimizer.zero_grad();
    const DetectionLossResult result = loss(model->forwardLevels(data.images), data.targets);
    result.total.backward();
    optimizer.step();
    last = result.total.item<double>();
    ASSERT_TRUE(std::isfinite(last)) << "step " << steps;
    if (steps == 0) first = last;
    if (last <= 0.1 * first) break;
  }
  EXPECT_LE(last, 0.1 * first) << "total loss " << first << " -> " << last << " after " << steps
                               << " steps";

  // What was learnt is what inference reads: decode, NMS and mAP on the fitted images (batch
  // statistics, as in training) find the objects.
  torch::NoGradGuard noGrad;
  const auto detections =
      nonMaxSuppression(model->predict(data.images), {.confThreshold = 0.001, .multiLabel = true});
  DetectionMetrics metrics(3);
  for (int64_t i = 0; i < data.images.size(0); ++i) {
    const Tensor rows = data.targets.index({data.targets.select(1, 0) == i});
    metrics.addImage(detections[i], xywhToXyxy(rows.slice(1, 2, 6) * 128),
                     rows.select(1, 1).to(torch::kLong));
  }
  const DetectionSummary summary = metrics.compute();
  EXPECT_GE(summary.map50, 0.5) << summary.table();
  std::cout << "[ info ] total loss " << first << " -> " << last << " in " << steps + 1
            << " steps; mAP50 " << summary.map50 << "\n";
}

}  // namespace
}  // namespace syncbn::model
