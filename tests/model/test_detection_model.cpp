// The YOLOv8 detector from its YAML description. Oracles: Ultralytics' published model summaries
// (parameter counts per scale and per layer of YOLOv8n, GFLOPs at 640), the head layout's
// definition worked out in scalars, and the YAML errors users make.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "model/detection_model.h"
#include "model/model_definition.h"
#include "model/model_summary.h"
#include "nn/norm.h"

namespace syncbn::model {
namespace {

using torch::Tensor;

int64_t parameterCount(const torch::nn::Module& module, bool trainableOnly = false) {
  int64_t total = 0;
  for (const auto& p : module.parameters())
    if (!trainableOnly || p.requires_grad()) total += p.numel();
  return total;
}

std::vector<int64_t> shapeOf(const Tensor& t) {
  return t.sizes().vec();
}

// ---- Sizes: Ultralytics' summaries for nc = 80 (docs' model table and training logs) ----

struct PublishedSize {
  const char* model;
  int64_t parameters;
  double gflops;  // at 640
};

class PublishedSizes : public ::testing::TestWithParam<PublishedSize> {};

TEST_P(PublishedSizes, ParametersExactAndGflopsWithinThreePercent) {
  const PublishedSize expected = GetParam();
  const DetectionModel model = buildDetectionModel(expected.model);
  EXPECT_EQ(parameterCount(*model), expected.parameters);
  // DFL's 16 weights are a fixed integration, not trained.
  EXPECT_EQ(parameterCount(*model, true), expected.parameters - 16);
  const ModelSummary summary = summarize(*model, 640);
  EXPECT_EQ(summary.parameters, expected.parameters);
  EXPECT_NEAR(summary.gflops, expected.gflops, 0.03 * expected.gflops);
}

INSTANTIATE_TEST_SUITE_P(Yolov8, PublishedSizes,
                         ::testing::Values(PublishedSize{"yolov8n.yaml", 3157200, 8.7},
                                           PublishedSize{"yolov8s.yaml", 11166560, 28.6},
                                           PublishedSize{"yolov8m.yaml", 25902640, 78.9},
                                           PublishedSize{"yolov8l.yaml", 43691520, 165.2},
                                           PublishedSize{"yolov8x.yaml", 68229648, 257.8}),
                         [](const auto& info) {
                           return std::string(1, info.param.model[6]);  // n, s, m, l, x
                         });

TEST(DetectionModel, Yolov8nLayersMatchUltralyticsTable) {
  // Ultralytics' printed table for yolov8n.yaml: params and arguments of every layer.
  const std::vector<std::pair<int64_t, std::string>> expected{{464, "[3, 16, 3, 2]"},
                                                              {4672, "[16, 32, 3, 2]"},
                                                              {7360, "[32, 32, 1, True]"},
                                                              {18560, "[32, 64, 3, 2]"},
                                                              {49664, "[64, 64, 2, True]"},
                                                              {73984, "[64, 128, 3, 2]"},
                                                              {197632, "[128, 128, 2, True]"},
                                                              {295424, "[128, 256, 3, 2]"},
                                                              {460288, "[256, 256, 1, True]"},
                                                              {164608, "[256, 256, 5]"},
                                                              {0, "[None, 2, 'nearest']"},
                                                              {0, "[1]"},
                                                              {148224, "[384, 128, 1, False]"},
                                                              {0, "[None, 2, 'nearest']"},
                                                              {0, "[1]"},
                                                              {37248, "[192, 64, 1, False]"},
                                                              {36992, "[64, 64, 3, 2]"},
                                                              {0, "[1]"},
                                                              {123648, "[192, 128, 1, False]"},
                                                              {147712, "[128, 128, 3, 2]"},
                                                              {0, "[1]"},
                                                              {493056, "[384, 256, 1, False]"},
                                                              {897664, "[80, [64, 128, 256]]"}};
  const ModelSummary summary = summarize(*buildDetectionModel("n"), 640);
  ASSERT_EQ(summary.layers.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(summary.layers[i].parameters, expected[i].first) << "layer " << i;
    EXPECT_EQ(summary.layers[i].arguments, expected[i].second) << "layer " << i;
  }
  EXPECT_EQ(summary.layers[11].from, "[-1, 6]");
  EXPECT_EQ(summary.layers[22].from, "[15, 18, 21]");
  EXPECT_EQ(summary.layers[22].module, "Detect");
  // Ultralytics prints 225: ours minus its one shared SiLU module (see ModelSummary::modules).
  EXPECT_EQ(summary.modules, 225 - 1);
  EXPECT_EQ(summary.name, "YOLOv8n");
}

TEST(DetectionModel, ScaleNamesAndUserFilesGiveTheSameModel) {
  const int64_t n = 3157200;
  EXPECT_EQ(parameterCount(*buildDetectionModel("n")), n);
  EXPECT_EQ(parameterCount(*buildDetectionModel("yolov8.yaml", "n")), n);
  EXPECT_EQ(buildDetectionModel("yolov8.yaml", "s")->definition().name, "YOLOv8s");

  // A user's copy of the file, its scale guessed from the name as Ultralytics does.
  const auto path = std::filesystem::path(::testing::TempDir()) / "yolov8n-mine.yaml";
  std::ofstream(path) << builtinYolov8Yaml();
  const DetectionModel mine = buildDetectionModel(path.string());
  EXPECT_EQ(parameterCount(*mine), n);
  EXPECT_EQ(mine->definition().name, "YOLOv8n-mine");
  EXPECT_EQ(mine->definition().source, path.string());
}

TEST(DetectionModel, ClassCountOverride) {
  // Ultralytics' summary of yolov8n.yaml trained on a one-class dataset.
  const DetectionModel model = buildDetectionModel("n", "", 1);
  EXPECT_EQ(model->headLayout().nc, 1);
  EXPECT_EQ(parameterCount(*model), 3011043);
  EXPECT_NEAR(summarize(*model).gflops, 8.2, 0.03 * 8.2);
}

// ---- Forward ----

TEST(DetectionModel, TrainingLevelsAndInferenceShapesAt320And640) {
  torch::manual_seed(0);
  DetectionModel model = buildDetectionModel("n");
  torch::NoGradGuard noGrad;
  for (const int64_t size : {320, 640}) {
    const Tensor images = torch::rand({1, 3, size, size});
    model->train();
    const std::vector<Tensor> levels = model->forwardLevels(images);
    ASSERT_EQ(levels.size(), 3u);
    for (std::size_t l = 0; l < 3; ++l) {
      const int64_t cells = size / (8 << l);
      EXPECT_EQ(shapeOf(levels[l]), (std::vector<int64_t>{1, 64 + 80, cells, cells}));
    }
    model->eval();
    const int64_t anchors =
        (size / 8) * (size / 8) + (size / 16) * (size / 16) + (size / 32) * (size / 32);
    EXPECT_EQ(shapeOf(model->predict(images)), (std::vector<int64_t>{1, 4 + 80, anchors}));
    if (size == 640) {
      EXPECT_EQ(anchors, 8400);
    }
  }
  EXPECT_EQ(model->headLayout().strides, (std::vector<int64_t>{8, 16, 32}));
  EXPECT_EQ(model->headLayout().regMax, 16);
}

TEST(DetectionModel, InferenceBoxesAreFiniteAndScoresAreProbabilities) {
  torch::manual_seed(1);
  DetectionModel model = buildDetectionModel("n");
  model->eval();
  torch::NoGradGuard noGrad;
  const Tensor out = model->predict(torch::rand({1, 3, 128, 96}));
  ASSERT_EQ(shapeOf(out), (std::vector<int64_t>{1, 84, 16 * 12 + 8 * 6 + 4 * 3}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  const Tensor scores = out.narrow(1, 4, 80);
  EXPECT_GE(scores.min().item<double>(), 0.0);
  EXPECT_LE(scores.max().item<double>(), 1.0);
  // Fresh biases put every class near the prior 5 / nc / cells (sigmoid of log of it).
  EXPECT_LT(scores.mean().item<double>(), 0.05);
  EXPECT_GT(out.narrow(1, 2, 2).min().item<double>(), 0.0);  // widths and heights
}

TEST(DetectionModel, DecodeFollowsTheHeadLayoutDefinition) {
  // One anchor worked in scalars: level 1 (stride 16), cell (x=2, y=1) of a 4x3 map.
  DetectionModel model = buildDetectionModel("n", "", 2);
  torch::manual_seed(2);
  std::vector<Tensor> levels{torch::randn({1, 66, 6, 8}), torch::randn({1, 66, 3, 4}),
                             torch::randn({1, 66, 2, 2})};
  const Tensor out = model->decode(levels);
  const int64_t anchor = 6 * 8 + 1 * 4 + 2;
  const auto logits = levels[1][0].select(1, 1).select(1, 2).to(torch::kFloat64);  // [66]
  double distance[4];
  for (int side = 0; side < 4; ++side) {
    double normaliser = 0, expectation = 0;
    for (int bin = 0; bin < 16; ++bin)
      normaliser += std::exp(logits[side * 16 + bin].item<double>());
    for (int bin = 0; bin < 16; ++bin)
      expectation += bin * std::exp(logits[side * 16 + bin].item<double>()) / normaliser;
    distance[side] = expectation;
  }
  const double px = 2.5, py = 1.5, stride = 16;
  const double x1 = px - distance[0], y1 = py - distance[1];
  const double x2 = px + distance[2], y2 = py + distance[3];
  const double expected[6] = {(x1 + x2) / 2 * stride,
                              (y1 + y2) / 2 * stride,
                              (x2 - x1) * stride,
                              (y2 - y1) * stride,
                              1 / (1 + std::exp(-logits[64].item<double>())),
                              1 / (1 + std::exp(-logits[65].item<double>()))};
  for (int k = 0; k < 6; ++k)
    EXPECT_NEAR(out[0][k][anchor].item<double>(), expected[k], 1e-4) << "row " << k;
}

TEST(DetectionModel, DflConvolutionEqualsExpectedDistances) {
  DFL dfl(16);
  EXPECT_FALSE(dfl->conv->weight.requires_grad());
  const Tensor x = torch::randn({2, 64, 7});
  EXPECT_TRUE(torch::allclose(dfl->forward(x), expectedDistances(x, 16), 1e-5, 1e-6));
}

TEST(DetectionModel, HeadBiasesStartAtUltralyticsPriors) {
  const DetectionModel model = buildDetectionModel("n");
  const auto params = model->named_parameters();
  const int strides[3] = {8, 16, 32};
  for (int l = 0; l < 3; ++l) {
    const std::string level = std::to_string(l);
    const Tensor box = params["model.22.cv2." + level + ".2.bias"];
    const Tensor cls = params["model.22.cv3." + level + ".2.bias"];
    EXPECT_TRUE(torch::all(box == 1.0).item<bool>());
    const double prior = std::log(5.0 / 80 / std::pow(640.0 / strides[l], 2));
    EXPECT_NEAR(cls.min().item<double>(), prior, 1e-5);
    EXPECT_NEAR(cls.max().item<double>(), prior, 1e-5);
  }
  EXPECT_EQ(params["model.22.dfl.conv.weight"].flatten()[15].item<float>(), 15.0f);
}

TEST(DetectionModel, BackwardReachesEveryTrainableParameter) {
  torch::manual_seed(3);
  DetectionModel model = buildDetectionModel("n");
  model->train();
  Tensor loss = torch::zeros({});
  for (const Tensor& level : model->forwardLevels(torch::rand({2, 3, 64, 64})))
    loss = loss + level.square().mean();
  loss.backward();
  for (const auto& p : model->named_parameters())
    if (p.value().requires_grad()) {
      EXPECT_TRUE(p.value().grad().defined()) << p.key();
    }
  // Norms follow Ultralytics' settings.
  const auto norms = nn::normLayers(*model);
  ASSERT_EQ(norms.size(), 57u);
  EXPECT_DOUBLE_EQ(norms.front().second->normOptions().eps, 1e-3);
  EXPECT_DOUBLE_EQ(norms.front().second->normOptions().momentum, 0.03);
}

// Channels-last is a layout, not a different model: the same weights give the same levels,
// boxes and gradients as NCHW (oracle: the NCHW model in float64, so both float32 layouts are
// held to the same rounding bound), and the parameters the optimizer already holds are the ones
// re-laid out.
TEST(DetectionModel, ChannelsLastComputesWhatNchwComputes) {
  torch::manual_seed(5);
  DetectionModel nchw = buildDetectionModel("n", "", 3);
  DetectionModel reference = buildDetectionModel("n", "", 3);
  DetectionModel channelsLast = buildDetectionModel("n", "", 3);
  {
    const torch::NoGradGuard noGrad;
    const auto from = nchw->parameters();
    const auto toRef = reference->parameters(), toCl = channelsLast->parameters();
    for (std::size_t i = 0; i < from.size(); ++i) {
      toRef[i].copy_(from[i]);
      toCl[i].copy_(from[i]);
    }
  }
  reference->to(torch::kFloat64);
  const std::vector<Tensor> before = channelsLast->parameters();
  channelsLast->setMemoryFormat(c10::MemoryFormat::ChannelsLast);
  EXPECT_EQ(channelsLast->memoryFormat(), c10::MemoryFormat::ChannelsLast);
  const std::vector<Tensor> after = channelsLast->parameters();
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(after[i].is_same(before[i])) << "parameter " << i << " was replaced";
    if (after[i].dim() == 4) {
      EXPECT_TRUE(after[i].is_contiguous(c10::MemoryFormat::ChannelsLast)) << i;
      if (after[i].size(1) > 1 && after[i].size(2) * after[i].size(3) > 1) {
        EXPECT_FALSE(after[i].is_contiguous()) << i;
      }
    }
  }

  const Tensor images = torch::rand({2, 3, 64, 96});  // NCHW in: the model lays it out
  for (DetectionModel* model : {&nchw, &reference, &channelsLast})
    (*model)->train();
  const auto run = [](DetectionModel& model, const Tensor& input) {
    std::vector<Tensor> levels = model->forwardLevels(input);
    Tensor loss = torch::zeros({}, input.options());
    for (const Tensor& level : levels)
      loss = loss + level.square().mean();
    loss.backward();
    return levels;
  };
  const auto expected = run(reference, images.to(torch::kFloat64));
  const auto plain = run(nchw, images);
  const auto laidOut = run(channelsLast, images);
  ASSERT_EQ(laidOut.size(), expected.size());
  for (std::size_t l = 0; l < expected.size(); ++l) {
    EXPECT_TRUE(laidOut[l].is_contiguous(c10::MemoryFormat::ChannelsLast)) << "level " << l;
    const double bound =
        4 * (plain[l].to(torch::kFloat64) - expected[l]).abs().max().item<double>() + 1e-5;
    EXPECT_LE((laidOut[l].to(torch::kFloat64) - expected[l]).abs().max().item<double>(), bound)
        << "level " << l;
  }
  // Gradients: the largest error relative to each tensor's largest entry, over all parameters.
  const auto refParams = reference->named_parameters();
  const auto plainParams = nchw->named_parameters();
  double worstPlain = 0, worst = 0;
  std::string worstName;
  for (const auto& p : channelsLast->named_parameters()) {
    if (!p.value().requires_grad()) continue;
    const Tensor want = refParams[p.key()].grad();
    const double scale = want.abs().max().item<double>() + 1e-12;
    worstPlain = std::max(
        worstPlain,
        (plainParams[p.key()].grad().to(torch::kFloat64) - want).abs().max().item<double>() /
            scale);
    const double error =
        (p.value().grad().to(torch::kFloat64) - want).abs().max().item<double>() / scale;
    if (error > worst) worst = error, worstName = p.key();
  }
  EXPECT_LE(worst, 4 * worstPlain + 1e-6) << worstName << "; NCHW's worst: " << worstPlain;
  EXPECT_LT(worst, 1e-3) << worstName;
  // Eval mode too, through predict (validation's path).
  channelsLast->eval();
  reference->eval();
  const torch::NoGradGuard noGrad;
  const Tensor boxes = channelsLast->predict(images);
  const Tensor want = reference->predict(images.to(torch::kFloat64));
  EXPECT_LE((boxes.to(torch::kFloat64) - want).abs().max().item<double>(), 1e-3);
}

TEST(DetectionModel, GroupNormAndFrozenNormsBuildAndRun) {
  torch::manual_seed(4);
  for (const NormKind kind : {NormKind::GroupNorm, NormKind::FrozenBatchNorm}) {
    DetectionModel model = buildDetectionModel("n", "", std::nullopt, NormChoice{kind, nullptr});
    for (const auto& [name, norm] : nn::normLayers(*model))
      EXPECT_EQ(norm->kind(), kind) << name;
    model->train();
    const auto levels = model->forwardLevels(torch::rand({1, 3, 64, 64}));
    EXPECT_EQ(shapeOf(levels[2]), (std::vector<int64_t>{1, 144, 2, 2}));
    for (const Tensor& level : levels)
      EXPECT_TRUE(torch::isfinite(level).all().item<bool>());
  }
  // Converting later reaches the same 57 slots.
  DetectionModel model = buildDetectionModel("n");
  EXPECT_EQ(nn::convertNorms(*model, NormKind::GroupNorm), 57u);
  EXPECT_EQ(shapeOf(model->predict(torch::rand({1, 3, 64, 64}))),
            (std::vector<int64_t>{1, 84, 64 + 16 + 4}));
}

TEST(DetectionModel, RejectsImagesNotAMultipleOfTheLargestStride) {
  DetectionModel model = buildDetectionModel("n");
  EXPECT_THROW(model->forwardLevels(torch::rand({1, 3, 100, 64})), std::invalid_argument);
  EXPECT_THROW(model->forwardLevels(torch::rand({1, 1, 64, 64})), std::invalid_argument);
}

// ---- YAML errors: file, line and field named ----

std::string withLayer(const std::string& row) {
  // A two-layer model whose first row (line 5) is `row`.
  return "nc: 2\n"
         "scales:\n"
         "  n: [0.33, 0.25, 1024]\n"
         "backbone:\n"
         "  - " +
         row +
         "\n"
         "head:\n"
         "  - [[0], 1, Detect, [nc]]\n";
}

void expectError(const std::string& yaml, const std::string& scale, int line,
                 const std::string& field, const std::string& words) {
  try {
    parseModelDefinition(yaml, "bad.yaml", "bad", scale);
    ADD_FAILURE() << "no error for " << field;
  } catch (const ModelDefinitionError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.line(), line) << what;
    EXPECT_EQ(e.field(), field) << what;
    EXPECT_EQ(what.rfind("bad.yaml:" + std::to_string(line) + ":", 0), 0u) << what;
    EXPECT_NE(what.find(words), std::string::npos) << what;
  }
}

TEST(ModelDefinition, ValidRowsParse) {
  const ModelDefinition def =
      parseModelDefinition(withLayer("[-1, 3, C2f, [64, True]]"), "ok.yaml", "ok", "n");
  ASSERT_EQ(def.layers.size(), 2u);
  EXPECT_EQ(def.layers[0].repeats, 1);  // round(3 * 0.33)
  EXPECT_EQ(def.layers[0].outChannels, 16);
  EXPECT_EQ(def.layers[1].nc, 2);
  EXPECT_EQ(def.layers[0].line, 5);
}

TEST(ModelDefinition, UnknownModule) {
  expectError(withLayer("[-1, 1, Conv3, [64, 3, 2]]"), "n", 5, "backbone[0].module",
              "unknown module 'Conv3'");
}

TEST(ModelDefinition, WrongArgumentCount) {
  expectError(withLayer("[-1, 1, Conv, [64, 3, 2, 1, 1]]"), "n", 5, "backbone[0].args",
              "got 5 argument(s)");
  expectError(withLayer("[-1, 1, C2f, []]"), "n", 5, "backbone[0].args", "got 0");
}

TEST(ModelDefinition, UnknownScale) {
  expectError(withLayer("[-1, 1, Conv, [64, 3, 2]]"), "q", 3, "scales", "unknown scale 'q'");
  EXPECT_THROW(loadModelDefinition("yolov8.yaml", "q"), ModelDefinitionError);
}

TEST(ModelDefinition, FromIndexOutOfRange) {
  expectError(withLayer("[3, 1, Conv, [64, 3, 2]]"), "n", 5, "backbone[0].from",
              "not an earlier layer");
  expectError(withLayer("[-3, 1, Conv, [64, 3, 2]]"), "n", 5, "backbone[0].from", "-3");
}

TEST(ModelDefinition, MissingKeys) {
  expectError("nc: 2\nbackbone:\n  - [-1, 1, Conv, [8]]\n", "", 1, "head", "missing");
  expectError("backbone: []\nhead: []\n", "", 1, "nc", "missing");
  expectError(withLayer("[-1, 1, Conv]"), "n", 5, "backbone[0]", "[from, repeats, module, args]");
}

TEST(ModelDefinition, BadValuesAndSyntax) {
  expectError(withLayer("[-1, 1, Conv, [sixty, 3]]"), "n", 5, "backbone[0].args[0]", "got 'sixty'");
  expectError(withLayer("[-1, 1, Conv, [64, 3, 2]"), "n", 7, "", "");  // YAML syntax error
  EXPECT_THROW(loadModelDefinition("/nonexistent/model.yaml"), ModelDefinitionError);
}

}  // namespace
}  // namespace syncbn::model
