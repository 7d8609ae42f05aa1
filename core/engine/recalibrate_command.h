// `syncbn-engine recalibrate --weights CKPT`: PreciseBN as a command. The EMA weights of a
// checkpoint get exact BatchNorm running statistics (nn::recalibrateBatchNorm) over training
// batches, letterboxed without augmentation in a fixed order; the EMA is validated before and
// after; the result is a new checkpoint, written atomically, with everything else unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/commands.h"

namespace syncbn::engine {

struct RecalibrateOptions {
  std::filesystem::path weights;  // the checkpoint (last.pt, best.pt, ...)
  int batches = 100;              // training batches to average over
  int batch = 0;                  // images per batch; 0: the run's train.batch
  std::string data;               // a data.yaml or `demo`; empty: the run's data.data
  std::filesystem::path output;   // empty: <weights' folder>/<stem>-precise.pt
  std::string device = "auto";    // auto (CUDA device 0 when there is one), cpu or cuda
  bool json = false;              // print one JSON object instead of the report
};

// The checkpoint written when --output is not given: `dir/last.pt` -> `dir/last-precise.pt`.
std::filesystem::path defaultRecalibratedPath(const std::filesystem::path& weights);

// Which training images recalibration batch k (0-based) holds: with S = floor(n / batch) batches
// per pass (n the usable training images; batch is at most n), pass p = k / S uses the order
// data::DistributedSampler(n, 1, 0, shuffle, train.seed + 7919).indices(p), and batch k its
// positions [(k mod S) * batch, (k mod S + 1) * batch). The same seed as PreciseBN before
// validation in training uses.
std::vector<std::vector<std::size_t>> recalibrationBatches(std::size_t images, int batches,
                                                           int batch, std::uint64_t trainSeed);

// Exit 0 after writing the checkpoint; 1 (nothing written) when the checkpoint, the dataset or
// the output cannot be used, each error naming its file; 2 for options out of range.
int recalibrate(const CommandContext& ctx, const RecalibrateOptions& options);

}  // namespace syncbn::engine
