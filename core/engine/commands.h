// The engine's subcommands as functions of (arguments, output streams) -> exit code, so the
// command line is a thin layer and every command is testable without spawning a process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/config_yaml.h"
#include "common/diagnostics.h"
#include "common/topology.h"
#include "data/demo_data.h"

namespace syncbn::engine {

enum ExitCode : int { kExitOk = 0, kExitInvalid = 1, kExitUsage = 2 };

struct CommandContext {
  HostFacts host;
  std::ostream& out;
  std::ostream& err;
};

// A configuration as a command sees it: loaded (file, then key=value overrides), validated and
// advised on. Diagnostics hold load problems, then validation errors, then advice.
struct CheckedConfig {
  LoadedConfig loaded;
  Diagnostics diagnostics;
};
// `withModel`: also the model, as train builds it (engine/model_check.h); model-info checks it
// itself, to report the model file's own line and field.
CheckedConfig loadAndCheck(const CommandContext& ctx, const std::string& file,
                           const std::vector<std::string>& overrides, bool withModel = true);
// Every diagnostic, then "<name>: N errors, N warnings, N notes".
void printDiagnostics(const CommandContext& ctx, const std::string& name, const Diagnostics& all);

// `check-config FILE [key=value ...]`: every error and piece of advice; exit 1 on errors.
int checkConfig(const CommandContext& ctx, const std::string& file,
                const std::vector<std::string>& overrides);

// `plan [FILE] [key=value ...]`: validates, then prints what a training run would do (ranks,
// devices, batch per rank and per BatchNorm statistic, backend). Empty file = defaults.
int printPlan(const CommandContext& ctx, const std::string& file,
              const std::vector<std::string>& overrides);

// `model-info [CONFIG|MODEL] [key=value ...]`: the model's per-layer table, parameters and
// GFLOPs at data.imgsz. MODEL is a built-in name (yolov8n.yaml) or a model YAML; otherwise the
// model comes from the configuration's model.model and model.scale. `json`: the summary, or the
// first error with its file and line, as JSON on stdout (docs/engine-json.md).
int printModelInfo(const CommandContext& ctx, const std::string& file,
                   const std::vector<std::string>& overrides, bool json = false);

// `default-config`: the default configuration as YAML, ready to edit.
int printDefaultConfig(const CommandContext& ctx);

struct CheckDataOptions {
  int workers = 0;  // 0: one per hardware thread, at most 8
  bool useCache = true;
  std::size_t sample = 0;  // images per split, drawn at random; 0: all
  std::uint64_t sampleSeed = 0;
  bool json = false;  // the report as JSON on stdout (docs/engine-json.md), progress on stderr
  std::int64_t maxImagePixels = 89478485;  // data.max_image_pixels (Pillow's rule)
};

// `check-data DATA.yaml`: verifies every split, prints its summary and every skipped file with
// its reason (file:line). Exit 1 when the dataset cannot be used or a split has no usable image.
int checkData(const CommandContext& ctx, const std::string& file, const CheckDataOptions& options);

// `make-demo-data DIR`: writes the demo dataset and prints where its data.yaml is.
int makeDemoData(const CommandContext& ctx, const std::string& dir,
                 const data::DemoOptions& options);

// Splits positional arguments into at most one config file and key=value overrides.
// Returns false (after writing the reason to err) when more than one file is given.
bool splitArguments(const std::vector<std::string>& args, std::string& file,
                    std::vector<std::string>& overrides, std::ostream& err);

}  // namespace syncbn::engine
