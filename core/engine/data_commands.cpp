// check-data and make-demo-data: the dataset side of the command line. Torch-free.
#include <filesystem>
#include <ostream>

#include "data/demo_data.h"
#include "data/verify.h"
#include "engine/commands.h"

namespace syncbn::engine {
namespace {

std::string counted(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void printSplit(std::ostream& out, const data::DatasetReport& report,
                const data::SplitReport& split) {
  out << split.split << ": " << counted(split.samples.size(), "image", "images") << ", "
      << counted(split.backgrounds, "background", "backgrounds") << ", " << split.skipped
      << " skipped, " << counted(split.duplicatesRemoved, "duplicate label", "duplicate labels")
      << " removed; " << counted(split.instances, "instance", "instances");
  const auto& names = report.dataset.names;
  for (std::size_t c = 0; c < names.size() && c < split.classInstances.size(); ++c)
    out << (c == 0 ? " (" : ", ") << names[c] << " " << split.classInstances[c]
        << (c + 1 == names.size() ? ")" : "");
  out << "\n";
  for (const auto& problem : split.problems) {
    out << "  " << problem.file.string();
    if (problem.line > 0) out << ":" << problem.line;
    out << ": " << (problem.skipped ? "skipped" : "warning") << ": " << problem.reason << "\n";
  }
  out << "  (" << split.checked << " verified now, " << split.fromCache << " from "
      << split.cacheFile.string() << ")\n";
  if (!split.cacheNote.empty()) out << "  note: " << split.cacheNote << "\n";
}

}  // namespace

int checkData(const CommandContext& ctx, const std::string& file, const CheckDataOptions& options) {
  try {
    // `demo` names the built-in dataset, as `data: demo` does in a configuration.
    const std::filesystem::path yaml =
        file == "demo" ? data::builtInDemoData(data::DemoOptions{}) : std::filesystem::path(file);
    const data::DatasetReport report =
        data::verifyDataset(yaml, {.workers = options.workers, .useCache = options.useCache});
    const auto& names = report.dataset.names;
    ctx.out << yaml.string() << ": " << counted(names.size(), "class", "classes") << ", root "
            << report.dataset.root.string() << "\n";
    for (const auto& split : report.splits)
      printSplit(ctx.out, report, split);
    data::requireUsableImages(report);
    return kExitOk;
  } catch (const data::DatasetError& e) {
    ctx.err << "error: " << e.what() << "\n";
    return kExitInvalid;
  } catch (const std::exception& e) {  // the demo dataset could not be written
    ctx.err << "error: check-data: " << e.what() << "\n";
    return kExitInvalid;
  }
}

int makeDemoData(const CommandContext& ctx, const std::string& dir,
                 const data::DemoOptions& options) {
  try {
    const auto yaml = data::makeDemoData(dir, options);
    ctx.out << "wrote " << options.train << " train and " << options.val << " val images of "
            << options.imgsz << " px (seed " << options.seed << "): " << yaml.string() << "\n";
    return kExitOk;
  } catch (const std::invalid_argument& e) {
    ctx.err << "error: make-demo-data: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    ctx.err << "error: make-demo-data: " << e.what() << "\n";
    return kExitInvalid;
  }
}

}  // namespace syncbn::engine
