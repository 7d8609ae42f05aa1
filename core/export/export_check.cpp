#include "export/export_check.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <iomanip>
#include <opencv2/core.hpp>
#include <sstream>

#include "common/config_yaml.h"
#include "data/demo_data.h"
#include "data/verify.h"
#include "export/inference_runtime.h"
#include "model/detection_model.h"
#include "model/postprocess.h"
#include "train/checkpoint_file.h"

namespace syncbn::exporter {
namespace {

// The first val image (else train image) of the dataset the checkpoint was trained on.
std::filesystem::path datasetImage(const train::CheckpointMeta& meta,
                                   const std::filesystem::path& weights) {
  const LoadedConfig saved = parseConfigYaml(meta.configYaml, weights.string() + " (meta)");
  const std::string data = saved.config.data.data;
  const std::filesystem::path yaml =
      data == "demo" ? data::builtInDemoData(data::DemoOptions{}) : std::filesystem::path(data);
  data::DatasetReport report;
  try {
    report = data::verifyDataset(yaml, {.workers = 0, .useCache = true});
  } catch (const std::exception& e) {
    throw ExportError("the check needs an image: the run's dataset " + yaml.string() +
                      " is not readable (" + e.what() + "); pass --check-image PATH");
  }
  for (const char* split : {"val", "train"})
    for (const auto& s : report.splits)
      if (s.split == split && !s.samples.empty()) return s.samples.front().image;
  throw ExportError("the check needs an image: " + yaml.string() +
                    " has none; pass --check-image PATH");
}

std::string fixed(double value, int digits) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(digits) << value;
  return text.str();
}

std::string scientific(double value) {
  std::ostringstream text;
  text << std::scientific << std::setprecision(2) << value;
  return text.str();
}

}  // namespace

namespace {

// IoU of two detections' corner boxes (x1, y1, x2, y2 first).
double cornerIou(const at::Tensor& a, const at::Tensor& b) {
  const auto at = [](const at::Tensor& t, int i) { return t[i].item<double>(); };
  const double w = std::min(at(a, 2), at(b, 2)) - std::max(at(a, 0), at(b, 0));
  const double h = std::min(at(a, 3), at(b, 3)) - std::max(at(a, 1), at(b, 1));
  const double inter = std::max(w, 0.0) * std::max(h, 0.0);
  const double areaA = (at(a, 2) - at(a, 0)) * (at(a, 3) - at(a, 1));
  const double areaB = (at(b, 2) - at(b, 0)) * (at(b, 3) - at(b, 1));
  const double sum = areaA + areaB - inter;
  return sum > 0 ? inter / sum : 0.0;
}

}  // namespace

DetectionAgreement compareDetections(const at::Tensor& a, const at::Tensor& b, double pixels,
                                     double scoreTolerance, double nmsIou) {
  DetectionAgreement agreement;
  if (a.size(0) != b.size(0)) return agreement;
  const at::Tensor ca = a.to(torch::kFloat64).cpu(), cb = b.to(torch::kFloat64).cpu();
  std::vector<bool> taken(static_cast<std::size_t>(cb.size(0)), false);
  std::vector<int64_t> unmatched;
  for (int64_t i = 0; i < ca.size(0); ++i) {
    int64_t best = -1;
    double bestDifference = 0;
    for (int64_t j = 0; j < cb.size(0); ++j) {
      if (taken[static_cast<std::size_t>(j)] || ca[i][5].item<double>() != cb[j][5].item<double>())
        continue;
      const double difference =
          (ca[i].narrow(0, 0, 4) - cb[j].narrow(0, 0, 4)).abs().max().item<double>();
      if (best < 0 || difference < bestDifference) {
        best = j;
        bestDifference = difference;
      }
    }
    if (best < 0 || bestDifference > pixels) {
      unmatched.push_back(i);
      continue;
    }
    taken[static_cast<std::size_t>(best)] = true;
    agreement.maxDifference = std::max(agreement.maxDifference, bestDifference);
  }
  // What is left must pair up as ties broken the other way.
  for (const int64_t i : unmatched) {
    int64_t tie = -1;
    for (int64_t j = 0; j < cb.size(0) && tie < 0; ++j)
      if (!taken[static_cast<std::size_t>(j)] &&
          ca[i][5].item<double>() == cb[j][5].item<double>() &&
          std::abs(ca[i][4].item<double>() - cb[j][4].item<double>()) <= scoreTolerance &&
          cornerIou(ca[i], cb[j]) > nmsIou)
        tie = j;
    if (tie < 0) return {false, agreement.maxDifference, agreement.ties};
    taken[static_cast<std::size_t>(tie)] = true;
    ++agreement.ties;
  }
  agreement.same = true;
  return agreement;
}

ExportCheck checkExport(const ExportRequest& request, const ExportResult& result,
                        std::filesystem::path image) {
  ExportCheck check;
  check.tolerance = request.half ? 5e-2 : 1e-4;
  check.runtime = request.format == ExportFormat::Onnx
                      ? "OpenCV " + std::string(CV_VERSION) + " DNN"
                      : "LibTorch " + std::string(TORCH_VERSION) + " torch::jit::load";
  if (request.format == ExportFormat::Onnx && (request.half || request.dynamic)) {
    check.skipped =
        std::string("OpenCV ") + CV_VERSION + " DNN reads neither float16 weights nor " +
        "a graph that computes its shapes (--half, --dynamic); the model passed " +
        "onnx::checker. Export without them to check it here, or load it in " + "ONNX Runtime";
    return check;
  }
  train::CheckpointModel loaded;
  try {
    loaded = train::loadCheckpointModel(request.weights);
  } catch (const train::CheckpointError& e) {
    throw ExportError(e.what());
  }
  if (image.empty()) image = datasetImage(loaded.meta, request.weights);
  check.image = image;
  const at::Tensor images = letterboxImage(image, static_cast<int>(result.metadata.imgsz))
                                .pixels.repeat({result.metadata.batch, 1, 1, 1});
  at::Tensor expected;
  {
    const torch::NoGradGuard noGrad;
    expected = loaded.model->predict(images);
    // The yardstick for float32 rounding: the engine's own output against its float64 one.
    loaded.model->to(torch::kFloat64);
    const at::Tensor exact = loaded.model->predict(images.to(torch::kFloat64));
    check.engineFloat32Difference =
        (expected.to(torch::kFloat64) - exact).narrow(1, 0, 4).abs().max().item<double>();
    loaded.model->to(torch::kFloat32);
  }
  at::Tensor actual;
  try {
    actual = loadDetector(result.output).predict(images);  // in the file's own runtime
  } catch (const std::exception& e) {
    check.error = e.what();
    return check;
  }
  if (actual.sizes() != expected.sizes()) {
    check.error = "output0 has shape " + c10::str(actual.sizes()) + ", the engine's " +
                  c10::str(expected.sizes());
    return check;
  }
  check.maxAbsDifference = (actual - expected).abs().max().item<double>();
  check.maxBoxOutputDifference = (actual - expected).narrow(1, 0, 4).abs().max().item<double>();
  check.maxScoreDifference =
      (actual - expected).narrow(1, 4, expected.size(1) - 4).abs().max().item<double>();
  check.maxRelativeDifference =
      ((actual - expected).abs() / expected.abs().clamp_min(1.0)).max().item<double>();

  // NMS turns a 1e-7 difference between two equal scores into a different kept box. Scores on
  // the tolerance's grid make such ties exact, and the stable sort then breaks them by anchor in
  // both runs alike; the scores themselves were compared above.
  const auto onScoreGrid = [&](at::Tensor output) {
    const double step = check.tolerance;
    at::Tensor scores = output.narrow(1, 4, output.size(1) - 4);
    scores.copy_((scores / step).round() * step);
    return output;
  };
  const std::vector<at::Tensor> mine = model::nonMaxSuppression(onScoreGrid(expected.clone()), {});
  const std::vector<at::Tensor> theirs = model::nonMaxSuppression(onScoreGrid(actual.clone()), {});
  check.sameDetections = true;
  for (std::size_t b = 0; b < mine.size(); ++b) {
    check.engineDetections += static_cast<int>(mine[b].size(0));
    check.exportDetections += static_cast<int>(theirs[b].size(0));
    const DetectionAgreement agreement =
        compareDetections(mine[b], theirs[b], 0.5, check.tolerance);
    check.sameDetections = check.sameDetections && agreement.same;
    check.maxBoxDifference = std::max(check.maxBoxDifference, agreement.maxDifference);
    check.nmsTies += agreement.ties;
  }
  check.passed = check.sameDetections && check.maxScoreDifference <= check.tolerance &&
                 check.maxRelativeDifference <= check.tolerance;
  return check;
}

std::string formatReport(const ExportResult& result, const ExportCheck& check) {
  std::ostringstream text;
  text << "exported " << result.output.string() << " (" << fixed(result.bytes / 1e6, 1) << " MB, "
       << fixed(result.seconds, 1) << " s; " << result.foldedNorms
       << " BatchNorm layers folded into their convolutions";
  if (result.groupNorms > 0) text << ", " << result.groupNorms << " GroupNorm layers kept";
  text << ")\n";
  const std::string batch = result.dynamic ? "batch" : std::to_string(result.metadata.batch);
  const std::string size = std::to_string(result.metadata.imgsz);
  text << "  input images [" << batch << ", 3, " << (result.dynamic ? "height" : size) << ", "
       << (result.dynamic ? "width" : size) << "], output0 [" << batch << ", "
       << 4 + result.metadata.names.size() << ", anchors]: cx, cy, w, h in input pixels, then "
       << result.metadata.names.size() << " class scores\n";
  if (!check.skipped.empty()) {
    text << "not checked: " << check.skipped << "\n";
    return text.str();
  }
  text << "check in " << check.runtime << " on " << check.image.string() << " (letterboxed):\n";
  if (!check.error.empty()) {
    text << "  FAILED: the runtime refused the file: " << check.error << "\n";
    return text.str();
  }
  text << "  max |output0 - engine| = " << scientific(check.maxAbsDifference) << " (tolerance "
       << scientific(check.tolerance) << (check.tolerance > 1e-4 ? " for float16 weights" : "")
       << " on scores, and on boxes relative to their size)\n";
  text << "    scores " << scientific(check.maxScoreDifference) << ", boxes "
       << scientific(check.maxBoxOutputDifference) << " px (relative "
       << scientific(check.maxRelativeDifference)
       << "; the engine's own float32 rounding: " << scientific(check.engineFloat32Difference)
       << " px)\n";
  text << "  after NMS: " << check.exportDetections << " detections, the engine "
       << check.engineDetections << "; "
       << (check.sameDetections ? "the same boxes and classes" : "they DIFFER");
  if (check.sameDetections && check.nmsTies > 0)
    text << " (" << check.nmsTies << " pair" << (check.nmsTies == 1 ? "" : "s")
         << " of equal scores NMS kept the other way)";
  if (check.sameDetections && check.engineDetections > 0)
    text << ", boxes within " << scientific(check.maxBoxDifference) << " px";
  text << "\n  " << (check.passed ? "PASSED" : "FAILED") << "\n";
  return text.str();
}

}  // namespace syncbn::exporter
