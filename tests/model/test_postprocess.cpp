// NMS against a brute-force scalar reference, and the letterbox mapping on hand values.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "model/boxes.h"
#include "model/postprocess.h"

namespace syncbn::model {
namespace {

using torch::Tensor;

// A prediction in plain numbers: values[channel * anchors + anchor], channels (cx, cy, w, h,
// nc scores), as the model's eval output for one image.
struct Prediction {
  int64_t nc = 0;
  int64_t anchors = 0;
  std::vector<double> values;
  double at(int64_t channel, int64_t anchor) const {
    return values[static_cast<size_t>(channel * anchors + anchor)];
  }
};

struct Row {
  double x1, y1, x2, y2, conf;
  int64_t cls;
};

// Boxes cluster around a few centres, each cluster with its own box size, jittered so that the
// IoUs within a cluster spread over about 0.4 ... 0.95, within and across classes.
Prediction randomPrediction(unsigned seed, int64_t nc, int64_t anchors) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1), centre(60, 580), size(20, 120),
      scale(0.8, 1.2);
  std::normal_distribution<double> jitter(0, 0.08);
  struct Cluster {
    double cx, cy, w, h;
  };
  std::vector<Cluster> clusters(12);
  for (auto& c : clusters)
    c = {centre(rng), centre(rng), size(rng), size(rng)};
  Prediction p{nc, anchors, std::vector<double>(static_cast<size_t>((4 + nc) * anchors))};
  auto set = [&](int64_t channel, int64_t anchor, double v) {
    p.values[static_cast<size_t>(channel * anchors + anchor)] = v;
  };
  for (int64_t a = 0; a < anchors; ++a) {
    const Cluster& c = clusters[static_cast<size_t>(a) % clusters.size()];
    set(0, a, c.cx + c.w * jitter(rng));
    set(1, a, c.cy + c.h * jitter(rng));
    set(2, a, c.w * scale(rng));
    set(3, a, c.h * scale(rng));
    for (int64_t k = 0; k < nc; ++k)
      set(4 + k, a, unit(rng));
  }
  return p;
}

Tensor toTensor(const std::vector<Prediction>& batch) {
  std::vector<Tensor> images;
  for (const Prediction& p : batch)
    images.push_back(torch::tensor(p.values, torch::kFloat64).reshape({4 + p.nc, p.anchors}));
  return torch::stack(images);
}

double scalarIou(const Row& a, const Row& b) {
  const double w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  const double inter = std::max(w, 0.0) * std::max(h, 0.0);
  const double uni = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return uni > 0 ? inter / uni : 0;
}

// O(n^2) NMS straight from the definition: candidates in (anchor, class) order, stably sorted by
// score, at most maxNms of them; each in turn is kept unless an earlier kept box of the same
// class (any class if agnostic) overlaps it by IoU > threshold.
std::vector<Row> referenceNms(const Prediction& p, const NmsOptions& o) {
  std::vector<Row> candidates;
  for (int64_t a = 0; a < p.anchors; ++a) {
    const double cx = p.at(0, a), cy = p.at(1, a), w = p.at(2, a), h = p.at(3, a);
    const Row box{cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, 0, 0};
    if (o.multiLabel && p.nc > 1) {
      for (int64_t k = 0; k < p.nc; ++k)
        if (p.at(4 + k, a) > o.confThreshold)
          candidates.push_back({box.x1, box.y1, box.x2, box.y2, p.at(4 + k, a), k});
    } else {
      int64_t best = 0;
      for (int64_t k = 1; k < p.nc; ++k)
        if (p.at(4 + k, a) > p.at(4 + best, a)) best = k;
      if (p.at(4 + best, a) > o.confThreshold)
        candidates.push_back({box.x1, box.y1, box.x2, box.y2, p.at(4 + best, a), best});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Row& a, const Row& b) { return a.conf > b.conf; });
  if (static_cast<int64_t>(candidates.size()) > o.maxNms)
    candidates.resize(static_cast<size_t>(o.maxNms));
  std::vector<Row> kept;
  for (const Row& c : candidates) {
    if (static_cast<int64_t>(kept.size()) == o.maxDet) break;
    bool suppressed = false;
    for (const Row& k : kept)
      suppressed =
          suppressed || ((o.agnostic || k.cls == c.cls) && scalarIou(k, c) > o.iouThreshold);
    if (!suppressed) kept.push_back(c);
  }
  return kept;
}

void expectSameRows(const Tensor& got, const std::vector<Row>& expected) {
  ASSERT_EQ(got.dim(), 2);
  ASSERT_EQ(got.size(1), 6);
  ASSERT_EQ(got.size(0), static_cast<int64_t>(expected.size()));
  const Tensor cpu = got.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto rows = cpu.accessor<double, 2>();
  for (int64_t i = 0; i < cpu.size(0); ++i) {
    const Row& e = expected[static_cast<size_t>(i)];
    // Scores are copied, never computed: they must agree exactly, in the same order.
    EXPECT_EQ(rows[i][4], e.conf) << "row " << i;
    EXPECT_EQ(rows[i][5], static_cast<double>(e.cls)) << "row " << i;
    EXPECT_NEAR(rows[i][0], e.x1, 1e-9);
    EXPECT_NEAR(rows[i][1], e.y1, 1e-9);
    EXPECT_NEAR(rows[i][2], e.x2, 1e-9);
    EXPECT_NEAR(rows[i][3], e.y2, 1e-9);
  }
}

void checkAgainstReference(const std::vector<Prediction>& batch, const NmsOptions& options,
                           torch::Device device = torch::kCPU) {
  const std::vector<Tensor> out = nonMaxSuppression(toTensor(batch).to(device), options);
  ASSERT_EQ(out.size(), batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(out[i].device(), device);
    expectSameRows(out[i], referenceNms(batch[i], options));
  }
}

struct Mode {
  const char* name;
  bool multiLabel;
  bool agnostic;
  double conf;
  double iou;
};

constexpr Mode kModes[] = {
    {"class-aware", false, false, 0.25, 0.7},       {"agnostic", false, true, 0.25, 0.5},
    {"multi-label", true, false, 0.001, 0.7},       {"multi-label agnostic", true, true, 0.3, 0.45},
    {"class-aware strict", false, false, 0.6, 0.3},
};

TEST(NonMaxSuppression, MatchesBruteForceOnRandomBoxes) {
  for (const unsigned seed : {1u, 2u, 3u, 4u, 5u}) {
    const std::vector<Prediction> batch{randomPrediction(seed, 4, 240),
                                        randomPrediction(seed + 100, 4, 240)};
    for (const Mode& m : kModes) {
      SCOPED_TRACE(testing::Message() << "seed " << seed << ", " << m.name);
      NmsOptions options;
      options.multiLabel = m.multiLabel;
      options.agnostic = m.agnostic;
      options.confThreshold = m.conf;
      options.iouThreshold = m.iou;
      checkAgainstReference(batch, options);
    }
  }
}

TEST(NonMaxSuppression, SuppressesSomethingButNotEverything) {
  // Guards the random test against degenerate data: NMS must both keep and drop boxes.
  const Prediction p = randomPrediction(7, 4, 240);
  const Tensor out = nonMaxSuppression(toTensor({p}))[0];
  EXPECT_GT(out.size(0), 12);
  EXPECT_LT(out.size(0), 200);
  NmsOptions agnostic;
  agnostic.agnostic = true;
  EXPECT_LT(nonMaxSuppression(toTensor({p}), agnostic)[0].size(0), out.size(0) / 2);
}

TEST(NonMaxSuppression, MaxDetAndMaxNmsAreRespected) {
  const std::vector<Prediction> batch{randomPrediction(11, 3, 300)};
  NmsOptions options;
  options.confThreshold = 0.001;
  options.multiLabel = true;
  options.maxDet = 7;
  checkAgainstReference(batch, options);
  EXPECT_EQ(nonMaxSuppression(toTensor(batch), options)[0].size(0), 7);
  options.maxDet = 300;
  options.maxNms = 25;  // only the 25 best (box, class) pairs enter NMS
  checkAgainstReference(batch, options);
  options.maxDet = 0;
  EXPECT_EQ(nonMaxSuppression(toTensor(batch), options)[0].size(0), 0);
}

TEST(NonMaxSuppression, ConfidenceFilterIsStrictAndPicksTheBestClass) {
  // Three disjoint boxes, two classes. Scores per anchor: (0.9, 0.1), (0.2, 0.25), (0.3, 0.6).
  // Anchor 1's best score is exactly 0.25: not above the threshold, dropped.
  Prediction p{2, 3, {}};
  p.values = {50,  150,  250,   // cx
              50,  50,   50,    // cy
              20,  20,   20,    // w
              20,  20,   20,    // h
              0.9, 0.2,  0.3,   // class 0
              0.1, 0.25, 0.6};  // class 1
  const Tensor best = nonMaxSuppression(toTensor({p}))[0];
  EXPECT_TRUE(torch::allclose(best, torch::tensor({{40.0, 40.0, 60.0, 60.0, 0.9, 0.0},
                                                   {240.0, 40.0, 260.0, 60.0, 0.6, 1.0}},
                                                  torch::kFloat64)));
  NmsOptions multi;
  multi.multiLabel = true;
  const Tensor all = nonMaxSuppression(toTensor({p}), multi)[0];
  ASSERT_EQ(all.size(0), 3);
  EXPECT_TRUE(torch::equal(all.select(1, 4), torch::tensor({0.9, 0.6, 0.3}, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(all.select(1, 5), torch::tensor({0.0, 1.0, 0.0}, torch::kFloat64)));
}

TEST(NonMaxSuppression, OverlapSuppressesWithinAClassOnlyUnlessAgnostic) {
  // Two 20 x 20 boxes 2 px apart (IoU 360 / 440 = 0.82), one per class.
  Prediction p{2, 2, {}};
  p.values = {50, 52, 50, 50, 20, 20, 20, 20, 0.9, 0.1, 0.1, 0.8};
  EXPECT_EQ(nonMaxSuppression(toTensor({p}))[0].size(0), 2);
  NmsOptions agnostic;
  agnostic.agnostic = true;
  const Tensor one = nonMaxSuppression(toTensor({p}), agnostic)[0];
  ASSERT_EQ(one.size(0), 1);
  EXPECT_DOUBLE_EQ(one[0][4].item<double>(), 0.9);
  NmsOptions loose;
  loose.agnostic = true;
  loose.iouThreshold = 0.85;  // 0.82 is not above it: both stay
  EXPECT_EQ(nonMaxSuppression(toTensor({p}), loose)[0].size(0), 2);
}

TEST(NonMaxSuppression, EmptyInputsGiveEmptyResults) {
  const std::vector<Tensor> none = nonMaxSuppression(torch::zeros({2, 6, 0}));
  ASSERT_EQ(none.size(), 2u);
  for (const Tensor& t : none)
    EXPECT_EQ(t.sizes(), (std::vector<int64_t>{0, 6}));
  const std::vector<Tensor> belowThreshold = nonMaxSuppression(torch::full({1, 7, 5}, 0.1));
  EXPECT_EQ(belowThreshold[0].sizes(), (std::vector<int64_t>{0, 6}));
  EXPECT_EQ(greedyNms(torch::zeros({0, 4}), torch::zeros({0}), 0.5, 10).numel(), 0);
}

// greedyNms against boxIou, the library's IoU: in every precision, each kept box overlaps no
// earlier kept one above the threshold, and every dropped box overlaps an earlier kept one.
TEST(GreedyNms, KeepsExactlyTheBoxesBoxIouDecidesInFloat32AndFloat64) {
  torch::manual_seed(11);
  for (const auto dtype : {torch::kFloat, torch::kDouble}) {
    const Tensor corner = torch::rand({400, 2}, dtype) * 200;
    const Tensor boxes = torch::cat({corner, corner + torch::rand({400, 2}, dtype) * 60 + 1}, 1);
    const Tensor scores = torch::rand({400}, dtype);
    const double threshold = 0.5;
    const Tensor kept = greedyNms(boxes, scores, threshold, 1000);
    const Tensor order = std::get<1>(scores.sort(true, 0, true));
    std::vector<int64_t> keptList(kept.data_ptr<int64_t>(),
                                  kept.data_ptr<int64_t>() + kept.numel());
    const Tensor iou = model::boxIou(boxes, boxes);
    std::vector<int64_t> expected;
    for (int64_t k = 0; k < order.size(0); ++k) {
      const int64_t candidate = order[k].item<int64_t>();
      bool suppressed = false;
      for (const int64_t earlier : expected)
        suppressed = suppressed || iou[earlier][candidate].item<double>() > threshold;
      if (!suppressed) expected.push_back(candidate);
    }
    EXPECT_EQ(keptList, expected) << c10::toString(dtype);
    EXPECT_GT(expected.size(), 20u);
    EXPECT_LT(expected.size(), 380u);
    // maxKeep stops it after that many, the highest-scored first.
    const Tensor three = greedyNms(boxes, scores, threshold, 3);
    EXPECT_EQ(std::vector<int64_t>(three.data_ptr<int64_t>(), three.data_ptr<int64_t>() + 3),
              std::vector<int64_t>(expected.begin(), expected.begin() + 3));
  }
  // Two identical empty boxes have IoU 0 (not 0/0): both stay.
  EXPECT_EQ(greedyNms(torch::zeros({2, 4}), torch::tensor({0.9, 0.8}), 0.5, 10).numel(), 2);
}

TEST(NonMaxSuppression, KeepsFloat32AndRejectsMalformedInput) {
  const Tensor out = nonMaxSuppression(toTensor({randomPrediction(3, 2, 50)}).to(torch::kFloat))[0];
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  EXPECT_THROW(nonMaxSuppression(torch::zeros({1, 4, 10})), std::invalid_argument);
  EXPECT_THROW(nonMaxSuppression(torch::zeros({6, 10})), std::invalid_argument);
  NmsOptions bad;
  bad.iouThreshold = 1.5;
  EXPECT_THROW(nonMaxSuppression(torch::zeros({1, 6, 10}), bad), std::invalid_argument);
  EXPECT_THROW(greedyNms(torch::zeros({3, 4}), torch::zeros({2}), 0.5, 10), std::invalid_argument);
}

TEST(NonMaxSuppression, CudaMatchesBruteForce) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  NmsOptions options;
  options.multiLabel = true;
  options.confThreshold = 0.01;
  checkAgainstReference({randomPrediction(21, 4, 400)}, options, torch::kCUDA);
}

TEST(Letterbox, LandscapeImageIntoSquareInput) {
  // 1280 x 720 into 640 x 640: ratio min(640/720, 640/1280) = 0.5, content 640 x 360,
  // vertical border (640 - 360) / 2 = 140.
  const Letterbox lb = letterboxGeometry({720, 1280}, {640, 640});
  EXPECT_DOUBLE_EQ(lb.ratio, 0.5);
  EXPECT_DOUBLE_EQ(lb.padX, 0);
  EXPECT_DOUBLE_EQ(lb.padY, 140);
  const Tensor original = torch::tensor({{100.0, 200.0, 300.0, 400.0}}, torch::kFloat64);
  const Tensor input = boxesToInput(original, lb);
  EXPECT_TRUE(
      torch::allclose(input, torch::tensor({{50.0, 240.0, 150.0, 340.0}}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(boxesToOriginal(input, lb), original));
  // Outside the content: clipped to the original image.
  const Tensor spill = torch::tensor({{-10.0, 100.0, 700.0, 800.0}}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(boxesToOriginal(spill, lb),
                              torch::tensor({{0.0, 0.0, 1280.0, 720.0}}, torch::kFloat64)));
}

TEST(Letterbox, OddBorderPutsTheExtraPixelAtTheBottom) {
  // 640 x 427 into 640: ratio 1, border 213 split 106.5 / 106.5; round(106.5 - 0.1) = 106 on
  // top (Ultralytics), so the bottom gets 107.
  const Letterbox lb = letterboxGeometry({427, 640}, {640, 640});
  EXPECT_DOUBLE_EQ(lb.ratio, 1.0);
  EXPECT_DOUBLE_EQ(lb.padY, 106);
  EXPECT_DOUBLE_EQ(lb.padX, 0);
  // Portrait 480 x 640 (h x w = 640 x 480) into 320 x 320: ratio 0.5, content 240 wide, 40 each.
  const Letterbox portrait = letterboxGeometry({640, 480}, {320, 320});
  EXPECT_DOUBLE_EQ(portrait.ratio, 0.5);
  EXPECT_DOUBLE_EQ(portrait.padX, 40);
  EXPECT_DOUBLE_EQ(portrait.padY, 0);
}

TEST(Letterbox, NoScaleUpCentresSmallImages) {
  const Letterbox lb = letterboxGeometry({240, 320}, {640, 640}, /*scaleUp=*/false);
  EXPECT_DOUBLE_EQ(lb.ratio, 1.0);
  EXPECT_DOUBLE_EQ(lb.padX, 160);
  EXPECT_DOUBLE_EQ(lb.padY, 200);
  EXPECT_THROW(letterboxGeometry({0, 320}, {640, 640}), std::invalid_argument);
}

TEST(Letterbox, RoundTripOfBoxesInsideTheImage) {
  const Letterbox lb = letterboxGeometry({375, 500}, {640, 640});  // ratio 1.28, padY 80
  EXPECT_DOUBLE_EQ(lb.ratio, 1.28);
  EXPECT_DOUBLE_EQ(lb.padY, 80);
  torch::manual_seed(0);
  const Tensor corner = torch::rand({20, 2}, torch::kFloat64) * torch::tensor({400.0, 300.0});
  const Tensor size = torch::rand({20, 2}, torch::kFloat64) * 70;
  const Tensor boxes = torch::cat({corner, corner + size}, 1);
  EXPECT_TRUE(torch::allclose(boxesToOriginal(boxesToInput(boxes, lb), lb), boxes, 0, 1e-9));
}

}  // namespace
}  // namespace syncbn::model
