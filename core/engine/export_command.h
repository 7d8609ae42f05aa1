// `syncbn-engine export --weights RUN/weights/best.pt --format onnx|torchscript ...`: the export
// (export/exporter.h) and its check in the file's own runtime (export/export_check.h), printed as
// a short report (or one JSON object with --json, for the studio).
#pragma once

#include <filesystem>

#include "engine/commands.h"
#include "export/exporter.h"

namespace syncbn::engine {

struct ExportCommandOptions {
  exporter::ExportRequest request;
  std::string format = "onnx";
  std::filesystem::path checkImage;  // empty: the first val image of the run's dataset
  bool check = true;
  bool json = false;
};

// Exit 0: written and, unless --no-check, the check passed. 1: refused (nothing written, the
// error names the file or option), or written but the check failed (the report says how).
int exportCommand(const CommandContext& ctx, ExportCommandOptions options);

}  // namespace syncbn::engine
