// The task-aligned assigner on hand-built cases: five anchors in a row, centres at x = 4, 12,
// 20, 28, 36 (y = 4), two classes, boxes in pixels.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "box_oracles.h"
#include "model/task_aligned_assigner.h"

namespace syncbn::model {
namespace {

using oracle::Box;
using torch::Tensor;

constexpr int64_t kAnchors = 5;

Tensor rowOfAnchors() {
  return torch::tensor({4.0, 4.0, 12.0, 4.0, 20.0, 4.0, 28.0, 4.0, 36.0, 4.0}, torch::kFloat64)
      .view({kAnchors, 2});
}

Tensor boxesTensor(const std::vector<Box>& boxes) {
  std::vector<double> flat;
  for (const Box& b : boxes)
    flat.insert(flat.end(), {b.x1, b.y1, b.x2, b.y2});
  return torch::tensor(flat, torch::kFloat64).view({1, static_cast<int64_t>(boxes.size()), 4});
}

// scores [1, A, 2] from per-anchor probabilities of class 0 and class 1.
Tensor scoresTensor(const std::vector<double>& class0, const std::vector<double>& class1) {
  return torch::stack(
             {torch::tensor(class0, torch::kFloat64), torch::tensor(class1, torch::kFloat64)}, -1)
      .unsqueeze(0);
}

std::vector<bool> foregroundOf(const Assignment& a, int64_t image = 0) {
  std::vector<bool> fg;
  for (int64_t i = 0; i < a.foreground.size(1); ++i)
    fg.push_back(a.foreground[image][i].item<bool>());
  return fg;
}

const Box kGt{0, 0, 24, 8};  // contains the centres x = 4, 12, 20; not 28 or 36

Box shifted(const Box& b, double dx) {
  return {b.x1 + dx, b.y1, b.x2 + dx, b.y2};
}

// Anchors 0, 1, 2 predict the GT shifted right by 1, 2 and 4 pixels; anchors 3 and 4 predict
// the GT exactly and score highest, but their centres are outside it.
struct OneBoxCase {
  Tensor boxes = boxesTensor({shifted(kGt, 1), shifted(kGt, 2), shifted(kGt, 4), kGt, kGt});
  std::vector<double> classOne{0.04, 0.9, 0.5, 0.99, 0.99};
  Tensor scores = scoresTensor({0.8, 0.8, 0.8, 0.8, 0.8}, classOne);
  Tensor gtLabels = torch::tensor({{1}}, torch::kLong);
  Tensor gtBoxes = boxesTensor({kGt});
  Tensor gtMask = torch::tensor({{true}});

  // Alignment s^0.5 * u^6 with u the CIoU against the GT, for the three candidates.
  std::vector<double> overlap{oracle::ciou(kGt, shifted(kGt, 1)),
                              oracle::ciou(kGt, shifted(kGt, 2)),
                              oracle::ciou(kGt, shifted(kGt, 4))};
  double alignment(int i) const { return std::sqrt(classOne[i]) * std::pow(overlap[i], 6); }

  Assignment assign(int64_t topk) const {
    return TaskAlignedAssigner({.topk = topk})(scores, boxes, rowOfAnchors(), gtLabels, gtBoxes,
                                               gtMask);
  }
};

TEST(TaskAlignedAssigner, OneBoxTopKAmongCandidatesWithNormalisedScores) {
  const OneBoxCase c;
  // The case is built so that anchor 1 aligns best, then anchor 0, then anchor 2:
  // 0.9^0.5 * 0.841^6 = 0.335 > 0.04^0.5 * 0.918^6 = 0.120 > 0.5^0.5 * 0.695^6 = 0.080,
  // while anchor 0 overlaps best.
  ASSERT_GT(c.alignment(1), c.alignment(0));
  ASSERT_GT(c.alignment(0), c.alignment(2));

  const Assignment a = c.assign(2);
  EXPECT_EQ(foregroundOf(a), (std::vector<bool>{true, true, false, false, false}));
  // Target = alignment * (best IoU among the positives, anchor 0's) / best alignment (anchor 1's).
  ASSERT_GT(c.overlap[0], c.overlap[1]);
  const double best = c.alignment(1);
  EXPECT_NEAR(a.scores[0][0][1].item<double>(), c.alignment(0) * c.overlap[0] / best, 1e-6);
  EXPECT_NEAR(a.scores[0][1][1].item<double>(), c.overlap[0], 1e-6);
  EXPECT_EQ(a.scores.select(2, 0).abs().sum().item<double>(), 0.0);  // only the GT's class
  EXPECT_EQ(a.scores[0].slice(0, 2).abs().sum().item<double>(), 0.0);
  for (int i : {0, 1}) {
    EXPECT_EQ(a.labels[0][i].item<int64_t>(), 1);
    EXPECT_EQ(a.gtIndex[0][i].item<int64_t>(), 0);
    EXPECT_TRUE(torch::equal(a.boxes[0][i], c.gtBoxes[0][0]));
  }
}

TEST(TaskAlignedAssigner, TopKLargerThanCandidatesTakesThemAll) {
  const OneBoxCase c;
  const Assignment a = c.assign(10);  // more than the 5 anchors
  EXPECT_EQ(foregroundOf(a), (std::vector<bool>{true, true, true, false, false}));
  const double best = c.alignment(1);
  for (int i : {0, 1, 2})
    EXPECT_NEAR(a.scores[0][i][1].item<double>(), c.alignment(i) * c.overlap[0] / best, 1e-6)
        << "anchor " << i;
}

TEST(TaskAlignedAssigner, AnchorOfTwoBoxesGoesToTheOneItOverlapsMost) {
  // GT A (class 0) holds centres 4, 12, 20; GT B (class 1) holds 12, 20, 28, 36. Anchor 1 sits
  // nearer A's centre and scores A's class higher, but its predicted box overlaps B more.
  const Box a{0, 0, 24, 8}, b{8, 0, 40, 8}, contested{6, 0, 30, 8};
  ASSERT_GT(oracle::ciou(b, contested), oracle::ciou(a, contested));
  const Tensor boxes = boxesTensor({a, contested, b, b, b});
  const Tensor scores = scoresTensor({0.95, 0.95, 0.6, 0.6, 0.6}, {0.3, 0.3, 0.9, 0.9, 0.9});
  const Assignment result =
      TaskAlignedAssigner()(scores, boxes, rowOfAnchors(), torch::tensor({{0, 1}}, torch::kLong),
                            boxesTensor({a, b}), torch::tensor({{true, true}}));

  EXPECT_EQ(foregroundOf(result), (std::vector<bool>(kAnchors, true)));
  const std::vector<int64_t> expectedGt{0, 1, 1, 1, 1};  // anchor 2 predicts B exactly
  for (int64_t i = 0; i < kAnchors; ++i) {
    EXPECT_EQ(result.gtIndex[0][i].item<int64_t>(), expectedGt[i]) << "anchor " << i;
    EXPECT_EQ(result.labels[0][i].item<int64_t>(), expectedGt[i]) << "anchor " << i;
    // One class per anchor: the other class's target is 0.
    EXPECT_EQ(result.scores[0][i][1 - expectedGt[i]].item<double>(), 0.0) << "anchor " << i;
    EXPECT_GT(result.scores[0][i][expectedGt[i]].item<double>(), 0.0) << "anchor " << i;
  }
  EXPECT_TRUE(torch::equal(result.boxes[0][1], boxesTensor({b})[0][0]));
}

TEST(TaskAlignedAssigner, BoxWithNoAnchorCentreStrictlyInsideHasNoPositives) {
  // One box between two centres, one whose left and right edges pass through centres 4 and 12.
  const Tensor gtBoxes = boxesTensor({{13, 1, 19, 7}, {4, 0, 12, 8}});
  const Tensor boxes = boxesTensor({{4, 0, 12, 8}, {4, 0, 12, 8}, {13, 1, 19, 7}, kGt, kGt});
  const Assignment a = TaskAlignedAssigner()(
      scoresTensor(std::vector<double>(kAnchors, 0.9), std::vector<double>(kAnchors, 0.9)), boxes,
      rowOfAnchors(), torch::tensor({{0, 1}}, torch::kLong), gtBoxes,
      torch::tensor({{true, true}}));
  EXPECT_FALSE(a.foreground.any().item<bool>());
  EXPECT_EQ(a.scores.abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(a.scores.isnan().any().item<bool>());
}

TEST(TaskAlignedAssigner, ImagesWithoutBoxesGetNoPositives) {
  const Tensor anchors = rowOfAnchors();
  const Tensor boxes = boxesTensor({kGt, kGt, kGt, kGt, kGt}).expand({2, kAnchors, 4});
  const Tensor scores = torch::full({2, kAnchors, 2}, 0.9, torch::kFloat64);

  // Image 0's only slot is padding (mask false) though it holds a box over every anchor.
  const Tensor gtBoxes = torch::cat({boxesTensor({{0, 0, 40, 8}}), boxesTensor({kGt})});
  const Assignment padded =
      TaskAlignedAssigner()(scores, boxes, anchors, torch::tensor({{1}, {0}}, torch::kLong),
                            gtBoxes, torch::tensor({{false}, {true}}));
  EXPECT_EQ(foregroundOf(padded, 0), (std::vector<bool>(kAnchors, false)));
  EXPECT_EQ(foregroundOf(padded, 1), (std::vector<bool>{true, true, true, false, false}));
  EXPECT_EQ(padded.scores[0].abs().sum().item<double>(), 0.0);

  // No GT slot at all in the batch.
  const Assignment empty = TaskAlignedAssigner()(
      scores, boxes, anchors, torch::zeros({2, 0}, torch::kLong),
      torch::zeros({2, 0, 4}, torch::kFloat64), torch::zeros({2, 0}, torch::kBool));
  EXPECT_EQ(empty.scores.sizes(), scores.sizes());
  EXPECT_FALSE(empty.foreground.any().item<bool>());
  EXPECT_EQ(empty.scores.abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(empty.boxes.isnan().any().item<bool>());
}

TEST(TaskAlignedAssigner, RejectsMismatchedShapes) {
  const OneBoxCase c;
  const TaskAlignedAssigner assign;
  EXPECT_THROW(
      assign(c.scores, c.boxes, rowOfAnchors().narrow(0, 0, 4), c.gtLabels, c.gtBoxes, c.gtMask),
      std::invalid_argument);
  EXPECT_THROW(
      assign(c.scores, c.boxes, rowOfAnchors(), c.gtLabels, c.gtBoxes.view({1, 4}), c.gtMask),
      std::invalid_argument);
}

}  // namespace
}  // namespace syncbn::model
