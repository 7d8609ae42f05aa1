#include "engine/recalibrate_command.h"

#include <torch/torch.h>

#include <iomanip>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>

#include "common/config_yaml.h"
#include "data/augment.h"
#include "data/batch_loader.h"
#include "data/demo_data.h"
#include "data/distributed_sampler.h"
#include "data/verify.h"
#include "model/detection_model.h"
#include "nn/precise_bn.h"
#include "train/training_state.h"
#include "train/validator.h"

namespace syncbn::engine {
namespace {

// A reason for refusing, already naming its file; becomes "error: <what>" and exit 1.
class RecalibrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Metrics {
  double map50 = 0, map50_95 = 0, fitness = 0;
};

c10::Device chooseDevice(const std::string& device) {
  const bool cuda = torch::cuda::is_available();
  if (device == "cuda" && !cuda)
    throw RecalibrationError("--device cuda: no CUDA device is available");
  return (device == "cuda" || (device == "auto" && cuda)) ? c10::Device(c10::kCUDA, 0)
                                                          : c10::Device(c10::kCPU);
}

// The run's configuration, from the checkpoint itself.
Config configOf(const std::filesystem::path& weights, const train::CheckpointMeta& meta) {
  const LoadedConfig loaded = parseConfigYaml(meta.configYaml, weights.string() + " (meta)");
  for (const Diagnostic& d : loaded.diagnostics)
    if (d.severity == Severity::Error)
      throw RecalibrationError(
          weights.string() +
          ": the configuration saved in the checkpoint is unusable: " + format(d));
  return loaded.config;
}

const data::SplitReport* findSplit(const data::DatasetReport& report, const std::string& name) {
  for (const auto& split : report.splits)
    if (split.split == name) return &split;
  return nullptr;
}

std::string fixed3(double value) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(3) << value;
  return text.str();
}

nlohmann::json metricsJson(const std::optional<Metrics>& metrics) {
  if (!metrics) return nullptr;
  return {
      {"map50", metrics->map50}, {"map50_95", metrics->map50_95}, {"fitness", metrics->fitness}};
}

}  // namespace

std::filesystem::path defaultRecalibratedPath(const std::filesystem::path& weights) {
  return weights.parent_path() /
         (weights.stem().string() + "-precise" + weights.extension().string());
}

std::vector<std::vector<std::size_t>> recalibrationBatches(std::size_t images, int batches,
                                                           int batch, std::uint64_t trainSeed) {
  std::vector<std::vector<std::size_t>> out;
  if (images == 0 || batches <= 0 || batch <= 0) return out;
  const std::size_t size = std::min(images, static_cast<std::size_t>(batch));
  const std::size_t perPass = images / size;
  const data::DistributedSampler sampler(images, 1, 0, /*shuffle=*/true, trainSeed + 7919);
  std::vector<std::size_t> order;
  for (int k = 0; k < batches; ++k) {
    const std::size_t inPass = static_cast<std::size_t>(k) % perPass;
    if (inPass == 0)
      order = sampler.indices(static_cast<int>(static_cast<std::size_t>(k) / perPass));
    out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(inPass * size),
                     order.begin() + static_cast<std::ptrdiff_t>((inPass + 1) * size));
  }
  return out;
}

int recalibrate(const CommandContext& ctx, const RecalibrateOptions& options) {
  if (options.batches < 1 || options.batch < 0) {
    ctx.err << "error: recalibrate: --batches must be at least 1 and --batch at least 0\n";
    return kExitUsage;
  }
  const std::filesystem::path output =
      options.output.empty() ? defaultRecalibratedPath(options.weights) : options.output;
  try {
    const c10::Device device = chooseDevice(options.device);
    // Refused before the work rather than after it.
    const std::filesystem::path folder =
        output.has_parent_path() ? output.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(folder))
      throw train::CheckpointError(
          output, "cannot save the checkpoint: the folder " + folder.string() + " does not exist");
    // Everything is checked before the work starts: the container, the saved configuration, the
    // dataset and that the model fits the checkpoint's tensors.
    const train::CheckpointMeta meta = train::readCheckpointMeta(options.weights);
    const Config config = configOf(options.weights, meta);
    const std::string dataName = options.data.empty() ? config.data.data : options.data;
    const std::filesystem::path yaml = dataName == "demo"
                                           ? data::builtInDemoData(data::DemoOptions{})
                                           : std::filesystem::path(dataName);
    const data::DatasetReport report = data::verifyDataset(yaml, {.workers = 0, .useCache = true});
    const data::SplitReport* trainSplit = findSplit(report, "train");
    if (trainSplit == nullptr || trainSplit->samples.empty())
      throw RecalibrationError(yaml.string() + ": no usable training images to recalibrate on");
    const data::SplitReport* valSplit = findSplit(report, "val");

    // The EMA as inference loads it (built from the definition saved in the file), so a best.pt
    // without training state, float16 or not, recalibrates as a last.pt does.
    const train::CheckpointModel loaded = train::loadCheckpointModel(options.weights, device);
    if (!loaded.fromEma)
      throw train::CheckpointError(options.weights, "the checkpoint holds no EMA weights");
    const std::shared_ptr<model::DetectionModelImpl> ema = loaded.model;
    const auto nc = static_cast<int64_t>(report.dataset.names.size());
    if (ema->definition().nc != nc)
      throw RecalibrationError(yaml.string() + ": the dataset has " + std::to_string(nc) +
                               " classes, the checkpoint's model " +
                               std::to_string(ema->definition().nc) +
                               ": recalibrate on data with the model's classes");

    data::AugmentSettings letterbox = data::AugmentSettings::fromConfig(config);
    letterbox.augment = false;
    const auto trainImages = std::make_shared<data::ExampleFactory>(trainSplit->samples, letterbox);
    const auto valImages = std::make_shared<data::ExampleFactory>(
        valSplit ? valSplit->samples : std::vector<data::Sample>{}, letterbox);
    const int batch = options.batch > 0 ? options.batch : config.train.batch;
    const auto batches = recalibrationBatches(trainImages->size(), options.batches, batch,
                                              static_cast<std::uint64_t>(config.train.seed));
    const int batchSize = static_cast<int>(batches.front().size());

    std::optional<train::Validator> validator;
    if (valImages->size() > 0) {
      train::ValidationOptions validation;
      validation.batchPerRank = batchSize;
      validation.workers = config.train.workers;
      validator.emplace([valImages](std::size_t index) { return valImages->validation(index); },
                        valImages->size(), nullptr, device, validation);
    }
    const auto validate = [&]() -> std::optional<Metrics> {
      if (!validator) return std::nullopt;
      const train::ValidationResult result = validator->run(*ema);
      return Metrics{result.summary.map50, result.summary.map50to95, result.summary.fitness};
    };
    const std::optional<Metrics> before = validate();

    // The batches in order, made ahead by the loader's workers: the loader's "dataset" is the
    // concatenation of the batches' indices.
    std::vector<std::size_t> flat;
    for (const auto& indices : batches)
      flat.insert(flat.end(), indices.begin(), indices.end());
    data::LoaderOptions loaderOptions;
    loaderOptions.workers = config.train.workers;
    data::BatchLoader loader(
        [trainImages, &flat](std::size_t position, int) {
          data::TrainingExample example = trainImages->validation(flat[position]);
          example.index = position;  // the loader checks it got the position it asked for
          return example;
        },
        data::DistributedSampler(flat.size(), 1, 0, /*shuffle=*/false, 0), batchSize,
        loaderOptions);
    loader.start(0);
    const auto forwardOne = [&] {
      const std::optional<data::Batch> next = loader.next();
      if (!next) throw std::logic_error("recalibrate: the loader ran out of batches");
      ema->forwardLevels(data::toFloatImages(next->images, device));
    };
    const nn::PreciseBnReport recalibrated =
        nn::recalibrateBatchNorm(*ema, options.batches, forwardOne);
    loader.stop();
    if (recalibrated.layers == 0)
      throw RecalibrationError(options.weights.string() + ": the model has no BatchNorm layers " +
                               "with running statistics (norm " +
                               std::string(toString(config.distributed.norm)) +
                               "): nothing to recalibrate");
    const std::optional<Metrics> after = validate();

    train::saveCheckpointWithEma(options.weights, output, *ema);

    if (options.json) {
      const nlohmann::json report{{"input", options.weights.string()},
                                  {"output", output.string()},
                                  {"data", yaml.string()},
                                  {"device", device.str()},
                                  {"layers", recalibrated.layers},
                                  {"batches", recalibrated.batches},
                                  {"batch", batchSize},
                                  {"before", metricsJson(before)},
                                  {"after", metricsJson(after)}};
      ctx.out << report.dump(2) << "\n";
    } else {
      ctx.out << "PreciseBN: recalibrated " << recalibrated.layers
              << " BatchNorm layers of the EMA of " << options.weights.string() << " over "
              << recalibrated.batches << " batches of " << batchSize << " training images of "
              << yaml.string() << " (letterboxed, no augmentation) on " << device.str() << "\n";
      if (before && after) {
        ctx.out << "  before  mAP50 " << fixed3(before->map50) << "  mAP50-95 "
                << fixed3(before->map50_95) << "\n";
        ctx.out << "  after   mAP50 " << fixed3(after->map50) << "  mAP50-95 "
                << fixed3(after->map50_95) << "\n";
      } else {
        ctx.out << "  not validated: " << yaml.string() << " has no val images\n";
      }
      ctx.out << "saved " << output.string() << "\n";
    }
    return kExitOk;
  } catch (const train::CheckpointError& e) {
    ctx.err << "error: " << e.what() << "\n";
  } catch (const data::DatasetError& e) {
    ctx.err << "error: " << e.what() << "\n";
  } catch (const model::ModelDefinitionError& e) {
    ctx.err << "error: " << e.what() << "\n";
  } catch (const RecalibrationError& e) {
    ctx.err << "error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    ctx.err << "error: recalibrate " << options.weights.string() << ": " << e.what() << "\n";
  }
  return kExitInvalid;
}

}  // namespace syncbn::engine
