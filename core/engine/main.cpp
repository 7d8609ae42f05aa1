// syncbn-engine: the LibTorch side of SyncBN Studio, also usable headless.
#include <CLI/CLI.hpp>

#include <iostream>

#include "common/version.h"
#include "engine/commands.h"
#include "engine/host_probe.h"

namespace {

std::string versionLine(const syncbn::engine::HostProbe& probe) {
  return std::string("syncbn-engine ") + syncbn::kVersion + " (LibTorch " + probe.torchVersion +
         ", CUDA devices: " + std::to_string(probe.facts.cudaDevices) +
         ", Gloo: " + (probe.glooAvailable ? "yes" : "no") +
         ", NCCL: " + (probe.ncclAvailable ? "yes" : "no") + ")";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace syncbn::engine;
  const HostProbe probe = probeHost();
  const CommandContext ctx{probe.facts, std::cout, std::cerr};

  CLI::App app{"SyncBN Studio engine: multi-rank YOLO training with synchronized BatchNorm.\n"
               "Configuration keys follow Ultralytics; override any of them as key=value."};
  app.set_version_flag("--version", versionLine(probe));
  app.require_subcommand(1);

  std::vector<std::string> checkArgs;
  auto* check = app.add_subcommand(
      "check-config", "Validate a configuration file and print every error and piece of advice "
                      "(exit 1 on errors)");
  check->add_option("FILE [key=value ...]", checkArgs, "Configuration YAML, then overrides")
      ->required();

  std::vector<std::string> planArgs;
  auto* plan = app.add_subcommand(
      "plan", "Validate a configuration (default: built-in defaults) and print the training plan: "
              "ranks, devices, per-rank and BatchNorm batch sizes, backend");
  plan->add_option("[FILE] [key=value ...]", planArgs, "Configuration YAML and/or overrides");

  auto* defaults = app.add_subcommand("default-config", "Print the default configuration as YAML");

  CLI11_PARSE(app, argc, argv);

  std::string file;
  std::vector<std::string> overrides;
  if (*check) {
    if (!splitArguments(checkArgs, file, overrides, std::cerr)) return kExitUsage;
    if (file.empty()) {
      std::cerr << "error: check-config needs a configuration FILE\n";
      return kExitUsage;
    }
    return checkConfig(ctx, file, overrides);
  }
  if (*plan) {
    if (!splitArguments(planArgs, file, overrides, std::cerr)) return kExitUsage;
    std::cout << versionLine(probe) << "\n";
    return printPlan(ctx, file, overrides);
  }
  if (*defaults) return printDefaultConfig(ctx);
  return kExitUsage;
}
