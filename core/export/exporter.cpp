#include "export/exporter.h"

#include <torch/torch.h>

#include <chrono>
#include <ctime>

#include "common/atomic_file.h"
#include "common/version.h"
#include "model/detection_model.h"
#include "train/checkpoint_file.h"

namespace syncbn::exporter {
namespace {

std::string isoDate() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

std::string toString(ExportFormat format) {
  return format == ExportFormat::Onnx ? "onnx" : "torchscript";
}

ExportFormat exportFormatFromString(const std::string& text) {
  if (text == "onnx") return ExportFormat::Onnx;
  if (text == "torchscript") return ExportFormat::TorchScript;
  throw std::invalid_argument("--format " + text + ": choose onnx or torchscript");
}

std::filesystem::path defaultExportPath(const std::filesystem::path& weights, ExportFormat format) {
  return weights.parent_path() /
         (weights.stem().string() + (format == ExportFormat::Onnx ? ".onnx" : ".torchscript"));
}

ExportResult exportWeights(const ExportRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  if (request.batch < 1)
    throw ExportError("--batch " + std::to_string(request.batch) + ": at least 1");
  const std::filesystem::path output =
      request.output.empty() ? defaultExportPath(request.weights, request.format) : request.output;
  const std::filesystem::path folder =
      output.has_parent_path() ? output.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(folder))
    throw ExportError(output.string() + ": cannot write the export: the folder " + folder.string() +
                      " does not exist");
  std::error_code notThere;  // an output that does not exist yet is not the checkpoint
  if (std::filesystem::equivalent(request.weights, output, notThere))
    throw ExportError(output.string() + ": the export would overwrite its own checkpoint");

  train::CheckpointModel loaded;
  try {
    loaded = train::loadCheckpointModel(request.weights);
  } catch (const train::CheckpointError& e) {
    throw ExportError(e.what());
  }
  const InferenceGraph graph = buildInferenceGraph(*loaded.model);
  const int imgsz = request.imgsz > 0 ? request.imgsz : loaded.imgsz;
  if (imgsz % graph.maxStride != 0)
    throw ExportError("--imgsz " + std::to_string(imgsz) + ": must be a multiple of the stride " +
                      std::to_string(graph.maxStride) + " (try " +
                      std::to_string((imgsz / graph.maxStride + 1) * graph.maxStride) + ")");

  ExportResult result;
  result.output = output;
  result.dynamic = request.dynamic || request.format == ExportFormat::TorchScript;
  result.foldedNorms = graph.foldedNorms;
  for (const Op& op : graph.ops)
    result.groupNorms += op.kind == OpKind::GroupNorm ? 1 : 0;
  ExportMetadata& metadata = result.metadata;
  metadata.names = loaded.names;
  metadata.imgsz = imgsz;
  metadata.batch = request.batch;
  metadata.stride = graph.maxStride;
  metadata.description = "SyncBN Studio " + loaded.model->definition().name +
                         " (norm=" + std::string(syncbn::toString(loaded.trainedNorm)) + ")";
  metadata.engineVersion = kVersion;
  metadata.date = isoDate();
  metadata.sourceWeights = request.weights.filename().string();

  std::string bytes;
  try {
    if (request.format == ExportFormat::Onnx)
      bytes = onnxModelBytes(graph, metadata, {request.opset, request.dynamic, request.half});
    else
      bytes = torchScriptBytes(graph, metadata, {request.half});
  } catch (const std::invalid_argument& e) {
    throw ExportError(e.what());
  }
  try {
    writeFileAtomically(output, bytes);
  } catch (const std::runtime_error& e) {
    throw ExportError(e.what());
  }
  result.bytes = bytes.size();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace syncbn::exporter
