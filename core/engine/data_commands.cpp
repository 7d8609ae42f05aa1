// check-data and make-demo-data: the dataset side of the command line. Torch-free.
#include <filesystem>
#include <nlohmann/json.hpp>
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
  const std::size_t verified = split.samples.size() + split.skipped;
  if (verified < split.listed)
    out << "  (a random sample of " << verified << " of the " << split.listed << " images)\n";
  out << "  (" << split.checked << " verified now, " << split.fromCache << " from "
      << split.cacheFile.string() << ")\n";
  if (!split.cacheNote.empty()) out << "  note: " << split.cacheNote << "\n";
}

using Json = nlohmann::ordered_json;

// docs/engine-json.md, "check-data --json": bump kCheckDataSchema when a field changes meaning.
constexpr int kCheckDataSchema = 1;

Json problemJson(const data::Problem& problem) {
  return {{"file", problem.file.string()},
          {"image", problem.image.string()},
          {"label", data::labelPathFor(problem.image).string()},
          {"line", problem.line},
          {"skipped", problem.skipped},
          {"reason", problem.reason}};
}

Json sampleJson(const data::Sample& sample) {
  Json boxes = Json::array();
  for (const auto& row : sample.rows)
    boxes.push_back({row.cls, row.cx, row.cy, row.w, row.h});
  return {{"image", sample.image.string()},
          {"label", sample.label.string()},
          {"width", sample.width},
          {"height", sample.height},
          {"boxes", std::move(boxes)}};
}

Json splitJson(const data::SplitReport& split) {
  Json problems = Json::array(), samples = Json::array();
  for (const auto& problem : split.problems)
    problems.push_back(problemJson(problem));
  for (const auto& sample : split.samples)
    samples.push_back(sampleJson(sample));
  return {{"split", split.split},
          {"listed", split.listed},
          {"verified", split.samples.size() + split.skipped},
          {"images", split.samples.size()},
          {"backgrounds", split.backgrounds},
          {"instances", split.instances},
          {"skipped", split.skipped},
          {"duplicates_removed", split.duplicatesRemoved},
          {"class_images", split.classImages},
          {"class_instances", split.classInstances},
          {"checked_now", split.checked},
          {"from_cache", split.fromCache},
          {"cache_file", split.cacheFile.string()},
          {"cache_note", split.cacheNote},
          {"problems", std::move(problems)},
          {"samples", std::move(samples)}};
}

Json reportJson(const std::filesystem::path& yaml, const data::DatasetReport& report,
                const CheckDataOptions& options, const std::string& unusable) {
  Json splits = Json::array();
  for (const auto& split : report.splits)
    splits.push_back(splitJson(split));
  return {{"schema", kCheckDataSchema},
          {"data", yaml.string()},
          {"root", report.dataset.root.string()},
          {"names", report.dataset.names},
          {"sample", options.sample},
          {"usable", unusable.empty()},
          {"error", unusable},
          {"splits", std::move(splits)}};
}

// With --json, progress goes to stderr as lines a GUI can parse while stdout holds the report.
data::VerifyProgress progressPrinter(std::ostream& err) {
  return [&err](const std::string& split, std::size_t done, std::size_t total) {
    err << "progress: " << split << " " << done << "/" << total << std::endl;
  };
}

}  // namespace

int checkData(const CommandContext& ctx, const std::string& file, const CheckDataOptions& options) {
  try {
    // `demo` names the built-in dataset, as `data: demo` does in a configuration.
    const std::filesystem::path yaml =
        file == "demo" ? data::builtInDemoData(data::DemoOptions{}) : std::filesystem::path(file);
    const data::DatasetReport report = data::verifyDataset(
        yaml, {.workers = options.workers,
               .useCache = options.useCache,
               .sample = options.sample,
               .sampleSeed = options.sampleSeed,
               .maxImagePixels = options.maxImagePixels,
               .progress = options.json ? progressPrinter(ctx.err) : data::VerifyProgress{}});
    if (options.json) {
      std::string unusable;
      try {
        data::requireUsableImages(report);
      } catch (const data::DatasetError& e) {
        unusable = e.what();
      }
      // One line: a report of thousands of images stays one read for whoever parses it.
      ctx.out << reportJson(yaml, report, options, unusable).dump() << "\n";
      return unusable.empty() ? kExitOk : kExitInvalid;
    }
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
