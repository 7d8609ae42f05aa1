// syncbn-engine: the LibTorch side of SyncBN Studio, also usable headless.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string_view>

#include "common/version.h"
#include "dist/aten_cpu_capability.h"
#include "dist/openmp_wait.h"
#include "engine/commands.h"
#include "engine/devices.h"
#include "engine/diagnose_command.h"
#include "engine/export_command.h"
#include "engine/host_probe.h"
#include "engine/inference_commands.h"
#include "engine/recalibrate_command.h"
#include "engine/self_launch.h"
#include "engine/train_command.h"
#include "engine/verify_syncbn.h"

namespace {

std::string versionLine(const syncbn::engine::HostProbe& probe) {
  return std::string("syncbn-engine ") + syncbn::kVersion + " (LibTorch " + probe.torchVersion +
         ", CUDA devices: " + std::to_string(probe.facts.cudaDevices) +
         ", Gloo: " + (probe.glooAvailable ? "yes" : "no") +
         ", NCCL: " + (probe.ncclAvailable ? "yes" : "no") + ")";
}

// The commands that compute with LibTorch's threads for long choose OpenMP's wait policy
// (dist/openmp_wait.h): a 0.1 s look at the machine, and 0.4 s for a second start when they
// wait passively. The quick ones (check-config, --version, predict on a few images for the
// studio's preview, ...) do not.
bool computes(int argc, char** argv) {
  if (argc < 2) return false;
  const std::string_view command = argv[1];
  for (const std::string_view name : {"train", "val", "recalibrate", "verify-syncbn"})
    if (command == name) return true;
  return false;
}

}  // namespace

static int engineMain(int argc, char** argv) {
  using namespace syncbn::engine;
  // Before LibTorch's first kernel: ATen reads its choice once (dist/aten_cpu_capability.h).
  syncbn::dist::chooseAtenCpuCapability();
  if (computes(argc, argv)) {
    // The studio runs the engine with --progress-socket: its GUI shares the cores.
    bool withStudio = false;
    for (int i = 2; i < argc; ++i)
      withStudio = withStudio || std::string_view(argv[i]).rfind("--progress-socket", 0) == 0;
    syncbn::dist::chooseOpenMpWaiting(argv, withStudio);
  }
  const HostProbe probe = probeHost();
  const CommandContext ctx{probe.facts, std::cout, std::cerr};

  CLI::App app{
      "SyncBN Studio engine: multi-rank YOLO training with synchronized BatchNorm.\n"
      "Configuration keys follow Ultralytics; override any of them as key=value."};
  app.set_version_flag("--version", versionLine(probe));
  app.require_subcommand(1);

  std::vector<std::string> checkArgs;
  auto* check =
      app.add_subcommand("check-config",
                         "Validate a configuration file and print every error and piece of advice "
                         "(exit 1 on errors)");
  check->add_option("FILE [key=value ...]", checkArgs, "Configuration YAML, then overrides")
      ->required();

  std::vector<std::string> planArgs;
  auto* plan = app.add_subcommand(
      "plan",
      "Validate a configuration (default: built-in defaults) and print the training plan: "
      "ranks, devices, per-rank and BatchNorm batch sizes, backend");
  plan->add_option("[FILE] [key=value ...]", planArgs, "Configuration YAML and/or overrides");

  std::vector<std::string> modelArgs;
  auto* modelInfo = app.add_subcommand(
      "model-info",
      "Print the model's layers, parameters and GFLOPs at data.imgsz. Give a model "
      "(yolov8n.yaml..yolov8x.yaml, a model YAML, or starting weights such as yolov8n.pt, with "
      "what of them transfers) or a configuration (default: built-in defaults), then overrides");
  modelInfo->add_option("[CONFIG|MODEL] [key=value ...]", modelArgs,
                        "Configuration or model YAML and/or overrides");
  bool modelJson = false;
  modelInfo->add_flag("--json", modelJson,
                      "Print the summary, or the first error with its file and line, as JSON "
                      "(docs/engine-json.md)");

  auto* defaults = app.add_subcommand("default-config", "Print the default configuration as YAML");

  std::string dataFile;
  CheckDataOptions dataOptions;
  bool noCache = false;
  auto* checkDataCmd = app.add_subcommand(
      "check-data",
      "Verify a dataset (Ultralytics data.yaml): decode every image, parse every label; print "
      "each split's summary and every skipped file with its reason (exit 1 when unusable)");
  checkDataCmd
      ->add_option("DATA", dataFile,
                   "The dataset's data.yaml, or `demo` for the built-in demo dataset (generated "
                   "into ~/.cache/syncbn-studio on first use)")
      ->required();
  checkDataCmd->add_option("--workers", dataOptions.workers, "Threads (0: one per core, up to 8)")
      ->check(CLI::Range(0, 256));
  checkDataCmd->add_flag("--no-cache", noCache, "Neither read nor write the label cache");
  checkDataCmd
      ->add_option("--sample", dataOptions.sample,
                   "Verify only N images per split, drawn at random (a quick look at a very "
                   "large dataset; the cache is read, not written)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
  checkDataCmd->add_option("--seed", dataOptions.sampleSeed, "Random seed of --sample");
  checkDataCmd
      ->add_option("--max-image-pixels", dataOptions.maxImagePixels,
                   "Report images above this many pixels, refuse those above twice it unread "
                   "(data.max_image_pixels; 0: no limit)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000000}))
      ->capture_default_str();
  checkDataCmd->add_flag("--json", dataOptions.json,
                         "Print the report as JSON (docs/engine-json.md); progress lines go to "
                         "stderr");

  std::string demoDir;
  syncbn::data::DemoOptions demo;
  auto* demoCmd = app.add_subcommand(
      "make-demo-data",
      "Write the demo detection dataset (circles, rectangles, triangles on textured "
      "backgrounds) with its data.yaml into DIR");
  demoCmd->add_option("DIR", demoDir, "Folder to write (new, empty, or an earlier demo dataset)")
      ->required();
  demoCmd->add_option("--train", demo.train, "Train images")->check(CLI::Range(1, 1000000));
  demoCmd->add_option("--val", demo.val, "Val images")->check(CLI::Range(1, 1000000));
  demoCmd->add_option("--imgsz", demo.imgsz, "Image side in pixels")->check(CLI::Range(32, 4096));
  demoCmd->add_option("--seed", demo.seed, "Random seed");

  bool jsonDevices = false;
  auto* devicesCmd = app.add_subcommand(
      "devices",
      "List the devices training can use: each CUDA device's name, memory and compute "
      "capability or, without CUDA, the CPU (model, logical cores, memory); with the LibTorch "
      "version and backends");
  devicesCmd->add_flag("--json", jsonDevices, "Print JSON instead of text");

  VerifySyncBnOptions verify;
  syncbn::dist::LaunchOptions launch;
  bool worker = false;
  int timeoutSeconds = 60;
  auto* verifyCmd = app.add_subcommand(
      "verify-syncbn",
      "Check on real processes and the real backend that SyncBN over the ranks equals BatchNorm "
      "over the global batch. Starts --nproc-per-node ranks itself; also runs under "
      "`torchrun --no-python ... syncbn-engine verify-syncbn` or `srun ... --worker`");
  verifyCmd->add_option("--nproc-per-node", launch.nprocPerNode, "Ranks on this node")
      ->check(CLI::Range(1, 1024));
  verifyCmd->add_option("--nnodes", launch.nnodes, "Nodes taking part")->check(CLI::Range(1, 4096));
  verifyCmd->add_option("--node-rank", launch.nodeRank, "This node's index")
      ->check(CLI::NonNegativeNumber);
  verifyCmd->add_option("--master-addr", launch.masterAddr, "Address of node 0");
  verifyCmd
      ->add_option("--master-port", launch.masterPort,
                   "Rendezvous port on node 0 (default: a free port; required with --nnodes > 1)")
      ->check(CLI::Range(0, 65535));
  verifyCmd->add_option("--batch", verify.perRankBatch, "Images per rank")
      ->check(CLI::Range(1, 4096));
  verifyCmd->add_option("--timeout", timeoutSeconds, "Seconds a collective may wait")
      ->check(CLI::Range(1, 86400));
  verifyCmd->add_flag("--cuda", verify.cuda, "Use CUDA device LOCAL_RANK (NCCL)");
  verifyCmd->add_flag("--worker", worker, "This process is a rank (for srun)");

  std::string diagnoseDir;
  bool diagnoseJson = false;
  auto* diagnoseCmd = app.add_subcommand(
      "diagnose",
      "Why does the loss oscillate? The BatchNorm diagnosis of a run from its events.jsonl, "
      "finished or still training: normaliser noise and the ranks' disagreement, the images "
      "behind the statistics, the loss's oscillation, validation jumps. Exit 1 when it finds a "
      "problem, 2 when the record cannot be read");
  diagnoseCmd->add_option("RUN_DIR", diagnoseDir, "A run directory, or its events.jsonl")
      ->required();
  diagnoseCmd->add_flag("--json", diagnoseJson, "Print the verdict as JSON");

  TrainCommandOptions trainOptions;
  std::vector<std::string> trainArgs;
  auto* trainCmd = app.add_subcommand(
      "train",
      "Train the detector. Starts one rank per CUDA device (or distributed.cpu_ranks on the CPU) "
      "and supervises them; prints a progress bar on a terminal, plain lines otherwise, and ends "
      "with a line giving mAP50 and mAP50-95. Ctrl+C (SIGINT) or SIGTERM stops after the "
      "current iteration and saves weights/last.pt; resume with output.resume=true. Also runs "
      "under `torchrun --no-python ... syncbn-engine train` or `srun ... --worker`");
  trainCmd->add_option("[CONFIG] [key=value ...]", trainArgs,
                       "Configuration YAML (default: built-in defaults) and/or overrides");
  trainCmd->add_option("--events", trainOptions.eventsFile,
                       "Also append every progress event to FILE as JSON lines, as to the run "
                       "directory's events.jsonl (docs/protocol.md)");
  trainCmd->add_option("--progress-socket", trainOptions.progressSocket,
                       "Send progress events to the GUI's local socket PATH (the session token "
                       "comes from SYNCBN_SESSION_TOKEN). If it cannot be reached, the run goes "
                       "on with the events files and a warning");
  trainCmd->add_flag("--require-progress-socket", trainOptions.requireProgressSocket,
                     "Fail the run when the --progress-socket cannot be reached (the reason and "
                     "a failed `finished` still go to the events files)");
  trainCmd
      ->add_option("--bn-stats-every", trainOptions.bnStatsEvery,
                   "Iterations between BatchNorm statistics events (0: never)")
      ->check(CLI::Range(0, 1000000));
  trainCmd->add_flag("--worker", trainOptions.worker, "This process is a rank (for srun)");

  RecalibrateOptions recalibrateOptions;
  auto* recalibrateCmd = app.add_subcommand(
      "recalibrate",
      "PreciseBN for a checkpoint: recompute the BatchNorm running statistics of its EMA weights "
      "as the exact average over training batches (letterboxed, no augmentation, a fixed order), "
      "validate before and after (mAP50, mAP50-95), and write a new checkpoint atomically "
      "(default: next to the input as NAME-precise.pt; the input is never overwritten unless "
      "--output names it)");
  recalibrateCmd
      ->add_option("--weights", recalibrateOptions.weights, "The checkpoint (e.g. weights/last.pt)")
      ->required();
  recalibrateCmd
      ->add_option("--batches", recalibrateOptions.batches, "Training batches to average over")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  recalibrateCmd
      ->add_option("--batch", recalibrateOptions.batch,
                   "Images per batch (default: the run's train.batch)")
      ->check(CLI::Range(1, 65536));
  recalibrateCmd->add_option("--data", recalibrateOptions.data,
                             "A data.yaml or `demo` (default: the run's data.data)");
  recalibrateCmd->add_option("--output", recalibrateOptions.output,
                             "Where to write the checkpoint (default: NAME-precise.pt beside it)");
  recalibrateCmd
      ->add_option("--device", recalibrateOptions.device,
                   "auto (CUDA device 0 when there is one), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  recalibrateCmd->add_flag("--json", recalibrateOptions.json,
                           "Print a JSON object (input, output, layers, batches, before and "
                           "after metrics) instead of the report");

  ExportCommandOptions exportOptions;
  auto* exportCmd = app.add_subcommand(
      "export",
      "Export a checkpoint's EMA weights (norms folded into the convolutions) as ONNX or "
      "TorchScript, written atomically, then check the file in its own runtime (OpenCV DNN, "
      "torch::jit::load) against the engine on a real image: max |output0 difference| and the "
      "boxes after NMS");
  exportCmd
      ->add_option("--weights", exportOptions.request.weights, "The checkpoint (weights/best.pt)")
      ->required();
  exportCmd->add_option("--format", exportOptions.format, "onnx or torchscript")
      ->check(CLI::IsMember({"onnx", "torchscript"}))
      ->capture_default_str();
  exportCmd
      ->add_option("--imgsz", exportOptions.request.imgsz,
                   "Input height and width (default: the run's data.imgsz)")
      ->check(CLI::Range(32, 8192));
  exportCmd->add_option("--batch", exportOptions.request.batch, "Images per call")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  exportCmd->add_flag("--dynamic", exportOptions.request.dynamic,
                      "Dynamic batch and image size (TorchScript always is)");
  exportCmd->add_flag("--half", exportOptions.request.half,
                      "Float16 weights (half the file); computes in float32 on the CPU");
  exportCmd->add_option("--opset", exportOptions.request.opset, "ONNX opset, 12 to 17")
      ->check(CLI::Range(12, 17))
      ->capture_default_str();
  exportCmd->add_option("--output", exportOptions.request.output,
                        "The file to write (default: beside the weights, best.onnx or "
                        "best.torchscript)");
  exportCmd->add_option("--check-image", exportOptions.checkImage,
                        "The image the check runs on (default: the run's first val image)");
  bool noCheck = false;
  exportCmd->add_flag("--no-check", noCheck, "Skip the check in the file's runtime");
  exportCmd->add_flag("--json", exportOptions.json, "Print the result and check as JSON");

  ValOptions valOptions;
  auto* valCmd = app.add_subcommand(
      "val",
      "Validate weights (a checkpoint, or an exported ONNX or TorchScript file) with the "
      "metrics and table of training's validation");
  valCmd
      ->add_option("--weights", valOptions.weights,
                   "best.pt (this engine's or Ultralytics'), best.onnx or best.torchscript")
      ->required();
  valCmd->add_option("--data", valOptions.data,
                     "A data.yaml or `demo` (default: the checkpoint's; required for exports)");
  valCmd->add_option("--split", valOptions.split, "val or test")
      ->check(CLI::IsMember({"val", "test"}))
      ->capture_default_str();
  valCmd->add_option("--batch", valOptions.batch, "Images per batch")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  valCmd->add_option("--workers", valOptions.workers, "Threads preparing images")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  valCmd->add_flag("--json", valOptions.json, "Print the metrics as JSON");

  PredictOptions predictOptions;
  auto* predictCmd = app.add_subcommand(
      "predict",
      "Detect objects in images with any weights (checkpoint, ONNX, TorchScript): "
      "annotated images, and with --save-txt label files, in a new folder");
  predictCmd
      ->add_option("--weights", predictOptions.weights,
                   "best.pt (this engine's or Ultralytics'), best.onnx or best.torchscript")
      ->required();
  predictCmd->add_option("--source", predictOptions.sources, "Images or folders of images")
      ->required();
  predictCmd->add_option("--conf", predictOptions.conf, "Confidence threshold")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  predictCmd->add_option("--iou", predictOptions.iou, "NMS IoU threshold")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  predictCmd->add_flag("--save-txt", predictOptions.saveTxt,
                       "Also write labels/<image>.txt: class cx cy w h confidence, normalised");
  predictCmd->add_option("--project", predictOptions.project, "Parent folder of the results")
      ->capture_default_str();
  predictCmd->add_option("--name", predictOptions.name, "Results folder (numbered if it exists)")
      ->capture_default_str();
  predictCmd->add_flag("--json", predictOptions.json, "Print the detections as JSON");

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
  if (*modelInfo) {
    if (!splitArguments(modelArgs, file, overrides, std::cerr)) return kExitUsage;
    return printModelInfo(ctx, file, overrides, modelJson);
  }
  if (*defaults) return printDefaultConfig(ctx);
  if (*checkDataCmd) {
    dataOptions.useCache = !noCache;
    return checkData(ctx, dataFile, dataOptions);
  }
  if (*demoCmd) return makeDemoData(ctx, demoDir, demo);
  if (*trainCmd) {
    if (!splitArguments(trainArgs, trainOptions.file, trainOptions.overrides, std::cerr))
      return kExitUsage;
    return runTrainCommand(ctx, trainOptions, argc, argv);
  }
  if (*devicesCmd) return listDevicesCommand(std::cout, std::cerr, probe, jsonDevices);
  if (*recalibrateCmd) return recalibrate(ctx, recalibrateOptions);
  if (*diagnoseCmd) return diagnoseRun(ctx, diagnoseDir, diagnoseJson);
  if (*valCmd) return valCommand(ctx, valOptions);
  if (*predictCmd) return predictCommand(ctx, predictOptions);
  if (*exportCmd) {
    exportOptions.check = !noCheck;
    return exportCommand(ctx, exportOptions);
  }
  if (*verifyCmd) {
    if (!isRankProcess(worker)) {
      try {
        return launchThisCommandLine(argc, argv, launch);
      } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitUsage;
      }
    }
    try {
      verify.timeout = std::chrono::seconds(timeoutSeconds);
      return verifySyncBnWorker(verify, std::cout);
    } catch (const std::exception& e) {
      std::cerr << "error: verify-syncbn: " << e.what() << "\n";
      return kExitInvalid;
    }
  }
  return kExitUsage;
}

// Every command reports its own errors; this is the last line, so that nothing a command let
// through ends in std::terminate's abort (signal 6) instead of a message and exit 1.
int main(int argc, char** argv) {
  try {
    return engineMain(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return syncbn::engine::kExitInvalid;
  }
}
