#include "engine/commands.h"

#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "common/advice.h"
#include "common/config_yaml.h"
#include "common/validation.h"
#include "data/dataset.h"
#include "data/demo_data.h"
#include "engine/model_check.h"
#include "model/detection_model.h"
#include "model/model_summary.h"
#include "train/checkpoint_file.h"
#include "train/pretrained_weights.h"

namespace syncbn::engine {
namespace {

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void row(std::ostream& out, const std::string& label, const std::string& text) {
  out << "  " << std::left << std::setw(10) << label << text << "\n";
}

void printTopology(const CommandContext& ctx, const Config& config) {
  const Topology t = resolveTopology(config, ctx.host);
  const auto& dist = config.distributed;
  std::ostream& out = ctx.out;

  std::string devices = t.cuda ? "CUDA devices" : "CPU";
  if (t.cuda) {
    for (std::size_t i = 0; i < t.cudaDeviceIds.size(); ++i)
      devices.append(i ? "," : " ").append(std::to_string(t.cudaDeviceIds[i]));
  }
  row(out, "devices",
      devices + ": " + std::to_string(t.ranksPerNode) + " rank(s) per node x " +
          std::to_string(dist.nnodes) + " node(s) = world size " + std::to_string(t.worldSize));
  row(out, "backend",
      std::string(toString(t.backend)) +
          (dist.nnodes > 1
               ? ", rendezvous at " + dist.master_addr + ":" + std::to_string(dist.master_port)
               : ""));
  row(out, "batch",
      "global " + std::to_string(config.train.batch) + " = " + std::to_string(t.perRankBatch) +
          " per rank; optimizer step every " + std::to_string(t.accumulate) +
          " iteration(s) (nbs " + std::to_string(config.train.nbs) + ")");
  std::string norm = std::string(toString(dist.norm)) + ": ";
  switch (dist.norm) {
    case NormKind::BatchNorm:
      norm += "each rank's BatchNorm statistics over its own " + std::to_string(t.bnBatch) +
              " image(s)";
      break;
    case NormKind::SyncBatchNorm:
      norm += "BatchNorm statistics all-reduced over " + std::to_string(t.bnBatch) + " image(s) (" +
              std::to_string(t.perRankBatch) + " per rank x " + std::to_string(t.worldSize) +
              " ranks)";
      break;
    case NormKind::GroupNorm:
      norm += "GroupNorm, independent of the batch";
      break;
    case NormKind::FrozenBatchNorm:
      norm += "BatchNorm frozen at its running statistics";
      break;
  }
  if (dist.precise_bn > 0)
    norm += "; PreciseBN over " + std::to_string(dist.precise_bn) + " batches before validation";
  row(out, "norm", norm);
}

// Classes of a configuration's dataset: the built-in demo's, or a data.yaml's names.
int64_t datasetClassCount(const std::string& dataset) {
  if (dataset == "demo") return static_cast<int64_t>(data::kDemoClassNames.size());
  return static_cast<int64_t>(data::loadDataYaml(dataset).names.size());
}

// The same, or nullopt when the data.yaml cannot be read (train then reports the dataset).
std::optional<int64_t> readableClassCount(const std::string& dataset) {
  try {
    return datasetClassCount(dataset);
  } catch (const data::DatasetError&) {
    return std::nullopt;
  }
}

}  // namespace

namespace {

// A file that failed as a whole (missing, unreadable, bad YAML) has file-level diagnostics;
// validating the defaults it fell back to would only add noise.
bool fileFailed(const LoadedConfig& loaded) {
  return std::any_of(loaded.diagnostics.begin(), loaded.diagnostics.end(), [](const Diagnostic& d) {
    return d.field.empty() && d.source != "command line";
  });
}

}  // namespace

CheckedConfig loadAndCheck(const CommandContext& ctx, const std::string& file,
                           const std::vector<std::string>& overrides, bool withModel) {
  CheckedConfig checked;
  if (!file.empty()) checked.loaded = loadConfigFile(file);
  applyOverrides(checked.loaded, overrides);
  checked.diagnostics = checked.loaded.diagnostics;
  if (!fileFailed(checked.loaded)) {
    const Config& config = checked.loaded.config;
    Diagnostics validation = validate(config, ctx.host);
    // The model as train builds it; only for a configuration that is otherwise valid (its
    // topology and optimizer size the memory check).
    Diagnostics model;
    if (withModel && !hasErrors(validation))
      model = checkModel(modelCheckInputs(config, ctx.host, readableClassCount(config.data.data)));
    for (auto diagnostics : {std::move(validation), std::move(model), advise(config, ctx.host)}) {
      attachLocations(diagnostics, checked.loaded.locations);
      checked.diagnostics.insert(checked.diagnostics.end(), diagnostics.begin(), diagnostics.end());
    }
  }
  return checked;
}

void printDiagnostics(const CommandContext& ctx, const std::string& name, const Diagnostics& all) {
  // One stream keeps problems in file order; the exit code tells scripts whether any is an error.
  for (const auto& d : all)
    ctx.out << format(d) << "\n";
  ctx.out << name << ": " << plural(countSeverity(all, Severity::Error), "error") << ", "
          << plural(countSeverity(all, Severity::Warning), "warning") << ", "
          << plural(countSeverity(all, Severity::Info), "note") << "\n";
}

bool splitArguments(const std::vector<std::string>& args, std::string& file,
                    std::vector<std::string>& overrides, std::ostream& err) {
  for (const auto& arg : args) {
    if (arg.find('=') != std::string::npos) {
      overrides.push_back(arg);
    } else if (file.empty()) {
      file = arg;
    } else {
      err << "error: more than one configuration file given ('" << file << "' and '" << arg
          << "'); overrides are written key=value\n";
      return false;
    }
  }
  return true;
}

int checkConfig(const CommandContext& ctx, const std::string& file,
                const std::vector<std::string>& overrides) {
  const CheckedConfig checked = loadAndCheck(ctx, file, overrides);
  printDiagnostics(ctx, file.empty() ? "default configuration" : file, checked.diagnostics);
  return hasErrors(checked.diagnostics) ? kExitInvalid : kExitOk;
}

int printPlan(const CommandContext& ctx, const std::string& file,
              const std::vector<std::string>& overrides) {
  const CheckedConfig checked = loadAndCheck(ctx, file, overrides);
  const std::string name = file.empty() ? "default configuration" : file;
  if (hasErrors(checked.diagnostics)) {
    printDiagnostics(ctx, name, checked.diagnostics);
    return kExitInvalid;
  }
  const Config& c = checked.loaded.config;
  ctx.out << "Training plan for " << name << "\n";
  row(ctx.out, "data",
      (c.data.data == "demo" ? std::string("built-in synthetic demo dataset") : c.data.data) +
          ", images " + std::to_string(c.data.imgsz) + " px");
  row(ctx.out, "model", c.model.model);
  printTopology(ctx, c);
  row(ctx.out, "schedule",
      std::to_string(c.train.epochs) + " epochs, optimizer " + c.train.optimizer + ", seed " +
          std::to_string(c.train.seed));
  row(ctx.out, "output", c.output.project + "/" + c.output.name);
  printDiagnostics(ctx, name, checked.diagnostics);
  return kExitOk;
}

namespace {

using Json = nlohmann::ordered_json;

// docs/engine-json.md, "model-info --json": bump when a field changes meaning.
constexpr int kModelInfoSchema = 1;

Json modelInfoJson(const std::string& name, const model::ModelDefinition& def, NormKind norm,
                   const model::ModelSummary& summary) {
  Json layers = Json::array();
  for (const model::LayerSummary& layer : summary.layers)
    layers.push_back({{"index", layer.index},
                      {"from", layer.from},
                      {"repeats", layer.repeats},
                      {"parameters", layer.parameters},
                      {"module", layer.module},
                      {"arguments", layer.arguments},
                      {"gflops", 2.0 * static_cast<double>(layer.multiplyAdds) / 1e9}});
  return {{"schema", kModelInfoSchema},
          {"model", name},
          {"source", def.source},
          {"scale", def.scale},
          {"nc", def.nc},
          {"norm", toString(norm)},
          {"imgsz", summary.imgsz},
          {"summary", model::summaryLine(summary)},
          {"modules", summary.modules},
          {"parameters", summary.parameters},
          {"gradients", summary.gradients},
          {"gflops", summary.gflops},
          {"conv_output_elements", summary.convOutputElements},
          {"activation_elements", summary.activationElements},
          {"layers", std::move(layers)}};
}

// What starting weights give a model: where they came from and what transferred.
Json weightsJson(const train::PretrainedWeights& weights, const train::TransferReport& report) {
  return {
      {"file", weights.path.string()},
      {"format", weights.format == train::WeightsFormat::Ultralytics ? "ultralytics" : "syncbn"},
      {"producer", weights.producer},
      {"taken", weights.taken},
      {"classes", weights.names.size()},
      {"imgsz", weights.imgsz},
      {"transferred", report.transferred},
      {"total", report.total},
      {"summary", report.summary()},
      {"left_out", report.leftOut()},
      {"not_transferred", report.notTransferred}};
}

// The report for the console: where the weights came from, what transferred, what did not.
void printTransfer(std::ostream& out, const train::PretrainedWeights& weights,
                   const train::TransferReport& report, int64_t nc) {
  out << "Weights " << weights.describe() << ": " << weights.names.size() << " classes"
      << (weights.imgsz > 0 ? ", trained at " + std::to_string(weights.imgsz) + " px" : "") << "\n"
      << report.summary() << "\n";
  if (report.notTransferred.empty()) return;
  const bool otherClasses = static_cast<int64_t>(weights.names.size()) != nc;
  out << "  not transferred"
      << (otherClasses
              ? " (the class branches follow the dataset's " + std::to_string(nc) +
                    " classes, not the weights' " + std::to_string(weights.names.size()) + ")"
              : "")
      << ":\n";
  for (const std::string& line : report.notTransferred)
    out << "    " << line << "\n";
}

// Where --json puts what went wrong: a configuration's diagnostics or the model file's error.
Json errorJson(const std::string& file, int line, const std::string& field,
               const std::string& message) {
  return {{"schema", kModelInfoSchema},
          {"error", {{"file", file}, {"line", line}, {"field", field}, {"message", message}}}};
}

}  // namespace

int printModelInfo(const CommandContext& ctx, const std::string& file,
                   const std::vector<std::string>& overrides, bool json) {
  const bool fileIsModel = !file.empty() && (model::isModelArgument(file) || isWeightsFile(file));
  const CheckedConfig checked =
      loadAndCheck(ctx, fileIsModel ? "" : file, overrides, /*withModel=*/false);
  if (hasErrors(checked.diagnostics)) {
    if (json) {
      for (const Diagnostic& d : checked.diagnostics) {
        if (d.severity != Severity::Error) continue;
        ctx.out << errorJson(d.source.empty() ? file : d.source, d.line, d.field, d.message).dump(1)
                << "\n";
        break;
      }
      return kExitInvalid;
    }
    printDiagnostics(ctx, file.empty() ? "default configuration" : file, checked.diagnostics);
    return kExitInvalid;
  }
  const Config& c = checked.loaded.config;
  const std::string name = fileIsModel ? file : c.model.model;
  // A configuration trains on its dataset, so its classes set the head's width; a model file
  // alone keeps its own nc.
  std::optional<int64_t> nc;
  if (!fileIsModel && !file.empty()) {
    try {
      nc = datasetClassCount(c.data.data);
    } catch (const data::DatasetError& e) {
      ctx.err << "note: classes from the model file, the dataset is unreadable: " << e.what()
              << "\n";
    }
  }
  try {
    // Starting weights: the model is the file's, and the report says what of it transfers.
    std::optional<train::PretrainedWeights> weights;
    if (isWeightsFile(name)) weights = train::readPretrainedWeights(name);
    model::ModelDefinition definition =
        weights ? train::pretrainedDefinition(*weights, nc, fileIsModel ? "" : c.model.scale)
                : model::loadModelDefinition(name, c.model.scale, nc);
    {
      // Sized before it is built: the same limits as check-config and train, for one model.
      ModelCheckInputs inputs = modelCheckInputs(c, ctx.host, nc);
      inputs.training = false;
      const Diagnostics problems = checkModelMemory(definition, inputs);
      if (hasErrors(problems)) {
        if (json)
          ctx.out << errorJson(name, 0, "", problems.front().message).dump(1) << "\n";
        else
          ctx.err << "error: " << name << ": " << problems.front().message << "\n";
        return kExitInvalid;
      }
    }
    model::DetectionModel net(std::move(definition),
                              model::NormChoice{c.distributed.norm, nullptr});
    const model::ModelDefinition& def = net->definition();
    const model::ModelSummary summary = model::summarize(*net, c.data.imgsz);
    std::optional<train::TransferReport> report;
    if (weights) report = train::transferWeights(*net, *weights);
    if (json) {
      Json out = modelInfoJson(name, def, c.distributed.norm, summary);
      if (weights) out["weights"] = weightsJson(*weights, *report);
      ctx.out << out.dump(1) << "\n";
      return kExitOk;
    }
    ctx.out << "Model " << name << ": " << def.source
            << (def.scale.empty() ? "" : ", scale " + def.scale) << ", " << def.nc
            << " classes, norm " << toString(c.distributed.norm) << "\n";
    model::printSummary(ctx.out, summary);
    if (weights) printTransfer(ctx.out, *weights, *report, def.nc);
  } catch (const model::ModelDefinitionError& e) {
    if (json) {
      ctx.out << errorJson(e.source(), e.line(), e.field(), e.what()).dump(1) << "\n";
      return kExitInvalid;
    }
    ctx.err << "error: " << e.what() << "\n";
    return kExitInvalid;
  } catch (const train::CheckpointError& e) {
    if (json) {
      ctx.out << errorJson(e.path().string(), 0, "model.model", e.what()).dump(1) << "\n";
      return kExitInvalid;
    }
    ctx.err << "error: " << e.what() << "\n";
    return kExitInvalid;
  } catch (const std::exception& e) {
    // What the checks above let through and LibTorch refused (or memory ran out): still this
    // file's error, never an abort.
    const std::string message = "cannot build the model from " + name + ": " + e.what();
    if (json)
      ctx.out << errorJson(name, 0, "", message).dump(1) << "\n";
    else
      ctx.err << "error: " << message << "\n";
    return kExitInvalid;
  }
  return kExitOk;
}

int printDefaultConfig(const CommandContext& ctx) {
  ctx.out << toYaml(Config{});
  return kExitOk;
}

}  // namespace syncbn::engine
