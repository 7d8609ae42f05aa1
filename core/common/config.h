// The one configuration model shared by syncbn-studio and syncbn-engine (no torch, no Qt).
// Key names and defaults follow Ultralytics wherever Ultralytics has the key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace syncbn {

// How BatchNorm layers are realised across ranks.
enum class NormKind {
  BatchNorm,       // "bn": per-rank statistics (plain BN, what DDP does by default)
  SyncBatchNorm,   // "syncbn": statistics all-reduced over every rank
  GroupNorm,       // "groupnorm": batch-independent normalisation
  FrozenBatchNorm  // "frozen": running statistics only, never updated
};

enum class Backend { Auto, Nccl, Gloo };

std::string_view toString(NormKind norm);
std::string_view toString(Backend backend);
std::optional<NormKind> parseNormKind(std::string_view text);
std::optional<Backend> parseBackend(std::string_view text);

struct DataConfig {
  std::string data =
      "demo";  // path to an Ultralytics data.yaml, or "demo" (built-in synthetic set)
  int imgsz = 640;
  // Images above this many pixels are reported, above twice it refused before decoding (Pillow's
  // decompression-bomb rule and default); 0: no limit.
  int max_image_pixels = 89478485;
  // MiB of RAM per rank for decoded, resized images, so that each is decoded once (0: decode on
  // every use). Capped by the engine at a quarter of the memory available, shared by the ranks.
  int cache_mb = 1024;
  bool operator==(const DataConfig&) const = default;
};

struct ModelConfig {
  // Built-in yolov8{n,s,m,l,x}.yaml, a model YAML path, or starting weights: an Ultralytics
  // checkpoint or a run's best.pt (a .pt file: the model is the file's, fine-tuned).
  std::string model = "yolov8n.yaml";
  std::string scale;  // n/s/m/l/x; empty: taken from the model file name (or the weights')
  bool operator==(const ModelConfig&) const = default;
};

struct TrainConfig {
  int epochs = 100;
  int batch = 16;  // global batch, split evenly across ranks
  std::string optimizer = "auto";
  double lr0 = 0.01;
  double lrf = 0.01;
  bool cos_lr = false;  // cosine instead of linear decay from lr0 to lr0 * lrf
  double momentum = 0.937;
  double weight_decay = 0.0005;
  double warmup_epochs = 3.0;
  double warmup_momentum = 0.8;
  double warmup_bias_lr = 0.1;
  int nbs = 64;  // nominal batch: gradients are accumulated up to it
  bool amp = true;
  int seed = 0;
  bool deterministic = true;
  int workers = 8;
  int close_mosaic = 10;
  int patience = 100;
  double hsv_h = 0.015;
  double hsv_s = 0.7;
  double hsv_v = 0.4;
  double degrees = 0.0;
  double translate = 0.1;
  double scale = 0.5;
  double shear = 0.0;
  double fliplr = 0.5;
  double mosaic = 1.0;
  bool augment = true;  // false: training images are only letterboxed, like validation's
  int freeze = 0;  // fine-tuning: layers model.0 .. model.N-1 do not train (Ultralytics' freeze)
  bool operator==(const TrainConfig&) const = default;
};

struct DistributedConfig {
  std::string device;  // "" auto (all CUDA devices, else CPU), "cpu", or CUDA ids "0,1,2"
  int cpu_ranks = 1;   // processes per node when training on the CPU
  // Intra-op threads per CPU rank; 0: the rank's share of the cores other programs left free
  // when the run started (dist/cpu_threads.h).
  int cpu_threads = 0;
  Backend backend = Backend::Auto;
  NormKind norm = NormKind::BatchNorm;
  int precise_bn = 0;  // batches for PreciseBN recalibration before validation; 0 = off
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int timeout = 1800;  // seconds a collective may wait before the run fails
  bool operator==(const DistributedConfig&) const = default;
};

struct OutputConfig {
  std::string project = "runs/train";
  std::string name = "exp";
  bool exist_ok = false;
  int checkpoint_interval = 0;  // iterations between checkpoints; 0 = at epoch end only
  bool resume = false;          // continue the run in project/name from its weights/last.pt
  bool tensorboard = true;      // TensorBoard event files in the run dir's tb/
  bool best_fp16 = false;       // best.pt's weights in float16 (half the file)
  bool operator==(const OutputConfig&) const = default;
};

// Whether `model` (model.model) names starting weights (a .pt or .pth file) rather than a model
// definition, as Ultralytics tells `yolo train model=yolov8n.pt` from `model=yolov8n.yaml`.
bool isWeightsFile(const std::string& model);

struct Config {
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  DistributedConfig distributed;
  OutputConfig output;
  bool operator==(const Config&) const = default;
};

}  // namespace syncbn
