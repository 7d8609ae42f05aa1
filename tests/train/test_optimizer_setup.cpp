// The optimizer side of Ultralytics' recipe against numbers worked out by hand from
// ultralytics/engine/trainer.py (build_optimizer, _setup_train, the warmup block of _do_train).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>
#include <stdexcept>

#include "model/detection_model.h"
#include "nn/norm.h"
#include "train/grad_scaler.h"
#include "train/lr_schedule.h"
#include "train/optimizer_setup.h"

namespace syncbn::train {
namespace {

using torch::Tensor;

TrainConfig trainConfig(int batch, int epochs, const std::string& optimizer = "auto") {
  TrainConfig train;
  train.batch = batch;
  train.epochs = epochs;
  train.optimizer = optimizer;
  return train;
}

// ---- chooseOptimizer ----------------------------------------------------------------------

TEST(ChooseOptimizer, AutoPicksAdamWForShortRuns) {
  // ceil(1000 / max(16, 64)) * 50 = 16 * 50 = 800 iterations; lr = round(0.01 / 7, 6).
  const auto choice = chooseOptimizer(trainConfig(16, 50), 3, 1000);
  EXPECT_EQ(choice.name, "AdamW");
  EXPECT_DOUBLE_EQ(choice.lr0, 0.001429);
  EXPECT_DOUBLE_EQ(choice.momentum, 0.9);
  EXPECT_DOUBLE_EQ(choice.warmupBiasLr, 0.0);
  EXPECT_EQ(choice.reason,
            "optimizer=auto: AdamW(lr=0.001429, momentum=0.9) for 800 iterations (<= 10000)");
  // 0.01 / 84 = 0.000119047...; 0.01 / 32 = 0.0003125 (as a double slightly above: rounds up).
  EXPECT_DOUBLE_EQ(chooseOptimizer(trainConfig(16, 50), 80, 1000).lr0, 0.000119);
  EXPECT_DOUBLE_EQ(chooseOptimizer(trainConfig(16, 50), 28, 1000).lr0, 0.000313);
}

TEST(ChooseOptimizer, AutoPicksSgdForLongRuns) {
  // COCO at batch 128: ceil(118287 / 128) * 100 = 925 * 100 = 92500 iterations.
  const auto choice = chooseOptimizer(trainConfig(128, 100), 80, 118287);
  EXPECT_EQ(choice.name, "SGD");
  EXPECT_DOUBLE_EQ(choice.lr0, 0.01);
  EXPECT_DOUBLE_EQ(choice.momentum, 0.9);
  EXPECT_DOUBLE_EQ(choice.warmupBiasLr, 0.0);  // Ultralytics zeroes it in both auto branches
  EXPECT_EQ(choice.reason,
            "optimizer=auto: SGD(lr=0.01, momentum=0.9) for 92500 iterations (> 10000)");
  // The threshold: 6400 images -> 100 * 100 = 10000 (AdamW); 6401 -> 101 * 100 = 10100 (SGD).
  EXPECT_EQ(chooseOptimizer(trainConfig(16, 100), 3, 6400).name, "AdamW");
  EXPECT_EQ(chooseOptimizer(trainConfig(16, 100), 3, 6401).name, "SGD");
}

TEST(ChooseOptimizer, NamedOptimizerTakesTheConfig) {
  TrainConfig train = trainConfig(16, 10, "sgd");
  train.lr0 = 0.02;
  train.momentum = 0.95;
  train.warmup_bias_lr = 0.05;
  const auto sgd = chooseOptimizer(train, 3, 100);
  EXPECT_EQ(sgd.name, "SGD");
  EXPECT_DOUBLE_EQ(sgd.lr0, 0.02);
  EXPECT_DOUBLE_EQ(sgd.momentum, 0.95);
  EXPECT_DOUBLE_EQ(sgd.warmupBiasLr, 0.05);
  train.optimizer = "ADAM";
  EXPECT_EQ(chooseOptimizer(train, 3, 100).name, "Adam");
  train.optimizer = "AdamW";
  EXPECT_EQ(chooseOptimizer(train, 3, 100).name, "AdamW");
  train.optimizer = "RMSProp";
  try {
    chooseOptimizer(train, 3, 100);
    FAIL() << "RMSProp is not supported";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("train.optimizer"), std::string::npos);
  }
}

// ---- accumulation and weight decay ---------------------------------------------------------

TEST(NominalBatch, AccumulateAndWeightDecay) {
  const TrainConfig train;  // nbs 64, weight_decay 0.0005
  struct Case {
    int batch, accumulate;
    double decay;  // 0.0005 * batch * accumulate / 64
  };
  for (const Case c : {Case{16, 4, 0.0005}, Case{8, 8, 0.0005}, Case{48, 1, 0.000375},
                       Case{24, 3, 0.0005625}, Case{40, 2, 0.000625}, Case{128, 1, 0.001}}) {
    EXPECT_EQ(accumulateSteps(64, c.batch), c.accumulate) << "batch " << c.batch;
    EXPECT_DOUBLE_EQ(scaledWeightDecay(train, c.batch), c.decay) << "batch " << c.batch;
  }
  // Python's round: halves go to the even neighbour.
  EXPECT_EQ(accumulateSteps(10, 4), 2);  // 2.5
  EXPECT_EQ(accumulateSteps(6, 4), 2);   // 1.5
  EXPECT_EQ(accumulateSteps(14, 4), 4);  // 3.5
  EXPECT_THROW(accumulateSteps(64, 0), std::invalid_argument);
}

// ---- parameter groups ----------------------------------------------------------------------

// Names that lie about types: grouping must follow the module types.
class MixedNetImpl : public torch::nn::Module {
 public:
  MixedNetImpl() {
    bn = register_module("bn", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 1)));
    conv = register_module("conv", nn::Norm2d(4, NormKind::BatchNorm));
    linear = register_module("linear", torch::nn::Linear(4, 2));
    layerNorm =
        register_module("layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({2})));
    fixed = register_parameter("fixed", torch::ones({2}), /*requires_grad=*/false);
  }
  torch::nn::Conv2d bn{nullptr};
  nn::Norm2d conv{nullptr};
  torch::nn::Linear linear{nullptr};
  torch::nn::LayerNorm layerNorm{nullptr};
  Tensor fixed;
};
TORCH_MODULE(MixedNet);

using Names = std::vector<std::string>;

TEST(GroupParameters, FollowsModuleTypes) {
  MixedNet net;
  const auto groups = groupParameters(*net);
  EXPECT_EQ(groups.biasNames,
            (Names{"bn.bias", "conv.layer.bias", "linear.bias", "layer_norm.bias"}));
  EXPECT_EQ(groups.weightNames, (Names{"bn.weight", "linear.weight"}));
  EXPECT_EQ(groups.normWeightNames, (Names{"conv.layer.weight", "layer_norm.weight"}));
  EXPECT_TRUE(groups.weights[0].is_same(net->bn->weight));
  EXPECT_TRUE(groups.normWeights[1].is_same(net->layerNorm->weight));

  nn::convertNorms(*net, NormKind::GroupNorm);  // another layer inside the slot: still a norm
  EXPECT_EQ(groupParameters(*net).normWeightNames,
            (Names{"conv.layer.weight", "layer_norm.weight"}));
}

TEST(GroupParameters, PartitionsYolov8nAsUltralytics) {
  auto model = model::buildDetectionModel("yolov8n.yaml", "", 3);
  const auto groups = groupParameters(*model);
  // Ultralytics prints "57 weight(decay=0.0), 64 weight(decay=0.0005), 63 bias(decay=0.0)"; its
  // 64 includes the DFL's fixed conv weight, which we leave out: 57 norms, 57 conv weights + 6
  // Detect output convs; 57 norm biases + 6 Detect output biases.
  EXPECT_EQ(groups.normWeights.size(), 57u);
  EXPECT_EQ(groups.weights.size(), 63u);
  EXPECT_EQ(groups.biases.size(), 63u);

  std::set<std::string> grouped;
  for (const auto* names : {&groups.biasNames, &groups.weightNames, &groups.normWeightNames})
    for (const auto& name : *names)
      EXPECT_TRUE(grouped.insert(name).second) << name;
  std::set<std::string> trainable;
  for (const auto& item : model->named_parameters())
    if (item.value().requires_grad()) trainable.insert(item.key());
  EXPECT_EQ(grouped, trainable);
  EXPECT_EQ(trainable.count("model.22.dfl.conv.weight"), 0u);

  const auto endsWith = [](const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
  };
  for (const auto& name : groups.normWeightNames)
    EXPECT_TRUE(endsWith(name, ".bn.layer.weight")) << name;
  for (const auto& name : groups.biasNames)
    EXPECT_TRUE(endsWith(name, ".bias")) << name;

  // Frozen BatchNorm keeps its affine as buffers: only the Detect biases are left to train.
  nn::convertNorms(*model, NormKind::FrozenBatchNorm);
  const auto frozen = groupParameters(*model);
  EXPECT_EQ(frozen.normWeights.size(), 0u);
  EXPECT_EQ(frozen.weights.size(), 63u);
  EXPECT_EQ(frozen.biases.size(), 6u);
}

// ---- buildOptimizer, applySettings ---------------------------------------------------------

TEST(BuildOptimizer, SgdAndAdamWGroups) {
  MixedNet net;
  const auto sgd = buildOptimizer(*net, {"SGD", 0.01, 0.937, 0.1, ""}, 0.0005);
  ASSERT_EQ(sgd->param_groups().size(), 3u);
  const std::array<std::size_t, 3> sizes{4, 2, 2};
  const std::array<double, 3> decay{0.0, 0.0005, 0.0};
  for (std::size_t g = 0; g < 3; ++g) {
    const auto& options =
        static_cast<const torch::optim::SGDOptions&>(sgd->param_groups()[g].options());
    EXPECT_EQ(sgd->param_groups()[g].params().size(), sizes[g]);
    EXPECT_DOUBLE_EQ(options.lr(), 0.01);
    EXPECT_DOUBLE_EQ(options.momentum(), 0.937);
    EXPECT_DOUBLE_EQ(options.dampening(), 0.0);
    EXPECT_TRUE(options.nesterov());
    EXPECT_DOUBLE_EQ(options.weight_decay(), decay[g]);
  }

  applySettings(*sgd, {{0.1, 0.02, 0.03}, 0.85, 4});
  EXPECT_EQ(groupLearningRates(*sgd), (std::array<double, 3>{0.1, 0.02, 0.03}));
  for (const auto& group : sgd->param_groups())
    EXPECT_DOUBLE_EQ(static_cast<const torch::optim::SGDOptions&>(group.options()).momentum(),
                     0.85);

  const auto adamw = buildOptimizer(*net, {"AdamW", 0.001, 0.9, 0.0, ""}, 0.0005);
  applySettings(*adamw, {{0.1, 0.02, 0.03}, 0.85, 4});
  EXPECT_EQ(groupLearningRates(*adamw), (std::array<double, 3>{0.1, 0.02, 0.03}));
  for (std::size_t g = 0; g < 3; ++g) {
    const auto& options =
        static_cast<const torch::optim::AdamWOptions&>(adamw->param_groups()[g].options());
    EXPECT_EQ(options.betas(), (std::tuple<double, double>{0.9, 0.999})) << "betas stay";
    EXPECT_DOUBLE_EQ(options.weight_decay(), decay[g]);
  }
  EXPECT_NE(dynamic_cast<torch::optim::Adam*>(
                buildOptimizer(*net, {"Adam", 0.001, 0.9, 0.0, ""}, 0.0005).get()),
            nullptr);
  EXPECT_THROW(buildOptimizer(*net, {"Lion", 0.001, 0.9, 0.0, ""}, 0.0), std::invalid_argument);
}

// conv (weight w, bias b) and a BatchNorm slot (weight gamma, bias beta), all 1-element.
class ScalarNetImpl : public torch::nn::Module {
 public:
  ScalarNetImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 1, 1)));
    bn = register_module("bn", nn::Norm2d(1, NormKind::BatchNorm));
  }
  torch::nn::Conv2d conv{nullptr};
  nn::Norm2d bn{nullptr};
};
TORCH_MODULE(ScalarNet);

TEST(BuildOptimizer, NesterovSgdDecaysOnlyConvWeights) {
  ScalarNet net;
  net->to(torch::kDouble);
  const auto params = net->named_parameters();
  const Names names{"conv.weight", "conv.bias", "bn.layer.weight", "bn.layer.bias"};
  const std::vector<double> start{0.5, -0.25, 1.5, 0.75}, g1{0.2, 0.4, -0.6, 0.8},
      g2{-0.1, 0.3, 0.5, -0.7};
  {
    torch::NoGradGuard noGrad;
    for (std::size_t i = 0; i < 4; ++i)
      params[names[i]].fill_(start[i]);
  }
  const double lr = 0.1, momentum = 0.9, wd = 0.01;
  const auto sgd = buildOptimizer(*net, {"SGD", lr, momentum, 0.1, ""}, wd);
  // By hand (PyTorch's SGD, dampening 0, nesterov): d = g + wd*p (wd only on conv.weight);
  // buf = momentum*buf + d (buf = d at first); p -= lr * (d + momentum*buf).
  std::vector<double> p = start, buf(4, 0.0);
  for (const auto* grads : {&g1, &g2}) {
    for (std::size_t i = 0; i < 4; ++i) {
      params[names[i]].mutable_grad() =
          torch::full({1}, (*grads)[i], torch::kDouble).view_as(params[names[i]]);
      const double d = (*grads)[i] + (i == 0 ? wd * p[i] : 0.0);
      buf[i] = grads == &g1 ? d : momentum * buf[i] + d;
      p[i] -= lr * (d + momentum * buf[i]);
    }
    sgd->step();
    for (std::size_t i = 0; i < 4; ++i)
      EXPECT_NEAR(params[names[i]].item<double>(), p[i], 1e-15) << names[i];
  }
}

// ---- LrSchedule ----------------------------------------------------------------------------

LrScheduleOptions scheduleOptions(bool cosine = false) {
  // nb = 50 batches of 16 -> nw = max(round(3 * 50), 100) = 150; accumulate ends at 64/16 = 4.
  return {100, 0.01, cosine, 3.0, 0.8, 0.1, 0.937, 64, 16, 50};
}

TEST(LrSchedule, LinearAndCosineFactors) {
  const LrSchedule linear(scheduleOptions());
  EXPECT_DOUBLE_EQ(linear.factor(0), 1.0);
  EXPECT_DOUBLE_EQ(linear.factor(1), 0.9901);  // 0.99 * 0.99 + 0.01
  EXPECT_DOUBLE_EQ(linear.factor(50), 0.505);
  EXPECT_DOUBLE_EQ(linear.factor(100), 0.01);
  const LrSchedule cosine(scheduleOptions(true));
  EXPECT_DOUBLE_EQ(cosine.factor(0), 1.0);
  EXPECT_DOUBLE_EQ(cosine.factor(25), 1.0 - 0.99 * (1.0 - std::sqrt(0.5)) / 2.0);
  EXPECT_DOUBLE_EQ(cosine.factor(50), 0.505);
  EXPECT_NEAR(cosine.factor(100), 0.01, 1e-15);  // 0.99 - 1 + 1 cancels: 0.010000000000000009
}

TEST(LrSchedule, WarmupIterations) {
  EXPECT_EQ(LrSchedule(scheduleOptions()).warmupIterations(), 150);
  auto options = scheduleOptions();
  options.iterationsPerEpoch = 10;  // 30 -> at least 100
  EXPECT_EQ(LrSchedule(options).warmupIterations(), 100);
  options.warmupEpochs = 2.5;
  options.iterationsPerEpoch = 61;  // 152.5 -> 152 (half to even)
  EXPECT_EQ(LrSchedule(options).warmupIterations(), 152);
  options.warmupEpochs = 0.0;
  EXPECT_EQ(LrSchedule(options).warmupIterations(), -1);
  options.iterationsPerEpoch = 0;
  EXPECT_THROW(LrSchedule{options}, std::invalid_argument);
}

TEST(LrSchedule, WarmupInterpolatesAsUltralytics) {
  const LrSchedule schedule(scheduleOptions());
  const std::array<double, 3> initial{0.01, 0.01, 0.01};

  const auto start = schedule.at(0, 0, initial);
  EXPECT_EQ(start.accumulate, 1);
  EXPECT_EQ(start.lr, (std::array<double, 3>{0.1, 0.0, 0.0}));
  EXPECT_DOUBLE_EQ(start.momentum, 0.8);

  // ni = 75 is in epoch 1: the end values use lf(1) = 0.9901, so lr -> 0.009901.
  const auto half = schedule.at(75, 1, initial);
  EXPECT_EQ(half.accumulate, 2);  // np.interp gives 2.5, np.round makes it 2
  EXPECT_DOUBLE_EQ(half.lr[0], (0.1 + 0.009901) / 2);
  EXPECT_DOUBLE_EQ(half.lr[1], 0.009901 / 2);
  EXPECT_DOUBLE_EQ(half.lr[2], 0.009901 / 2);
  EXPECT_DOUBLE_EQ(half.momentum, (0.8 + 0.937) / 2);

  // ni = nw = 150, epoch 3: the end point itself, lf(3) = 0.97 * 0.99 + 0.01 = 0.9703.
  for (const long long ni : {150LL, 151LL}) {
    const auto settings = schedule.at(ni, 3, initial);
    EXPECT_EQ(settings.accumulate, 4) << ni;
    for (const double lr : settings.lr)
      EXPECT_DOUBLE_EQ(lr, 0.009703) << ni;
    EXPECT_DOUBLE_EQ(settings.momentum, 0.937) << ni;
  }

  const auto late = schedule.at(5000, 100, {0.02, 0.01, 0.005});
  EXPECT_EQ(late.accumulate, 4);
  EXPECT_DOUBLE_EQ(late.lr[0], 0.0002);
  EXPECT_DOUBLE_EQ(late.lr[1], 0.0001);
  EXPECT_DOUBLE_EQ(late.lr[2], 0.00005);
}

TEST(LrSchedule, NoWarmupWhenWarmupEpochsIsZero) {
  auto options = scheduleOptions();
  options.warmupEpochs = 0.0;
  const auto settings = LrSchedule(options).at(0, 0, {0.01, 0.01, 0.01});
  EXPECT_EQ(settings.accumulate, 4);
  EXPECT_EQ(settings.lr, (std::array<double, 3>{0.01, 0.01, 0.01}));
  EXPECT_DOUBLE_EQ(settings.momentum, 0.937);
}

// ---- GradScaler ----------------------------------------------------------------------------

struct OneParameter {
  Tensor p = torch::tensor({1.0, 2.0}, torch::kDouble).requires_grad_();
  torch::optim::SGD sgd{std::vector<Tensor>{p}, torch::optim::SGDOptions(1.0)};  // p -= grad

  void setGrad(std::vector<double> grad) { p.mutable_grad() = torch::tensor(grad, torch::kDouble); }
  std::vector<double> values(const Tensor& t) const {
    return {t[0].item<double>(), t[1].item<double>()};
  }
};

TEST(GradScaler, ScalesLossAndUnscalesGradients) {
  GradScaler scaler(true, 1024.0);
  OneParameter one;
  const Tensor x = torch::tensor({3.0, -5.0}, torch::kDouble);
  const Tensor loss = (one.p * x).sum();
  const Tensor scaled = scaler.scale(loss);
  EXPECT_DOUBLE_EQ(scaled.item<double>(), 1024.0 * (3.0 - 10.0));
  scaled.backward();
  EXPECT_EQ(one.values(one.p.grad()), (std::vector<double>{3.0 * 1024, -5.0 * 1024}));

  EXPECT_TRUE(scaler.unscale(one.sgd));
  EXPECT_EQ(one.values(one.p.grad()), (std::vector<double>{3.0, -5.0}));  // grad / scale
  EXPECT_THROW(scaler.unscale(one.sgd), std::logic_error);                // once per step

  EXPECT_TRUE(scaler.step(one.sgd));  // does not divide again: p -= grad
  EXPECT_EQ(one.values(one.p), (std::vector<double>{1.0 - 3.0, 2.0 + 5.0}));
  EXPECT_THROW(scaler.step(one.sgd), std::logic_error);
  scaler.update();
  EXPECT_DOUBLE_EQ(scaler.scaleValue(), 1024.0);
  EXPECT_EQ(scaler.growthTracker(), 1);
}

TEST(GradScaler, NonFiniteGradientSkipsTheStepAndBacksOff) {
  GradScaler scaler(true);  // 65536
  OneParameter one;
  for (const double bad : {INFINITY, NAN}) {
    const double scaleBefore = scaler.scaleValue();
    one.setGrad({bad, 1.0});
    EXPECT_FALSE(scaler.step(one.sgd)) << bad;
    EXPECT_EQ(one.values(one.p), (std::vector<double>{1.0, 2.0})) << "parameters untouched";
    scaler.update();
    EXPECT_DOUBLE_EQ(scaler.scaleValue(), scaleBefore / 2) << bad;
    EXPECT_EQ(scaler.growthTracker(), 0);
  }
  EXPECT_THROW(scaler.update(), std::logic_error) << "update() without a step";
}

TEST(GradScaler, GrowsAfterGrowthIntervalFiniteSteps) {
  GradScaler scaler(true, 8.0, 2.0, 0.5, 3);
  OneParameter one;
  auto finiteStep = [&] {
    one.setGrad({8.0, 8.0});
    EXPECT_TRUE(scaler.step(one.sgd));
    scaler.update();
  };
  finiteStep();
  finiteStep();
  EXPECT_EQ(scaler.growthTracker(), 2);
  EXPECT_DOUBLE_EQ(scaler.scaleValue(), 8.0);
  finiteStep();
  EXPECT_EQ(scaler.growthTracker(), 0);
  EXPECT_DOUBLE_EQ(scaler.scaleValue(), 16.0);

  finiteStep();
  finiteStep();
  one.setGrad({INFINITY, 0.0});
  EXPECT_FALSE(scaler.step(one.sgd));
  scaler.update();
  EXPECT_EQ(scaler.growthTracker(), 0) << "a skipped step restarts the count";
  EXPECT_DOUBLE_EQ(scaler.scaleValue(), 8.0);

  scaler.restore(256.0, 2);
  finiteStep();
  EXPECT_DOUBLE_EQ(scaler.scaleValue(), 512.0);
  EXPECT_THROW(scaler.restore(0.0, 0), std::invalid_argument);
}

TEST(GradScaler, DisabledIsIdentity) {
  GradScaler scaler(false);
  OneParameter one;
  const Tensor loss = one.p.sum();
  EXPECT_TRUE(scaler.scale(loss).is_same(loss));
  one.setGrad({INFINITY, 1.0});
  EXPECT_TRUE(scaler.unscale(one.sgd));
  EXPECT_TRUE(scaler.step(one.sgd)) << "disabled: always steps";
  EXPECT_EQ(one.values(one.p)[1], 1.0);
  scaler.update();
  EXPECT_DOUBLE_EQ(scaler.scaleValue(), 65536.0);
}

}  // namespace
}  // namespace syncbn::train
