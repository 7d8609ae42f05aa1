// Built without libonnx-dev: ONNX is refused with what to install, TorchScript still exports.
#include <stdexcept>

#include "export/export_formats.h"

namespace syncbn::exporter {

std::map<std::string, std::string> ultralyticsMetadata(const ExportMetadata&) {
  return {};
}

std::string onnxModelBytes(const InferenceGraph&, const ExportMetadata&, const OnnxOptions&) {
  throw std::invalid_argument(
      "--format onnx: this engine was built without ONNX; install libonnx-dev (Debian) and "
      "rebuild, or export --format torchscript");
}

}  // namespace syncbn::exporter
