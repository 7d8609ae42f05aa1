// Export: BatchNorm folding against the unfolded layers, the exported files run in OpenCV DNN and
// torch::jit::load against the engine's eval-mode output (independent runtimes as the oracle),
// the OpenCV 4.6 traps, the metadata, Python's onnx.checker, refusals and the atomic write.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <stdlib.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include "common/config_yaml.h"
#include "export/export_check.h"
#include "export/exporter.h"
#include "export/inference_runtime.h"
#include "file_size_limit.h"
#include "model/detection_model.h"
#include "model/postprocess.h"
#include "model/yolo_modules.h"
#include "nn/norm.h"
#include "temp_dir.h"
#include "train/training_state.h"

namespace syncbn::exporter {
namespace {

namespace fs = std::filesystem;

using data::testing::TempDir;

// Every block the graph knows: Conv, C2f (with and without shortcut), SPPF, nearest upsampling,
// Concat and a two-level Detect (strides 2 and 4).
model::ModelDefinition smallDefinition() {
  return model::parseModelDefinition(
      "nc: 2\n"
      "backbone:\n"
      "  - [-1, 1, Conv, [8, 3, 2]]\n"
      "  - [-1, 1, C2f, [8, True]]\n"
      "  - [-1, 1, Conv, [16, 3, 2]]\n"
      "  - [-1, 1, SPPF, [16, 5]]\n"
      "head:\n"
      "  - [-1, 1, nn.Upsample, [None, 2, 'nearest']]\n"
      "  - [[-1, 1], 1, Concat, [1]]\n"
      "  - [-1, 1, C2f, [8]]\n"
      "  - [[6, 3], 1, Detect, [nc]]\n",
      "small.yaml", "small");
}

// Random running statistics and affine parameters in every BatchNorm kind, so folding matters,
// and class biases that make many anchors confident, so NMS keeps boxes to compare.
void randomizeNorms(model::DetectionModelImpl& net, double classBias) {
  torch::manual_seed(7);
  const torch::NoGradGuard noGrad;
  for (const auto& item : net.named_buffers()) {
    if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0, 0.5);
    if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 2.0);
  }
  for (const auto& item : net.named_parameters())
    if (item.key().find(".bn.") != std::string::npos) item.value().uniform_(0.5, 1.5);
  for (const auto& item : net.named_buffers())
    if (item.key().find(".bn.layer.weight") != std::string::npos) item.value().uniform_(0.5, 1.5);
  for (const auto& item : net.named_parameters())
    if (item.key().find("cv3") != std::string::npos &&
        item.key().find(".2.bias") != std::string::npos)
      item.value().fill_(classBias);
}

// A checkpoint of the small detector trained with `norm`, and an image to check on.
struct SmallCheckpoint {
  TempDir dir;
  fs::path weights = dir.path() / "weights" / "best.pt";
  fs::path image = dir.path() / "street.jpg";
  model::DetectionModel net{nullptr};

  // classBias 1.5: most anchors confident (many boxes for NMS); lower: fewer, better separated.
  explicit SmallCheckpoint(NormKind norm, double classBias = 1.5) {
    fs::create_directories(weights.parent_path());
    const model::ModelDefinition definition = smallDefinition();
    torch::manual_seed(1);
    const NormKind built = norm == NormKind::SyncBatchNorm ? NormKind::BatchNorm : norm;
    net = model::DetectionModel(definition, model::NormChoice{built, nullptr});
    randomizeNorms(*net, classBias);
    net->eval();
    Config config;
    config.distributed.norm = norm;
    config.data.imgsz = 64;
    train::CheckpointMeta meta;
    meta.kind = "best";
    meta.configYaml = toYaml(config);
    meta.modelFingerprint = train::modelFingerprint(definition, norm);
    meta.engineVersion = "test";
    meta.names = {"bolt", "nut's"};
    meta.modelYaml = definition.yamlText;
    meta.modelSource = definition.source;
    meta.modelName = definition.name;
    meta.imgsz = 64;
    train::saveCheckpoint(weights, {net.ptr().get(), net.ptr().get(), nullptr}, meta);
    cv::Mat picture(60, 80, CV_8UC3);
    cv::randu(picture, 0, 255);
    cv::imwrite(image.string(), picture);
  }
};

at::Tensor letterboxedInput(int batch = 1) {
  torch::manual_seed(3);
  return torch::rand({batch, 3, 64, 64});
}

at::Tensor runOpenCv(const fs::path& file, const at::Tensor& images) {
  cv::dnn::Net net = cv::dnn::readNetFromONNX(file.string());
  const at::Tensor input = images.contiguous();
  const std::vector<int> shape(input.sizes().begin(), input.sizes().end());
  net.setInput(
      cv::Mat(static_cast<int>(shape.size()), shape.data(), CV_32F, input.data_ptr<float>()));
  cv::Mat out = net.forward("output0");
  std::vector<int64_t> sizes(out.size.p, out.size.p + out.dims);
  return torch::from_blob(out.ptr<float>(), sizes, torch::kFloat32).clone();
}

at::Tensor engineOutput(model::DetectionModel& net, const at::Tensor& images) {
  const torch::NoGradGuard noGrad;
  return net->predict(images);
}

// Scores absolutely, boxes relative to their size (pixels), as the export's check does.
void expectClose(const at::Tensor& actual, const at::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const at::Tensor difference = (actual - expected).abs();
  EXPECT_LE(difference.narrow(1, 4, expected.size(1) - 4).max().item<double>(), 1e-4) << what;
  EXPECT_LE((difference / expected.abs().clamp_min(1.0)).max().item<double>(), 1e-4) << what;
}

void expectSameDetections(const at::Tensor& actual, const at::Tensor& expected) {
  const auto mine = model::nonMaxSuppression(expected, {});
  const auto theirs = model::nonMaxSuppression(actual, {});
  ASSERT_EQ(mine.size(), theirs.size());
  for (std::size_t b = 0; b < mine.size(); ++b) {
    ASSERT_GT(mine[b].size(0), 0) << "the test needs detections to compare";
    const DetectionAgreement agreement = compareDetections(mine[b], theirs[b], 1e-2);
    EXPECT_TRUE(agreement.same) << mine[b] << theirs[b];
  }
}

// A request with the defaults but for the weights and the format.
ExportRequest requestFor(const fs::path& weights, ExportFormat format) {
  ExportRequest request;
  request.weights = weights;
  request.format = format;
  return request;
}

onnx::ModelProto readOnnx(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromIstream(&in)) << file;
  return model;
}

// ---- folding ---------------------------------------------------------------------------------

// NMS over two equal scores keeps either box; two runtimes may keep different ones. Such a pair
// (same class, scores within the tolerance, overlapping beyond the NMS IoU) matches as a tie,
// and nothing looser does. The numbers are the pair the frozen-norm export kept on this CPU.
TEST(CompareDetections, EqualScoresKeptTheOtherWayAreTiesAndNothingLooser) {
  const auto detections = [](std::vector<std::array<double, 6>> rows) {
    at::Tensor t = torch::empty({static_cast<int64_t>(rows.size()), 6}, torch::kFloat64);
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (int c = 0; c < 6; ++c)
        t[static_cast<int64_t>(i)][c] = rows[i][static_cast<std::size_t>(c)];
    return t;
  };
  const std::array<double, 6> other{100, 100, 120, 130, 0.5, 0};
  const at::Tensor mine = detections({{18.3119, -11.7810, 49.1888, 18.3681, 0.8165, 1}, other});
  const at::Tensor tied = detections({{16.3119, -11.7811, 47.1888, 18.3681, 0.8165, 1}, other});
  const DetectionAgreement agreement = compareDetections(mine, tied);
  EXPECT_TRUE(agreement.same);
  EXPECT_EQ(agreement.ties, 1);
  EXPECT_EQ(agreement.maxDifference, 0.0) << "the tie is not a box difference";

  const at::Tensor otherScore =
      detections({{16.3119, -11.7811, 47.1888, 18.3681, 0.7165, 1}, other});
  EXPECT_FALSE(compareDetections(mine, otherScore).same) << "a different score is no tie";
  const at::Tensor farther = detections({{28.3119, -11.7811, 59.1888, 18.3681, 0.8165, 1}, other});
  EXPECT_FALSE(compareDetections(mine, farther).same) << "IoU 0.5: NMS would keep both";
  const at::Tensor otherClass =
      detections({{16.3119, -11.7811, 47.1888, 18.3681, 0.8165, 0}, other});
  EXPECT_FALSE(compareDetections(mine, otherClass).same);
}

TEST(FoldBatchNorm, IsConvThenNormInEvalModeForEveryBatchNormKind) {
  for (const NormKind kind :
       {NormKind::BatchNorm, NormKind::SyncBatchNorm, NormKind::FrozenBatchNorm}) {
    torch::manual_seed(5);
    model::Conv block(6, 10, 3, 2, model::NormChoice{kind, nullptr});
    {
      const torch::NoGradGuard noGrad;
      auto& layer = block->bn->layer();
      for (auto& item : layer.named_buffers()) {
        if (item.key() == "running_mean") item.value().normal_(0, 1);
        if (item.key() == "running_var") item.value().uniform_(0.2, 3);
        if (item.key() == "weight") item.value().uniform_(0.5, 2);
        if (item.key() == "bias") item.value().normal_(0, 1);
      }
      for (auto& item : layer.named_parameters()) {
        if (item.key() == "weight") item.value().uniform_(0.5, 2);
        if (item.key() == "bias") item.value().normal_(0, 1);
      }
    }
    block->eval();
    const at::Tensor x = torch::randn({2, 6, 9, 9});
    const torch::NoGradGuard noGrad;
    const at::Tensor expected = block->bn(block->conv(x));
    const FoldedConv folded = foldBatchNorm(*block);
    ASSERT_TRUE(folded.weight.defined());
    const at::Tensor actual = torch::conv2d(x, folded.weight, folded.bias, {2, 2}, {1, 1});
    EXPECT_LE((actual - expected).abs().max().item<double>(), 2e-5) << toString(kind);
  }
}

TEST(FoldBatchNorm, LeavesGroupNormToTheGraph) {
  model::Conv block(6, 8, 3, 1, model::NormChoice{NormKind::GroupNorm, nullptr});
  EXPECT_FALSE(foldBatchNorm(*block).weight.defined());
  model::DetectionModel net(smallDefinition(), model::NormChoice{NormKind::GroupNorm, nullptr});
  const InferenceGraph graph = buildInferenceGraph(*net);
  EXPECT_EQ(graph.foldedNorms, 0);
  int groupNorms = 0;
  for (const Op& op : graph.ops)
    groupNorms += op.kind == OpKind::GroupNorm;
  EXPECT_GT(groupNorms, 10);
}

// ---- both formats, every norm ------------------------------------------------------------------

class ExportEveryNorm : public ::testing::TestWithParam<NormKind> {};

TEST_P(ExportEveryNorm, OnnxInOpenCvAndTorchScriptInLibTorchGiveTheEnginesDetections) {
  SmallCheckpoint checkpoint(GetParam());
  const at::Tensor images = letterboxedInput();
  const at::Tensor expected = engineOutput(checkpoint.net, images);

  ExportRequest onnxRequest = requestFor(checkpoint.weights, ExportFormat::Onnx);
  const ExportResult onnxResult = exportWeights(onnxRequest);
  EXPECT_EQ(onnxResult.output, checkpoint.weights.parent_path() / "best.onnx");
  const at::Tensor fromOpenCv = runOpenCv(onnxResult.output, images);
  expectClose(fromOpenCv, expected, "ONNX in OpenCV");
  expectSameDetections(fromOpenCv, expected);

  ExportRequest tsRequest = requestFor(checkpoint.weights, ExportFormat::TorchScript);
  const ExportResult tsResult = exportWeights(tsRequest);
  torch::jit::Module loaded = torch::jit::load(tsResult.output.string());
  const at::Tensor fromJit = loaded.forward({images}).toTensor();
  expectClose(fromJit, expected, "TorchScript");
  expectSameDetections(fromJit, expected);

  // The export's own check says the same, on the real (letterboxed) image.
  for (const auto& [request, result] :
       {std::pair{onnxRequest, onnxResult}, std::pair{tsRequest, tsResult}}) {
    const ExportCheck check = checkExport(request, result, checkpoint.image);
    EXPECT_TRUE(check.error.empty()) << check.error;
    EXPECT_TRUE(check.passed) << formatReport(result, check);
    EXPECT_LE(check.maxScoreDifference, 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(Norms, ExportEveryNorm,
                         ::testing::Values(NormKind::BatchNorm, NormKind::SyncBatchNorm,
                                           NormKind::FrozenBatchNorm, NormKind::GroupNorm),
                         [](const auto& info) { return std::string(toString(info.param)); });

TEST(TorchScriptExport, IsDynamicInBatchAndSizeAndCarriesTheNames) {
  SmallCheckpoint checkpoint(NormKind::BatchNorm);
  const ExportResult result =
      exportWeights(requestFor(checkpoint.weights, ExportFormat::TorchScript));
  torch::jit::ExtraFilesMap extra{{"names", ""}, {"config.txt", ""}};
  torch::jit::Module loaded = torch::jit::load(result.output.string(), c10::nullopt, extra);
  EXPECT_EQ(nlohmann::json::parse(extra["names"]), (nlohmann::json{{"0", "bolt"}, {"1", "nut's"}}));
  const auto config = nlohmann::json::parse(extra["config.txt"]);
  EXPECT_EQ(config["task"], "detect");
  EXPECT_EQ(config["imgsz"], (nlohmann::json{64, 64}));
  torch::manual_seed(9);
  const at::Tensor other = torch::rand({3, 3, 96, 128});
  expectClose(loaded.forward({other}).toTensor(), engineOutput(checkpoint.net, other),
              "3 images of 96 x 128");
}

TEST(TorchScriptExport, HalfStoresFloat16WeightsAndStaysWithinItsTolerance) {
  SmallCheckpoint checkpoint(NormKind::BatchNorm);
  ExportRequest request = requestFor(checkpoint.weights, ExportFormat::TorchScript);
  const ExportResult full = exportWeights(request);
  request.half = true;
  request.output = checkpoint.dir.path() / "half.torchscript";
  const ExportResult half = exportWeights(request);
  EXPECT_LT(half.bytes, full.bytes * 0.7);
  const ExportCheck check = checkExport(request, half, checkpoint.image);
  EXPECT_TRUE(check.passed) << formatReport(half, check);
  EXPECT_EQ(check.tolerance, 5e-2);
  EXPECT_GT(check.maxAbsDifference, 0.0) << "float16 weights do change the output";
}

// ---- ONNX: OpenCV 4.6's traps, metadata, checker -----------------------------------------------

TEST(OnnxExport, AvoidsOpenCv46sTrapsAtOpset12And13) {
  SmallCheckpoint checkpoint(NormKind::BatchNorm);
  for (const int opset : {12, 13, 17}) {
    ExportRequest request = requestFor(checkpoint.weights, ExportFormat::Onnx);
    request.opset = opset;
    request.batch = 2;
    request.output = checkpoint.dir.path() / ("opset" + std::to_string(opset) + ".onnx");
    exportWeights(request);
    const onnx::ModelProto model = readOnnx(request.output);
    EXPECT_EQ(model.opset_import(0).version(), opset);
    std::map<std::string, std::vector<int64_t>> initializerDims;
    for (const auto& init : model.graph().initializer())
      initializerDims[init.name()] = {init.dims().begin(), init.dims().end()};
    for (const auto& node : model.graph().node()) {
      std::set<std::string> attributes;
      for (const auto& a : node.attribute())
        attributes.insert(a.name());
      if (node.op_type() == "Conv") {
        EXPECT_TRUE(attributes.count("kernel_shape")) << node.name();
      }
      if (node.op_type() == "Split") {
        // Opset 12 keeps the sizes as an attribute; later opsets split evenly only (OpenCV
        // ignores a sizes input), uneven parts being Slices.
        EXPECT_EQ(node.input_size(), 1) << node.name() << " at opset " << opset;
        if (opset < 13) {
          EXPECT_TRUE(attributes.count("split")) << node.name();
        }
      }
      if (node.op_type() == "Mul" || node.op_type() == "Add" || node.op_type() == "Sub")
        for (const auto& input : node.input()) {
          const auto found = initializerDims.find(input);
          if (found == initializerDims.end()) continue;
          const auto& dims = found->second;
          const bool trap = (dims.size() == 2 && dims[0] == 1) ||
                            (dims.size() == 3 && dims[0] == 1 && dims[1] == 1);
          EXPECT_FALSE(trap) << node.name() << " broadcasts against a [1, A] / [1, 1, A] constant";
          // Added and subtracted constants are full-shape; multiplied ones [1, 4, A] or scalars
          // (OpenCV mis-sizes a Mul against [batch, 4, A] once batch > 1).
          if (dims.size() == 3 && node.op_type() != "Mul") {
            EXPECT_EQ(dims[0], 2) << node.name();
          } else if (dims.size() == 3) {
            EXPECT_TRUE(dims[0] == 1 && dims[1] == 4) << node.name();
          }
        }
    }
    const at::Tensor images = letterboxedInput(2);
    const at::Tensor fromOpenCv = runOpenCv(request.output, images);
    expectClose(fromOpenCv, engineOutput(checkpoint.net, images), "opset " + std::to_string(opset));
    expectSameDetections(fromOpenCv, engineOutput(checkpoint.net, images));
  }
}

TEST(OnnxExport, CarriesUltralyticsMetadataAndTheOutputLayout) {
  SmallCheckpoint checkpoint(NormKind::SyncBatchNorm);
  const ExportResult result = exportWeights(requestFor(checkpoint.weights, ExportFormat::Onnx));
  const onnx::ModelProto model = readOnnx(result.output);
  std::map<std::string, std::string> props;
  for (const auto& p : model.metadata_props())
    props[p.key()] = p.value();
  EXPECT_EQ(props["names"], "{0: 'bolt', 1: 'nut\\'s'}");
  EXPECT_EQ(props["imgsz"], "[64, 64]");
  EXPECT_EQ(props["stride"], "4");
  EXPECT_EQ(props["task"], "detect");
  EXPECT_FALSE(props["version"].empty());
  EXPECT_NE(props["description"].find("norm=syncbn"), std::string::npos);
  ASSERT_EQ(model.graph().output_size(), 1);
  EXPECT_EQ(model.graph().output(0).name(), "output0");
  const auto& dims = model.graph().output(0).type().tensor_type().shape().dim();
  ASSERT_EQ(dims.size(), 3);
  EXPECT_EQ(dims[0].dim_value(), 1);
  EXPECT_EQ(dims[1].dim_value(), 4 + 2);
  EXPECT_EQ(dims[2].dim_value(), 32 * 32 + 16 * 16) << "anchors of strides 2 and 4 at 64 px";
}

TEST(OnnxExport, PassesPythonsOnnxChecker) {
  SmallCheckpoint checkpoint(NormKind::GroupNorm);
  for (const bool dynamic : {false, true}) {
    ExportRequest request = requestFor(checkpoint.weights, ExportFormat::Onnx);
    request.dynamic = dynamic;
    request.half = dynamic;
    request.output = checkpoint.dir.path() / (dynamic ? "dynamic.onnx" : "static.onnx");
    exportWeights(request);
    const std::string command =
        "/usr/bin/python3 -c \"import onnx, sys; m = onnx.load(sys.argv[1]); "
        "onnx.checker.check_model(m, full_check=True); print('ok')\" " +
        request.output.string() + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr)
      output += buffer;
    const int status = ::pclose(pipe);
    EXPECT_EQ(status, 0) << "python3-onnx (installed by scripts/install-deps.sh): " << output;
    EXPECT_EQ(output, "ok\n");
  }
}

TEST(OnnxExport, TheReadmesOpenCvExampleFindsTheEnginesDetections) {
  SmallCheckpoint checkpoint(NormKind::BatchNorm, -0.8);
  const ExportResult result = exportWeights(requestFor(checkpoint.weights, ExportFormat::Onnx));
  const std::string command = std::string(SYNCBN_ONNX_EXAMPLE) + " " + result.output.string() +
                              " " + checkpoint.image.string() + " 64";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::vector<std::vector<double>> rows;
  char line[256];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::istringstream fields(line);
    std::vector<double> row;
    for (double v; fields >> v;)
      row.push_back(v);
    rows.push_back(row);
  }
  ASSERT_EQ(::pclose(pipe), 0) << command;
  // The engine's own predict on the same image, through the export's runtime loader.
  const LoadedDetector detector = loadDetector(checkpoint.weights);
  const ImagePrediction expected = predictImage(detector, checkpoint.image, {});
  ASSERT_GT(expected.detections.size(), 0u);
  // OpenCV's NMSBoxes may break a tie between near-equal boxes differently from the engine's
  // NMS: every box it prints must be one of the engine's, and nearly all of the engine's there.
  const auto matches = [](const std::vector<double>& row, const Detection& d) {
    return row.size() == 6 && row[0] == d.cls && std::abs(row[2] - d.x1) < 0.5 &&
           std::abs(row[3] - d.y1) < 0.5 && std::abs(row[4] - d.x2) < 0.5 &&
           std::abs(row[5] - d.y2) < 0.5;
  };
  for (const auto& row : rows) {
    bool found = false;
    for (const Detection& d : expected.detections)
      found = found || matches(row, d);
    EXPECT_TRUE(found) << "the example's box at " << row.at(2) << "," << row.at(3)
                       << " is not the engine's";
  }
  std::size_t found = 0;
  for (const Detection& d : expected.detections)
    for (const auto& row : rows)
      if (matches(row, d)) {
        ++found;
        break;
      }
  EXPECT_GE(static_cast<double>(found), 0.97 * static_cast<double>(expected.detections.size()))
      << found << " of " << expected.detections.size();
  std::cout << "the example found " << found << " of the engine's " << expected.detections.size()
            << " detections, and printed " << rows.size() << "\n";
}

// ---- refusals and the atomic write -----------------------------------------------------------

TEST(Export, RefusesBadCheckpointsNamingThemAndWritesNothing) {
  SmallCheckpoint checkpoint(NormKind::BatchNorm);
  const fs::path dir = checkpoint.dir.path();
  std::ifstream in(checkpoint.weights, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto write = [](const fs::path& path, const std::string& contents) {
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  };
  const std::vector<std::pair<fs::path, std::string>> cases{
      {write(dir / "truncated.pt", bytes.substr(0, bytes.size() / 2)), "truncated"},
      {write(dir / "results.csv", "epoch,time\n1,2\n"), "not a SyncBN Studio checkpoint"},
      {write(dir / "empty.pt", ""), "empty"},
      {dir / "missing.pt", "no such checkpoint file"},
  };
  for (const auto& [path, reason] : cases)
    for (const ExportFormat format : {ExportFormat::Onnx, ExportFormat::TorchScript}) {
      try {
        exportWeights(requestFor(path, format));
        ADD_FAILURE() << path << " was exported";
      } catch (const ExportError& e) {
        EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
      }
      EXPECT_FALSE(fs::exists(defaultExportPath(path, format))) << path;
    }
}

TEST(Export, RefusesAnImageSizeOffTheStrideAndAMissingFolder) {
  SmallCheckpoint checkpoint(NormKind::BatchNorm);
  ExportRequest request = requestFor(checkpoint.weights, ExportFormat::Onnx);
  request.imgsz = 66;
  EXPECT_THROW(
      {
        try {
          exportWeights(request);
        } catch (const ExportError& e) {
          EXPECT_NE(std::string(e.what()).find("multiple of the stride 4 (try 68)"),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      ExportError);
  request.imgsz = 0;
  request.output = checkpoint.dir.path() / "nowhere" / "best.onnx";
  EXPECT_THROW(exportWeights(request), ExportError);
}

TEST(Export, AFailedWriteLeavesThePreviousExportIntactAndNoPartialFile) {
  SmallCheckpoint checkpoint(NormKind::BatchNorm);
  ExportRequest request = requestFor(checkpoint.weights, ExportFormat::Onnx);
  exportWeights(request);
  const fs::path output = defaultExportPath(checkpoint.weights, ExportFormat::Onnx);
  const auto before = fs::file_size(output);
  const auto entries = [&] {
    return std::distance(fs::directory_iterator(output.parent_path()), fs::directory_iterator());
  };
  const auto count = entries();
  request.imgsz = 128;  // a different file, were it written
  {
    const testing::FileSizeLimit limit(before / 3);
    EXPECT_THROW(exportWeights(request), ExportError);
  }
  EXPECT_EQ(fs::file_size(output), before);
  EXPECT_EQ(readOnnx(output).graph().input(0).type().tensor_type().shape().dim(2).dim_value(), 64);
  EXPECT_EQ(entries(), count) << "no temporary file is left behind";
}

}  // namespace
}  // namespace syncbn::exporter
