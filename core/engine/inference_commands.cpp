#include "engine/inference_commands.h"

#include <torch/torch.h>

#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "common/atomic_file.h"
#include "common/config_yaml.h"
#include "data/augment.h"
#include "data/demo_data.h"
#include "data/verify.h"
#include "engine/train_command.h"
#include "export/inference_runtime.h"
#include "model/detection_model.h"
#include "train/console_reporter.h"
#include "train/validator.h"

namespace syncbn::engine {
namespace {

class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Config savedConfig(const exporter::LoadedDetector& detector, const std::filesystem::path& weights) {
  const LoadedConfig loaded = parseConfigYaml(detector.configYaml, weights.string() + " (meta)");
  for (const Diagnostic& d : loaded.diagnostics)
    if (d.severity == Severity::Error)
      throw CommandError(weights.string() +
                         ": the configuration saved in it is unusable: " + format(d));
  return loaded.config;
}

const std::set<std::string> kImageExtensions{".jpg", ".jpeg", ".png", ".bmp",
                                             ".tif", ".tiff", ".webp"};

std::vector<std::filesystem::path> imagesOf(const std::filesystem::path& source) {
  std::error_code error;
  if (std::filesystem::is_regular_file(source, error)) return {source};
  if (!std::filesystem::is_directory(source, error))
    throw CommandError(source.string() + ": no such image or folder");
  std::vector<std::filesystem::path> images;
  for (const auto& entry : std::filesystem::directory_iterator(source)) {
    std::string extension = entry.path().extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(), ::tolower);
    if (entry.is_regular_file() && kImageExtensions.count(extension))
      images.push_back(entry.path());
  }
  std::sort(images.begin(), images.end());
  if (images.empty()) throw CommandError(source.string() + ": holds no images");
  return images;
}

// A checkpoint's model runs on the CPU here, in the layout the trainer uses there
// (TrainerOptions::channelsLastOnCpu): oneDNN's convolutions then skip the reorders around every
// layer, and val runs as the run's own validation did. Exports keep their runtime's layout.
void useTheTrainersCpuLayout(const exporter::LoadedDetector& detector) {
  if (detector.model) detector.model->setMemoryFormat(c10::MemoryFormat::ChannelsLast);
}

}  // namespace

int valCommand(const CommandContext& ctx, const ValOptions& options) {
  try {
    const exporter::LoadedDetector detector = exporter::loadDetector(options.weights);
    useTheTrainersCpuLayout(detector);
    std::optional<Config> config;
    if (detector.kind == "checkpoint") config = savedConfig(detector, options.weights);
    std::string dataName = options.data;
    if (dataName.empty()) {
      if (!config)
        throw CommandError(
            "--data: an exported file does not know its dataset; name the "
            "data.yaml it was trained on");
      dataName = config->data.data;
    }
    const std::filesystem::path yaml = dataName == "demo"
                                           ? data::builtInDemoData(data::DemoOptions{})
                                           : std::filesystem::path(dataName);
    const data::DatasetReport report = data::verifyDataset(yaml, {.workers = 0, .useCache = true});
    if (report.dataset.names.size() != detector.names.size())
      throw CommandError(yaml.string() + ": " + std::to_string(report.dataset.names.size()) +
                         " classes, the weights " + options.weights.string() + " have " +
                         std::to_string(detector.names.size()));
    const data::SplitReport* split = nullptr;
    for (const auto& s : report.splits)
      if (s.split == options.split) split = &s;
    if (split == nullptr || split->samples.empty())
      throw CommandError(yaml.string() + ": no usable images in the '" + options.split + "' split");

    // Letterboxed exactly as training's validation did (the run's settings for a checkpoint).
    data::AugmentSettings letterbox =
        config ? data::AugmentSettings::fromConfig(*config) : data::AugmentSettings{};
    letterbox.imgsz = detector.imgsz;
    letterbox.augment = false;
    const auto images = std::make_shared<data::ExampleFactory>(split->samples, letterbox);
    train::ValidationOptions validation;
    validation.batchPerRank = options.batch;
    validation.workers = options.workers;
    train::Validator validator([images](std::size_t index) { return images->validation(index); },
                               images->size(), nullptr, c10::Device(c10::kCPU), validation);
    const train::ValidationResult result =
        detector.model
            ? validator.run(*detector.model)
            : validator.run(detector.predict, static_cast<int64_t>(detector.names.size()));
    const protocol::Val val = train::toValMessage(0, result, report.dataset.names);
    if (options.json) {
      ctx.out
          << nlohmann::json{{"weights", options.weights.string()},
                            {"kind", detector.kind},
                            {"data", yaml.string()},
                            {"split", options.split},
                            {"images", result.images},
                            {"precision", val.precision},
                            {"recall", val.recall},
                            {"map50", val.map50},
                            {"map50_95", val.map50_95},
                            {"fitness", val.fitness},
                            // An export has no raw head output to score: no losses.
                            {"box_loss", detector.model ? nlohmann::json(val.box_loss) : nullptr},
                            {"cls_loss", detector.model ? nlohmann::json(val.cls_loss) : nullptr},
                            {"dfl_loss", detector.model ? nlohmann::json(val.dfl_loss) : nullptr}}
                 .dump(2)
          << "\n";
    } else {
      ctx.out << "validating " << options.weights.string() << " (" << detector.kind << ") on "
              << result.images << " " << options.split << " images of " << yaml.string() << "\n";
      train::ConsoleReporter reporter(ctx.out, train::ConsoleStyle{});
      reporter.publish(val);
    }
    return kExitOk;
  } catch (const std::exception& e) {
    ctx.err << "error: val: " << e.what() << "\n";
    return kExitInvalid;
  }
}

int predictCommand(const CommandContext& ctx, const PredictOptions& options) {
  try {
    const exporter::LoadedDetector detector = exporter::loadDetector(options.weights);
    useTheTrainersCpuLayout(detector);
    std::vector<std::filesystem::path> images;
    for (const auto& source : options.sources) {
      const auto found = imagesOf(source);
      images.insert(images.end(), found.begin(), found.end());
    }
    OutputConfig output;
    output.project = options.project;
    output.name = options.name;
    const std::filesystem::path dir = chooseRunDir(output);
    std::filesystem::create_directories(options.saveTxt ? dir / "labels" : dir);
    exporter::PredictOptions predict;
    predict.conf = options.conf;
    predict.iou = options.iou;
    nlohmann::json all = nlohmann::json::array();
    for (std::size_t i = 0; i < images.size(); ++i) {
      const exporter::ImagePrediction prediction =
          exporter::predictImage(detector, images[i], predict);
      const std::filesystem::path annotated = dir / images[i].filename();
      exporter::writeAnnotated(prediction, detector.names, annotated);
      if (options.saveTxt)
        writeFileAtomically(dir / "labels" / (images[i].stem().string() + ".txt"),
                            exporter::labelLines(prediction));
      std::map<int, int> counts;
      for (const auto& d : prediction.detections)
        ++counts[d.cls];
      if (options.json) {
        nlohmann::json boxes = nlohmann::json::array();
        for (const auto& d : prediction.detections)
          boxes.push_back({{"class", d.cls},
                           {"name", detector.names.at(static_cast<std::size_t>(d.cls))},
                           {"confidence", d.confidence},
                           {"box", {d.x1, d.y1, d.x2, d.y2}}});
        all.push_back({{"image", images[i].string()},
                       {"annotated", annotated.string()},
                       {"width", prediction.width},
                       {"height", prediction.height},
                       {"milliseconds", prediction.milliseconds},
                       {"detections", boxes}});
      } else {
        ctx.out << "image " << i + 1 << "/" << images.size() << " " << images[i].string() << ": ";
        if (counts.empty()) ctx.out << "no detections";
        bool first = true;
        for (const auto& [cls, count] : counts) {
          ctx.out << (first ? "" : ", ") << count << " "
                  << detector.names.at(static_cast<std::size_t>(cls));
          first = false;
        }
        ctx.out << ", " << std::fixed << std::setprecision(1) << prediction.milliseconds << " ms\n";
      }
    }
    if (options.json)
      ctx.out << nlohmann::json{{"output", dir.string()}, {"images", all}}.dump(2) << "\n";
    else
      ctx.out << "results saved to " << dir.string()
              << (options.saveTxt ? " (labels in labels/)" : "") << "\n";
    return kExitOk;
  } catch (const std::exception& e) {
    ctx.err << "error: predict: " << e.what() << "\n";
    return kExitInvalid;
  }
}

}  // namespace syncbn::engine
