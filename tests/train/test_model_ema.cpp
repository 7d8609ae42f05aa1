// ModelEma against the recurrence computed here, element by element, in plain doubles.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/detection_model.h"
#include "nn/norm.h"
#include "tiny_detector.h"
#include "train/model_ema.h"

namespace syncbn::train {
namespace {

using torch::Tensor;

// conv -> norm: parameters, floating buffers and the integer num_batches_tracked.
class SmallNetImpl : public torch::nn::Module {
 public:
  explicit SmallNetImpl(int64_t channels = 4) {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, channels, 3)));
    bn = register_module("bn", nn::Norm2d(channels, NormKind::BatchNorm));
  }
  // x: [N, 3, H, W] -> [N, C, H-2, W-2]
  Tensor forward(const Tensor& x) { return bn(conv(x)); }

  torch::nn::Conv2d conv{nullptr};
  nn::Norm2d bn{nullptr};
};
TORCH_MODULE(SmallNet);

Tensor buffer(torch::nn::Module& module, const std::string& name) {
  return module.named_buffers()[name];
}

TEST(ModelEma, DecayRampsAsUltralytics) {
  const ModelEma ema(*SmallNet(), SmallNet().ptr());
  for (const int64_t u : {1, 10, 2000, 100000})
    EXPECT_DOUBLE_EQ(ema.decayAt(u), 0.9999 * (1.0 - std::exp(-static_cast<double>(u) / 2000.0)));
  EXPECT_EQ(ema.updates(), 0);
}

TEST(ModelEma, FollowsTheScalarRecurrence) {
  SmallNet model;
  model->to(torch::kDouble);
  const EmaOptions options{0.9, 2.0};  // a short ramp, so d changes from update to update
  SmallNet average;
  average->to(torch::kDouble);
  ModelEma ema(*model, average.ptr(), options);
  auto& copy = ema.module();

  // Tracked elements: one weight, one bias, one running-variance entry.
  auto weightOf = [](torch::nn::Module& m) { return m.named_parameters()["conv.weight"]; };
  auto biasOf = [](torch::nn::Module& m) { return m.named_parameters()["bn.layer.bias"]; };
  auto varOf = [](torch::nn::Module& m) { return buffer(m, "bn.layer.running_var"); };
  double w = weightOf(*model).view(-1)[7].item<double>();
  double b = biasOf(*model)[2].item<double>();
  double v = varOf(*model)[1].item<double>();
  EXPECT_EQ(weightOf(copy).view(-1)[7].item<double>(), w) << "the copy starts as the model";

  for (int step = 1; step <= 6; ++step) {
    {
      const torch::NoGradGuard noGrad;
      for (auto& p : model->parameters())
        p.add_(0.25 * step).mul_(1.0 + 0.1 * step);
      varOf(*model).mul_(1.5).add_(step);
      buffer(*model, "bn.layer.num_batches_tracked").fill_(10 * step);
    }
    ema.update(*model);
    const double d = 0.9 * (1.0 - std::exp(-step / 2.0));
    w = d * w + (1.0 - d) * weightOf(*model).view(-1)[7].item<double>();
    b = d * b + (1.0 - d) * biasOf(*model)[2].item<double>();
    v = d * v + (1.0 - d) * varOf(*model)[1].item<double>();
    EXPECT_NEAR(weightOf(copy).view(-1)[7].item<double>(), w, 1e-12 * (1 + std::abs(w)))
        << "step " << step;
    EXPECT_NEAR(biasOf(copy)[2].item<double>(), b, 1e-12 * (1 + std::abs(b))) << "step " << step;
    EXPECT_NEAR(varOf(copy)[1].item<double>(), v, 1e-12 * (1 + std::abs(v))) << "step " << step;
    EXPECT_EQ(buffer(copy, "bn.layer.num_batches_tracked").item<int64_t>(), 10 * step)
        << "integer buffers are copied";
    EXPECT_NE(weightOf(copy).view(-1)[7].item<double>(),
              weightOf(*model).view(-1)[7].item<double>())
        << "an average, not a copy";
  }
  EXPECT_EQ(ema.updates(), 6);
}

TEST(ModelEma, IntegerBuffersAreCopied) {
  SmallNet model;  // float32: num_batches_tracked stays int64 here
  ModelEma ema(*model, SmallNet().ptr());
  ASSERT_EQ(buffer(ema.module(), "bn.layer.num_batches_tracked").scalar_type(), torch::kLong);
  buffer(*model, "bn.layer.num_batches_tracked").fill_(42);
  ema.update(*model);
  EXPECT_EQ(buffer(ema.module(), "bn.layer.num_batches_tracked").item<int64_t>(), 42);
}

TEST(ModelEma, CopyIsInEvalModeWithoutGradients) {
  SmallNet model;
  model->train();
  ModelEma ema(*model, SmallNet().ptr());
  EXPECT_FALSE(ema.module().is_training());
  for (const auto& child : ema.module().modules())
    EXPECT_FALSE(child->is_training());
  for (const auto& p : ema.module().parameters())
    EXPECT_FALSE(p.requires_grad());
  EXPECT_TRUE(model->is_training()) << "the model itself is left alone";
  EXPECT_TRUE(model->conv->weight.requires_grad());
}

TEST(ModelEma, ResumesFromACheckpointedCount) {
  SmallNet model;
  ModelEma ema(*model, SmallNet().ptr(), {}, 500);
  ema.update(*model);
  EXPECT_EQ(ema.updates(), 501);
  ema.setUpdates(7);
  EXPECT_EQ(ema.updates(), 7);
}

TEST(ModelEma, RefusesACopyOfAnotherShape) {
  SmallNet model(4);
  EXPECT_THROW(ModelEma(*model, SmallNet(5).ptr()), std::invalid_argument);
  EXPECT_THROW(ModelEma(*model, nullptr), std::invalid_argument);
  EXPECT_THROW(ModelEma(*model, SmallNet().ptr(), {1.5, 2000.0}), std::invalid_argument);
}

TEST(ModelEma, DetectionModelCopyMirrorsTheNormsAndStartsEqual) {
  const auto definition = testing::tinyDetectorDefinition();
  model::DetectionModel detector(definition, model::NormChoice{NormKind::SyncBatchNorm, nullptr});
  nn::normLayers(*detector).back().second->convertTo(NormKind::GroupNorm);
  ModelEma ema = makeModelEma(detector);
  const auto copy = std::dynamic_pointer_cast<model::DetectionModelImpl>(ema.modulePtr());
  ASSERT_TRUE(copy);
  const auto mine = nn::normLayers(*copy);
  const auto theirs = nn::normLayers(*detector);
  ASSERT_EQ(mine.size(), theirs.size());
  for (std::size_t i = 0; i < mine.size(); ++i)
    EXPECT_EQ(mine[i].second->kind(), theirs[i].second->kind()) << mine[i].first;
  const auto expected = detector->named_parameters();
  for (const auto& item : copy->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), expected[item.key()])) << item.key();
  EXPECT_FALSE(copy->is_training());
}

}  // namespace
}  // namespace syncbn::train
