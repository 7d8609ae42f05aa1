#include "engine/export_command.h"

#include <nlohmann/json.hpp>
#include <ostream>

#include "export/export_check.h"

namespace syncbn::engine {

int exportCommand(const CommandContext& ctx, ExportCommandOptions options) {
  try {
    options.request.format = exporter::exportFormatFromString(options.format);
    ctx.err << "exporting " << options.request.weights.string() << " as " << options.format
            << "...\n";
    const exporter::ExportResult result = exporter::exportWeights(options.request);
    std::optional<exporter::ExportCheck> check;
    if (options.check) {
      ctx.err << "checking " << result.output.string() << " in its own runtime...\n";
      check = exporter::checkExport(options.request, result, options.checkImage);
    }
    if (options.json) {
      nlohmann::json report{{"output", result.output.string()},
                            {"format", options.format},
                            {"bytes", result.bytes},
                            {"seconds", result.seconds},
                            {"imgsz", result.metadata.imgsz},
                            {"batch", result.metadata.batch},
                            {"names", result.metadata.names},
                            {"folded_norms", result.foldedNorms},
                            {"group_norms", result.groupNorms},
                            {"check", nullptr}};
      if (check)
        report["check"] = {{"runtime", check->runtime},
                           {"image", check->image.string()},
                           {"max_abs_difference", check->maxAbsDifference},
                           {"tolerance", check->tolerance},
                           {"engine_detections", check->engineDetections},
                           {"export_detections", check->exportDetections},
                           {"same_detections", check->sameDetections},
                           {"max_box_difference", check->maxBoxDifference},
                           {"passed", check->passed},
                           {"error", check->error},
                           {"skipped", check->skipped},
                           {"report", exporter::formatReport(result, *check)}};
      ctx.out << report.dump(2) << "\n";
    } else if (check) {
      ctx.out << exporter::formatReport(result, *check);
    } else {
      ctx.out << "exported " << result.output.string() << " (" << result.bytes
              << " bytes); not checked (--no-check)\n";
    }
    return !check || check->passed || !check->skipped.empty() ? kExitOk : kExitInvalid;
  } catch (const std::exception& e) {
    ctx.err << "error: export: " << e.what() << "\n";
    return kExitInvalid;
  }
}

}  // namespace syncbn::engine
