// Writing the inference graph (export/inference_graph.h) as a file a deployment runtime loads:
// ONNX (Debian's ONNX protobuf library; LibTorch's own exporter needs Python) and TorchScript
// (compiled from generated source by LibTorch's Module::define, so no Python either). Both give
// `output0` [batch, 4 + nc, anchors]: centre x, centre y, width, height in input pixels, then
// sigmoid class scores, as Ultralytics' detection export does, with the decode in the graph.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "export/inference_graph.h"

namespace syncbn::exporter {

struct ExportMetadata {
  std::vector<std::string> names;  // class names, index = class id
  int64_t imgsz = 640;             // the input's height and width
  int64_t batch = 1;
  int64_t stride = 32;
  std::string description;  // "SyncBN Studio YOLOv8n (norm=syncbn)"
  std::string engineVersion;
  std::string date;  // ISO 8601
  std::string sourceWeights;
};

struct OnnxOptions {
  int opset = 12;
  bool dynamic = false;  // dynamic batch, height and width
  bool half = false;     // float16 weights, cast to float32 in the graph
};

// The serialized ONNX model, checked by onnx::checker; throws std::invalid_argument for an opset
// outside 12..17 and std::runtime_error when the checker refuses the model.
std::string onnxModelBytes(const InferenceGraph& graph, const ExportMetadata& metadata,
                           const OnnxOptions& options);

// Ultralytics' metadata_props values: names as "{0: 'bolt', 1: 'nut'}", imgsz as "[640, 640]".
std::map<std::string, std::string> ultralyticsMetadata(const ExportMetadata& metadata);

struct TorchScriptOptions {
  bool half = false;  // float16 weights; forward computes in the input's dtype
};

// The TorchScript source of the graph's forward, for the writer and for tests.
std::string torchScriptSource(const InferenceGraph& graph, const TorchScriptOptions& options);

// The saved TorchScript archive (torch::jit::Module::save), with extra files "names" (JSON
// object id -> name) and "config.txt" (Ultralytics' metadata as JSON).
std::string torchScriptBytes(const InferenceGraph& graph, const ExportMetadata& metadata,
                             const TorchScriptOptions& options);

}  // namespace syncbn::exporter
