// Training throughput of the real trainer (train::Trainer with the learning-rate schedule and, for
// norm=bn on several ranks, the buffer broadcast) on synthetic data: one table row per run.
//   bench_train [--model n] [--imgsz 320] [--batch 16] [--ranks 1] [--norm bn|syncbn]
//               [--iterations 20] [--warmup 3] [--device cpu|cuda] [--backend auto|gloo|nccl]
//               [--workers 2] [--bn-stats-every 0] [--layout auto|nchw] [--profile] [--csv]
//               [--no-header]
// OpenMP waits as the engine chooses (dist/openmp_wait.h), unless OMP_WAIT_POLICY is set, and
// ATen runs the kernels the engine chooses (dist/aten_cpu_capability.h), unless
// ATEN_CPU_CAPABILITY is set. --layout nchw keeps the model NCHW on the CPU, where the trainer
// makes it channels-last.
// Ranks are processes: with --ranks > 1 and no RANK in the environment this process launches them
// (as syncbn-engine does) and prints rank 0's row; the ranks' own output goes to stderr.
//
// images/s and step ms come from the wall time between the ends of consecutive iterations, so
// they include everything the loop does (waiting for the loader, hooks, the stop agreement). The
// shares split the trainer's per-rank timings: data = waiting for the batch, compute = forward,
// loss, backward and optimizer (SyncBN's collectives included), comm = waiting for the gradient
// all-reduce; mean over measured iterations and ranks of each, over the sum of the three.
//
// --bn-stats-every K adds the trainer's BnStatisticsHook (the BN statistics probe every K
// iterations and on the first; its message is built but goes nowhere); the row is then followed
// by a line with the probed iterations' mean step time, the others', and collect()'s mean time.
//
// --profile records every measured step with LibTorch's profiler (rank 0) and prints, after the
// row, the operators' self time per step (op_profile.h). The profiler's own cost is in that row's
// step times: read images/s from a run without it.
#include <torch/torch.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/topology.h"
#include "dist/aten_cpu_capability.h"
#include "dist/cpu_threads.h"
#include "dist/launcher.h"
#include "dist/openmp_wait.h"
#include "dist/process_group.h"
#include "op_profile.h"
#include "synthetic_example.h"
#include "train/trainer.h"
#include "train/training_hooks.h"

namespace {

using namespace syncbn;
using Clock = std::chrono::steady_clock;

// The launcher tells rank 0 where to leave its row (the launcher prefixes the ranks' output).
constexpr const char* kRowFileVariable = "SYNCBN_BENCH_TRAIN_ROW_FILE";

struct BenchOptions {
  std::string model = "n";
  int imgsz = 320;
  int batch = 16;  // global
  int ranks = 1;
  std::string norm = "bn";
  int iterations = 20;
  int warmup = 3;
  std::string device = "cpu";
  std::string backend = "auto";
  int workers = 2;
  int threads = 0;  // intra-op threads per rank; 0: the engine's equal share of the cores
  int bnStatsEvery = 0;
  std::string layout = "auto";  // the trainer's choice (channels-last on the CPU), or nchw
  bool profile = false;
  bool csv = false;
  bool noHeader = false;
};

// ----- synthetic data ---------------------------------------------------------------------------

// ----- measurement ------------------------------------------------------------------------------

struct Measurement {
  std::vector<double> periodSeconds;             // wall time, end of iteration i-1 to end of i
  std::vector<bool> probed;                      // whether the BN statistics probe ran in it
  double collectMs = 0;                          // sum of the probe's collect() times
  std::vector<double> trainerStepSeconds;        // the trainer's stepSeconds
  double dataMs = 0, computeMs = 0, commMs = 0;  // sums over measured iterations and ranks
};

// Records the measured iterations (those after `warmup`).
class ThroughputProbe final : public train::TrainerHook {
 public:
  ThroughputProbe(int warmup, Measurement& out, const train::BnStatisticsHook* bnStats)
      : warmup_(warmup), out_(out), bnStats_(bnStats) {}

  void afterStep(train::Trainer& trainer) override {
    const auto now = Clock::now();
    const train::TrainerState& state = trainer.state();
    if (state.iteration - 1 >= warmup_) {
      out_.periodSeconds.push_back(std::chrono::duration<double>(now - lastEnd_).count());
      const bool probed =
          bnStats_ != nullptr && bnStats_->lastProbedIteration() == state.iteration - 1;
      out_.probed.push_back(probed);
      if (probed) out_.collectMs += bnStats_->lastCollectMs();
      out_.trainerStepSeconds.push_back(state.stepSeconds);
      for (const train::RankStepReport& rank : state.ranks) {
        out_.dataMs += rank.dataMs;
        out_.computeMs += rank.computeMs;
        out_.commMs += rank.commMs;
      }
    }
    lastEnd_ = now;
  }

 private:
  int warmup_;
  Measurement& out_;
  const train::BnStatisticsHook* bnStats_;
  Clock::time_point lastEnd_ = Clock::now();
};

// Profiles the measured steps by operator: from before each step to after it, so that the loader's
// wait between steps and the hooks of other concerns stay out.
class OpProfileHook final : public train::TrainerHook {
 public:
  OpProfileHook(int warmup, bench::OpProfile& profile) : warmup_(warmup), profile_(profile) {}
  void beforeStep(train::Trainer& trainer) override {
    if (trainer.state().iteration >= warmup_) profile_.start();
  }
  void afterStep(train::Trainer&) override { profile_.stop(); }

 private:
  int warmup_;
  bench::OpProfile& profile_;
};

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (const double v : values)
    sum += v;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

std::string header(const BenchOptions& options) {
  if (options.csv)
    return "model,imgsz,ranks,norm,device,backend,batch,iterations,images_per_s,step_ms,"
           "trainer_step_ms,data_pct,compute_pct,comm_pct,small_sums\n";
  return "| model | imgsz | ranks | norm | device | images/s | step ms | data % | compute % | "
         "comm % |\n|---|---|---|---|---|---|---|---|---|---|\n";
}

// How SyncBN's small sums travelled: "shared-memory", "gloo", or "-" when there were none.
std::string smallSumTransport(const BenchOptions& options, const dist::ProcessGroup* group) {
  if (!group || options.norm != "syncbn") return "-";
  return group->smallSumsShareMemory() ? "shared-memory" : "gloo";
}

std::string row(const BenchOptions& options, Backend backend, const Measurement& m,
                const std::string& smallSums) {
  const double period = mean(m.periodSeconds);
  const double total = m.dataMs + m.computeMs + m.commMs;
  const auto share = [total](double part) { return total > 0 ? 100.0 * part / total : 0.0; };
  const std::string model = "yolov8" + options.model;
  char line[512];
  if (options.csv) {
    std::snprintf(line, sizeof line, "%s,%d,%d,%s,%s,%s,%d,%d,%.2f,%.1f,%.1f,%.1f,%.1f,%.1f,%s\n",
                  model.c_str(), options.imgsz, options.ranks, options.norm.c_str(),
                  options.device.c_str(),
                  options.ranks > 1 ? std::string(toString(backend)).c_str() : "-", options.batch,
                  options.iterations, options.batch / period, 1000 * period,
                  1000 * mean(m.trainerStepSeconds), share(m.dataMs), share(m.computeMs),
                  share(m.commMs), smallSums.c_str());
  } else {
    std::snprintf(line, sizeof line,
                  "| %s | %d | %d | %s | %s | %.2f | %.0f | %.1f | %.1f | %.1f |\n", model.c_str(),
                  options.imgsz, options.ranks, options.norm.c_str(), options.device.c_str(),
                  options.batch / period, 1000 * period, share(m.dataMs), share(m.computeMs),
                  share(m.commMs));
  }
  std::string out = line;
  if (options.bnStatsEvery > 0) {
    double probedSum = 0, otherSum = 0;
    int probed = 0, other = 0;
    for (std::size_t i = 0; i < m.periodSeconds.size(); ++i) {
      (m.probed[i] ? probedSum : otherSum) += m.periodSeconds[i];
      ++(m.probed[i] ? probed : other);
    }
    const auto perStep = [](double sum, int n) { return n > 0 ? 1000 * sum / n : 0.0; };
    std::snprintf(line, sizeof line,
                  "bn_stats every %d: %d of %zu measured iterations probed, step %.1f ms "
                  "probed vs %.1f ms not, collect() %.2f ms\n",
                  options.bnStatsEvery, probed, m.periodSeconds.size(), perStep(probedSum, probed),
                  perStep(otherSum, other), probed > 0 ? m.collectMs / probed : 0.0);
    out += line;
  }
  return out;
}

// ----- one rank ---------------------------------------------------------------------------------

// Auto: NCCL when every rank has a CUDA device of its own, else Gloo (NCCL refuses two ranks on
// one device).
Backend chooseBackend(const BenchOptions& options, int cudaDevices) {
  const bool cuda = options.device == "cuda";
  const bool shared = cuda && options.ranks > cudaDevices;
  const Backend asked = *parseBackend(options.backend);
  if (asked == Backend::Nccl && !cuda)
    throw std::invalid_argument("--backend nccl needs --device cuda");
  if (asked == Backend::Nccl && shared)
    throw std::invalid_argument("--backend nccl: " + std::to_string(options.ranks) +
                                " ranks share " + std::to_string(cudaDevices) +
                                " CUDA device(s) and NCCL needs one per rank; use gloo");
  if (asked != Backend::Auto) return asked;
  return cuda && !shared ? Backend::Nccl : Backend::Gloo;
}

// A folder for the run (the trainer wants one; without checkpoint hooks nothing is written).
struct TemporaryDirectory {
  std::filesystem::path path;
  TemporaryDirectory()
      : path(std::filesystem::temp_directory_path() /
             ("bench_train-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~TemporaryDirectory() {
    std::error_code ignored;  // a leftover empty folder in /tmp is no reason to fail the run
    std::filesystem::remove_all(path, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
};

int runRank(const BenchOptions& options) {
  dist::Rendezvous rendezvous = dist::Rendezvous::fromEnvironment();
  if (rendezvous.worldSize != options.ranks)
    throw std::invalid_argument("WORLD_SIZE is " + std::to_string(rendezvous.worldSize) +
                                ", --ranks " + std::to_string(options.ranks));
  const bool cuda = options.device == "cuda";
  int cudaDevices = 0;
  if (cuda) {
    if (!torch::cuda::is_available())
      throw std::invalid_argument("--device cuda: no CUDA device is available");
    cudaDevices = static_cast<int>(torch::cuda::device_count());
  } else {
    // As the engine does (run_builder.cpp): an equal share of the cores that other programs left
    // free at start, for each rank, in LibTorch's and OpenBLAS's thread pools.
    dist::useCpuThreads(options.threads > 0 ? options.threads
                                            : dist::cpuThreadsPerRank(
                                                  options.ranks, dist::othersBusyCoresAtStart()));
  }

  Config config;
  config.data.imgsz = options.imgsz;
  config.model.model = "yolov8" + options.model + ".yaml";
  config.train.batch = options.batch;
  config.train.epochs = 1;
  config.train.workers = options.workers;
  config.train.amp = cuda;
  config.train.deterministic = false;
  config.distributed.norm = *parseNormKind(options.norm);
  config.distributed.cpu_ranks = options.ranks;
  config.distributed.backend = *parseBackend(options.backend);

  Topology topology;
  topology.cuda = cuda;
  for (int local = 0; cuda && local < options.ranks; ++local)
    topology.cudaDeviceIds.push_back(local % cudaDevices);
  topology.ranksPerNode = options.ranks;
  topology.worldSize = options.ranks;
  topology.backend = chooseBackend(options, cudaDevices);
  topology.perRankBatch = options.batch / options.ranks;
  topology.bnBatch =
      config.distributed.norm == NormKind::SyncBatchNorm ? options.batch : topology.perRankBatch;
  topology.accumulate =
      std::max(static_cast<int>(std::lround(double(config.train.nbs) / options.batch)), 1);

  const c10::Device device =
      cuda ? c10::Device(c10::kCUDA,
                         static_cast<c10::DeviceIndex>(rendezvous.localRank % cudaDevices))
           : c10::Device(c10::kCPU);
  std::shared_ptr<dist::ProcessGroup> group;
  if (options.ranks > 1) {
    rendezvous.timeout = std::chrono::minutes(10);
    group = dist::ProcessGroup::create(dist::Store::tcp(rendezvous), rendezvous.rank,
                                       rendezvous.worldSize, topology.backend, cuda,
                                       rendezvous.timeout);
  }

  const int iterations = options.warmup + options.iterations;
  train::TrainingData data;
  const int imgsz = options.imgsz;
  data.trainExamples = [imgsz](std::size_t index, int epoch) {
    return bench::syntheticExample(index, epoch, imgsz);
  };
  data.trainCount = static_cast<std::size_t>(options.batch) * static_cast<std::size_t>(iterations);
  data.valCount = 0;
  data.classNames = {"a", "b", "c"};
  data.datasetHash = "bench_train";

  const TemporaryDirectory runDir;
  train::TrainerOptions trainerOptions;
  trainerOptions.config = config;
  trainerOptions.topology = topology;
  trainerOptions.rank = rendezvous.rank;
  trainerOptions.device = device;
  trainerOptions.runDir = runDir.path;
  trainerOptions.validate = false;
  trainerOptions.bnStatsEvery = 0;
  trainerOptions.channelsLastOnCpu = options.layout != "nchw";

  // Polled once per iteration, after its step.
  int polled = 0;
  const train::RequestSource requests = [&polled, iterations] {
    train::LocalRequests local;
    local.stop = ++polled >= iterations;
    if (local.stop) local.stopReason = "benchmark complete";
    return local;
  };

  Measurement measurement;
  train::Trainer trainer(trainerOptions, data, group, nullptr, requests);
  trainer.addHook(std::make_unique<train::LearningRateHook>());
  if (config.distributed.norm == NormKind::BatchNorm && options.ranks > 1)
    trainer.addHook(std::make_unique<train::BufferBroadcastHook>());
  trainer.addHook(std::make_unique<train::EmaHook>(trainer.model()));  // part of every real step
  train::BnStatisticsHook* bnStats = nullptr;
  if (options.bnStatsEvery > 0) {
    auto hook = std::make_unique<train::BnStatisticsHook>(options.bnStatsEvery);
    bnStats = hook.get();
    trainer.addHook(std::move(hook));
  }
  trainer.addHook(std::make_unique<ThroughputProbe>(options.warmup, measurement, bnStats));
  bench::OpProfile profile;
  if (options.profile && rendezvous.rank == 0)
    trainer.addHook(std::make_unique<OpProfileHook>(options.warmup, profile));
  trainer.train();

  if (measurement.periodSeconds.size() != static_cast<std::size_t>(options.iterations))
    throw std::runtime_error("measured " + std::to_string(measurement.periodSeconds.size()) +
                             " iterations, expected " + std::to_string(options.iterations));
  if (rendezvous.rank != 0) return 0;
  std::string line =
      row(options, topology.backend, measurement, smallSumTransport(options, group.get()));
  if (options.profile) {
    char title[256];
    std::snprintf(title, sizeof title,
                  "\nOperators by self time, rank 0, mean of %d measured steps (step %.0f ms with "
                  "the profiler on):\n\n",
                  options.iterations, 1000 * mean(measurement.periodSeconds));
    line += title + profile.table(30, options.iterations);
  }
  if (const char* rowFile = std::getenv(kRowFileVariable)) {
    std::ofstream out(rowFile);
    out << line;
    if (!out.flush()) throw std::runtime_error(std::string("cannot write ") + rowFile);
  } else {
    std::cout << (options.noHeader ? "" : header(options)) << line << std::flush;
  }
  return 0;
}

// ----- the launcher -----------------------------------------------------------------------------

// Starts --ranks copies of this command line, then prints rank 0's row.
int launchRanks(const BenchOptions& options, int argc, char** argv) {
  const std::filesystem::path rowFile = std::filesystem::temp_directory_path() /
                                        ("bench_train-" + std::to_string(::getpid()) + ".row");
  dist::LaunchOptions launch;
  launch.command.assign(argv, argv + argc);
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) launch.command[0] = self.string();
  launch.nprocPerNode = options.ranks;
  launch.extraEnvironment = {{kRowFileVariable, rowFile.string()}};
  const dist::LaunchResult result = dist::launch(launch, std::cerr);
  if (result.exitCode != 0) {
    std::cerr << "bench_train: "
              << (result.firstFailure
                      ? result.firstFailure->describe()
                      : "interrupted (exit " + std::to_string(result.exitCode) + ")")
              << "\n";
    std::filesystem::remove(rowFile, ec);
    return result.exitCode;
  }
  std::ifstream in(rowFile);
  std::stringstream line;
  line << in.rdbuf();
  std::filesystem::remove(rowFile, ec);
  if (line.str().empty()) {
    std::cerr << "bench_train: rank 0 left no result in " << rowFile << "\n";
    return 1;
  }
  std::cout << (options.noHeader ? "" : header(options)) << line.str() << std::flush;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The engine's choice of OpenMP wait policy, so the rows are what training gets; set
  // OMP_WAIT_POLICY (or SYNCBN_OPENMP_WAIT=default for libgomp's default) to measure another.
  dist::chooseOpenMpWaiting(argv, false);
  // And its ATen kernels; ATEN_CPU_CAPABILITY=avx2 measures the other build.
  dist::chooseAtenCpuCapability();
  BenchOptions options;
  CLI::App app{"Training throughput of the real trainer on synthetic data"};
  app.add_option("--model", options.model, "YOLOv8 scale")
      ->check(CLI::IsMember({"n", "s", "m", "l", "x"}))
      ->capture_default_str();
  app.add_option("--imgsz", options.imgsz, "Image side in pixels (a multiple of 32)")
      ->check(CLI::Range(32, 4096))
      ->capture_default_str();
  app.add_option("--batch", options.batch, "Global batch, split evenly over the ranks")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--ranks", options.ranks, "Processes")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--norm", options.norm, "BatchNorm per rank or synchronized")
      ->check(CLI::IsMember({"bn", "syncbn"}))
      ->capture_default_str();
  app.add_option("--iterations", options.iterations, "Measured iterations")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--warmup", options.warmup, "Iterations run before measuring")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--device", options.device, "cpu, or cuda (rank r on device LOCAL_RANK % count)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--backend", options.backend, "auto: nccl with a CUDA device per rank, else gloo")
      ->check(CLI::IsMember({"auto", "gloo", "nccl"}))
      ->capture_default_str();
  app.add_option("--workers", options.workers, "Loader threads per rank")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  app.add_option("--threads", options.threads,
                 "Intra-op threads per rank (0: an equal share of the cores, as the engine)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--bn-stats-every", options.bnStatsEvery,
                 "Run the BN statistics probe every K iterations (0: never)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--layout", options.layout,
                 "auto: the trainer's (channels-last on the CPU); nchw: NCHW everywhere (A/B)")
      ->check(CLI::IsMember({"auto", "nchw"}))
      ->capture_default_str();
  app.add_flag("--profile", options.profile,
               "Also print the measured steps' operators by self time (LibTorch's profiler)");
  app.add_flag("--csv", options.csv, "CSV instead of a Markdown table");
  app.add_flag("--no-header", options.noHeader, "Only the row (for loops over configurations)");
  CLI11_PARSE(app, argc, argv);
  if (options.imgsz % 32 != 0) {
    std::cerr << "bench_train: --imgsz " << options.imgsz << " is not a multiple of 32\n";
    return 2;
  }
  if (options.batch % options.ranks != 0) {
    std::cerr << "bench_train: --batch " << options.batch << " does not split evenly over "
              << options.ranks << " ranks\n";
    return 2;
  }

  const bool rankProcess = std::getenv("RANK") != nullptr;
  // Sampled once, before any rank starts, as the engine's main() does; the ranks inherit it.
  if (!rankProcess) dist::othersBusyCoresAtStart();
  try {
    if (options.ranks > 1 && !rankProcess) return launchRanks(options, argc, argv);
    return runRank(options);
  } catch (const std::exception& error) {
    const char* rank = std::getenv("RANK");
    std::cerr << "bench_train: error" << (rank ? std::string(" on rank ") + rank : "") << ": "
              << error.what() << "\n";
    return 1;
  }
}
