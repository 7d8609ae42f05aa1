// Box geometry and the head layout against values worked out by hand.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <numbers>

#include "model/boxes.h"
#include "model/head_layout.h"

namespace syncbn::model {
namespace {

using torch::Tensor;

Tensor box(double x1, double y1, double x2, double y2) {
  return torch::tensor({x1, y1, x2, y2}, torch::kFloat64);
}

TEST(Boxes, XywhAndXyxyConvertBothWays) {
  const Tensor xywh = torch::tensor({{10.0, 20.0, 4.0, 6.0}}, torch::kFloat64);
  const Tensor xyxy = xywhToXyxy(xywh);
  EXPECT_TRUE(torch::equal(xyxy, torch::tensor({{8.0, 17.0, 12.0, 23.0}}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(xyxyToXywh(xyxy), xywh));
}

TEST(Boxes, PairwiseIouOfOverlappingDisjointAndEmptyBoxes) {
  const Tensor a = torch::stack({box(0, 0, 2, 2), box(0, 0, 0, 0)});
  const Tensor b = torch::stack({box(1, 1, 3, 3), box(5, 5, 6, 6), box(0, 0, 2, 2)});
  const Tensor iou = boxIou(a, b);
  ASSERT_EQ(iou.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_NEAR(iou[0][0].item<double>(), 1.0 / 7.0, 1e-12);  // overlap 1, union 4 + 4 - 1
  EXPECT_EQ(iou[0][1].item<double>(), 0.0);
  EXPECT_NEAR(iou[0][2].item<double>(), 1.0, 1e-12);
  EXPECT_EQ(iou[1][0].item<double>(), 0.0);  // an empty box: 0, never NaN
  EXPECT_FALSE(iou.isnan().any().item<bool>());
}

// CIoU written out in scalars, straight from the paper's definitions.
double ciouByHand(double ax1, double ay1, double ax2, double ay2, double bx1, double by1,
                  double bx2, double by2) {
  const double inter = std::max(0.0, std::min(ax2, bx2) - std::max(ax1, bx1)) *
                       std::max(0.0, std::min(ay2, by2) - std::max(ay1, by1));
  const double areaA = (ax2 - ax1) * (ay2 - ay1), areaB = (bx2 - bx1) * (by2 - by1);
  const double iou = inter / (areaA + areaB - inter);
  const double cw = std::max(ax2, bx2) - std::min(ax1, bx1);
  const double ch = std::max(ay2, by2) - std::min(ay1, by1);
  const double dx = (ax1 + ax2) / 2 - (bx1 + bx2) / 2, dy = (ay1 + ay2) / 2 - (by1 + by2) / 2;
  const double v =
      4 / (std::numbers::pi * std::numbers::pi) *
      std::pow(std::atan((bx2 - bx1) / (by2 - by1)) - std::atan((ax2 - ax1) / (ay2 - ay1)), 2);
  const double alpha = v / (1 - iou + v);
  return iou - (dx * dx + dy * dy) / (cw * cw + ch * ch) - alpha * v;
}

TEST(Boxes, CompleteIouMatchesClosedForm) {
  // Same aspect ratio: IoU 1/7, centre distance^2 2, enclosing diagonal^2 18, v = 0.
  EXPECT_NEAR(completeIou(box(0, 0, 2, 2), box(1, 1, 3, 3)).item<double>(), 1.0 / 7 - 2.0 / 18,
              1e-6);
  // Different aspect ratios: the v term counts.
  EXPECT_NEAR(completeIou(box(0, 0, 4, 2), box(0, 0, 2, 2)).item<double>(),
              ciouByHand(0, 0, 4, 2, 0, 0, 2, 2), 1e-6);
  EXPECT_NEAR(completeIou(box(3, 1, 9, 4), box(2, 2, 5, 10)).item<double>(),
              ciouByHand(3, 1, 9, 4, 2, 2, 5, 10), 1e-6);
  // Identical boxes: 1.
  EXPECT_NEAR(completeIou(box(1, 2, 5, 9), box(1, 2, 5, 9)).item<double>(), 1.0, 1e-6);
}

TEST(HeadLayout, AnchorsSitAtCellCentresLevelByLevel) {
  const std::vector<Tensor> levels{torch::zeros({1, 5, 2, 3}), torch::zeros({1, 5, 1, 1})};
  const AnchorGrid grid = makeAnchors(levels, {8, 16});
  const Tensor expectedPoints = torch::tensor({{0.5f, 0.5f},
                                               {1.5f, 0.5f},
                                               {2.5f, 0.5f},
                                               {0.5f, 1.5f},
                                               {1.5f, 1.5f},
                                               {2.5f, 1.5f},
                                               {0.5f, 0.5f}});
  EXPECT_TRUE(torch::equal(grid.points, expectedPoints));
  EXPECT_TRUE(
      torch::equal(grid.strides.flatten(), torch::tensor({8.f, 8.f, 8.f, 8.f, 8.f, 8.f, 16.f})));
}

TEST(HeadLayout, FlattenLevelsConcatenatesAnchorsInGridOrder) {
  const Tensor a = torch::arange(12, torch::kFloat).view({1, 2, 2, 3});
  const Tensor b = torch::tensor({100.f, 200.f}).view({1, 2, 1, 1});
  const Tensor flat = flattenLevels({a, b});
  ASSERT_EQ(flat.sizes(), (std::vector<int64_t>{1, 2, 7}));
  EXPECT_EQ(flat[0][0][4].item<float>(), 4.f);  // channel 0, row 1, column 1
  EXPECT_EQ(flat[0][1][6].item<float>(), 200.f);
}

TEST(HeadLayout, ExpectedDistancesAreTheMeanOfTheBinDistribution) {
  const int64_t regMax = 16;
  Tensor logits = torch::zeros({1, 4 * regMax, 1}, torch::kFloat64);  // uniform: mean 7.5
  logits[0][regMax + 3][0] = 100.0;                                   // side t: all mass on bin 3
  const Tensor d = expectedDistances(logits, regMax);
  EXPECT_NEAR(d[0][0][0].item<double>(), 7.5, 1e-12);
  EXPECT_NEAR(d[0][1][0].item<double>(), 3.0, 1e-12);
}

TEST(HeadLayout, DistancesAndBoxesAreInverses) {
  const Tensor points = torch::tensor({{4.5, 6.5}}, torch::kFloat64);
  const Tensor ltrb = torch::tensor({{1.0, 2.0, 3.0, 4.0}}, torch::kFloat64);
  const Tensor xyxy = distancesToBoxes(ltrb, points, false);
  EXPECT_TRUE(torch::allclose(xyxy, torch::tensor({{3.5, 4.5, 7.5, 10.5}}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(distancesToBoxes(ltrb, points, true),
                              torch::tensor({{5.5, 7.5, 4.0, 6.0}}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(boxesToDistances(points, xyxy, 15), ltrb));
  EXPECT_TRUE(torch::allclose(boxesToDistances(points, xyxy, 2.5),
                              torch::tensor({{1.0, 2.0, 2.5, 2.5}}, torch::kFloat64)));
}

}  // namespace
}  // namespace syncbn::model
