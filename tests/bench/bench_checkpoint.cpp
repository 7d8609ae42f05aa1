// What a checkpoint costs: its size and the time to save it, for YOLOv8 n and x (or any scale)
// with an AdamW state after one step, as the trainer saves them (docs/benchmarks.md).
//   bench_checkpoint [scales (default "n,x")] [repetitions (default 3)] [folder (default /tmp)]
// Rows:
//   full      everything in one file, gradients included: what last.pt and best.pt both were
//             before issue 16 (the training state with the gradients always saved)
//   last.pt   the training state, gradients only between optimizer steps (none here)
//   best.pt   the EMA weights for inference, float32 and float16
// Columns: the file's size, the training thread's cost (the snapshot: copying the tensors out),
// the background write (serialise, checksum, write, fsync, rename), and their sum, which is
// what a synchronous save cost. Best of the repetitions.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "model/detection_model.h"
#include "train/checkpoint_file.h"
#include "train/training_state.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using syncbn::train::CheckpointMeta;
using syncbn::train::CheckpointParts;
using syncbn::train::CheckpointSnapshot;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Row {
  double snapshot = 1e9, write = 1e9;
  std::uintmax_t bytes = 0;
};

template <typename Snapshot>
Row measure(Snapshot take, const fs::path& file, int repetitions) {
  Row row;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = Clock::now();
    const CheckpointSnapshot snapshot = take();
    const double snapshotSeconds = secondsSince(start);
    const auto writing = Clock::now();
    syncbn::train::writeCheckpoint(file, snapshot);
    row.write = std::min(row.write, secondsSince(writing));
    row.snapshot = std::min(row.snapshot, snapshotSeconds);
  }
  row.bytes = fs::file_size(file);
  fs::remove(file);
  return row;
}

void print(const std::string& scale, const char* what, const Row& row) {
  std::printf("| %s | %s | %.1f MB | %.0f ms | %.0f ms | %.0f ms |\n", scale.c_str(), what,
              static_cast<double>(row.bytes) / 1e6, row.snapshot * 1e3, row.write * 1e3,
              (row.snapshot + row.write) * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> scales{"n", "x"};
  if (argc > 1) {
    scales.clear();
    std::stringstream list(argv[1]);
    for (std::string scale; std::getline(list, scale, ',');)
      scales.push_back(scale);
  }
  const int repetitions = argc > 2 ? std::max(1, std::stoi(argv[2])) : 3;
  const fs::path folder = argc > 3 ? fs::path(argv[3]) : fs::temp_directory_path();
  std::printf("checkpoints in %s, best of %d, %d intra-op thread(s)\n\n", folder.c_str(),
              repetitions, torch::get_num_threads());
  std::printf("| scale | file | size | snapshot (training thread) | write (background) | both |\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  for (const std::string& scale : scales) {
    torch::manual_seed(0);
    auto model = syncbn::model::buildDetectionModel("yolov8.yaml", scale, 80);
    auto ema = syncbn::model::buildDetectionModel("yolov8.yaml", scale, 80);
    torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
    // One step, so the optimizer holds its moments, as it does from the first step on.
    model->train();
    const torch::Tensor images = torch::rand({1, 3, 64, 64});
    torch::Tensor loss = torch::zeros({});
    for (const auto& level : model->forwardLevels(images))
      loss = loss + level.square().mean();
    loss.backward();
    optimizer.step();

    CheckpointMeta meta;
    meta.kind = "last";
    meta.names = std::vector<std::string>(80, "class");
    meta.modelYaml = model->definition().yamlText;
    meta.modelName = model->definition().name;
    meta.modelScale = scale;
    meta.imgsz = 640;
    const fs::path file = folder / ("bench_checkpoint_" + scale + ".pt");

    const CheckpointParts full{model.get(), ema.get(), &optimizer, /*gradients=*/true};
    print(scale, "full (before)",
          measure([&] { return syncbn::train::snapshotTrainingCheckpoint(full, meta); }, file,
                  repetitions));
    // After a step the gradients are zero: last.pt leaves them out.
    optimizer.zero_grad();
    for (auto& parameter : model->parameters())
      parameter.mutable_grad() = torch::Tensor();
    const CheckpointParts last{model.get(), ema.get(), &optimizer, /*gradients=*/false};
    print(scale, "last.pt",
          measure([&] { return syncbn::train::snapshotTrainingCheckpoint(last, meta); }, file,
                  repetitions));
    meta.kind = "best";
    for (const auto precision :
         {syncbn::train::WeightPrecision::Float32, syncbn::train::WeightPrecision::Float16})
      print(scale,
            precision == syncbn::train::WeightPrecision::Float32 ? "best.pt" : "best.pt (fp16)",
            measure(
                [&] {
                  return syncbn::train::snapshotInferenceCheckpoint(*ema, true, meta, precision);
                },
                file, repetitions));
  }
  return 0;
}
