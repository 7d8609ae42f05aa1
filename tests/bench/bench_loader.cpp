// BatchLoader throughput: images per second one rank's loader delivers to a consumer that does
// nothing else, for several worker counts, next to the producer alone on one thread (the ceiling
// per worker) and the share of a batch spent collating (HWC -> CHW, targets).
//   bench_loader [--images N (256)] [--batch B (16)] [--size S (640)] [--workers 1,2,4]
//                [--prefetch P (4)] [--work-ms MS (0)] [--data DATA.yaml [--mosaic P (1)]
//                [--cache-mb MB (0)]]
// The synthetic producer allocates an S x S RGB image and fills every byte from a xorshift stream
// (the memory traffic of a decode); --work-ms adds that much busy work per image to stand in for
// JPEG decoding and augmentation. Prints a Markdown table (docs/benchmarks.md).
//
// --data measures the real pipeline instead: the data.yaml's train split, verified, then decoded
// and augmented with Ultralytics' default hyperparameters (mosaic on unless --mosaic 0) at --size.
// --cache-mb gives the factory a decoded-image cache of that size (the engine's data.cache_mb),
// filled by one pass over the dataset before anything is timed: the steady state of later epochs.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "data/augment.h"
#include "data/batch_loader.h"
#include "data/decoded_image_cache.h"
#include "data/verify.h"

namespace {

using syncbn::data::Batch;
using syncbn::data::BatchLoader;
using syncbn::data::DistributedSampler;
using syncbn::data::ExampleProducer;
using syncbn::data::LoaderOptions;
using syncbn::data::TrainingExample;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

ExampleProducer syntheticProducer(int size, double workMs) {
  return [size, workMs](std::size_t index, int epoch) {
    const auto start = Clock::now();
    TrainingExample example;
    example.index = index;
    example.height = size;
    example.width = size;
    example.rgb.resize(static_cast<std::size_t>(size) * static_cast<std::size_t>(size) * 3);
    uint64_t state = (index + 1) * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(epoch);
    for (uint8_t& byte : example.rgb) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      byte = static_cast<uint8_t>(state);
    }
    for (std::size_t j = 0; j < index % 8; ++j)
      example.labels.push_back({static_cast<int>(j), 0.5f, 0.5f, 0.1f, 0.1f});
    // Busy, not sleeping: decoding occupies a core.
    while (secondsSince(start) * 1e3 < workMs) {
    }
    return example;
  };
}

// One line per worker count: images/s through the loader over one epoch of datasetSize images,
// after a warm-up epoch, with the mean time next() blocked per batch.
void runLoaderBenchmark(const ExampleProducer& producer, std::size_t datasetSize, int batch,
                        const std::vector<int>& workersList, int prefetchBatches = 4) {
  // Ceiling: the producer alone on this thread.
  const std::size_t probe = std::min<std::size_t>(datasetSize, 32);
  std::vector<TrainingExample> examples;
  auto start = Clock::now();
  for (std::size_t i = 0; i < probe; ++i)
    examples.push_back(producer(i, 0));
  const double producerPerSecond = static_cast<double>(probe) / secondsSince(start);
  examples.resize(std::min<std::size_t>(examples.size(), static_cast<std::size_t>(batch)));
  const std::size_t collated = examples.size();
  start = Clock::now();
  constexpr int kCollations = 5;
  for (int r = 0; r < kCollations; ++r)
    syncbn::data::collateExamples(examples);
  const double collateMs = secondsSince(start) * 1e3 / kCollations;
  const TrainingExample& sample = examples.front();

  std::printf("%zu images of %dx%d, batch %d, prefetch %d batches, %u hardware threads\n",
              datasetSize, sample.height, sample.width, batch, prefetchBatches,
              std::thread::hardware_concurrency());
  std::printf("producer alone, one thread: %.1f images/s; collating %zu images: %.2f ms\n",
              producerPerSecond, collated, collateMs);
  std::printf("| workers | images/s | x one-thread producer | mean wait per batch (ms) |\n");
  std::printf("|---|---|---|---|\n");
  for (const int workers : workersList) {
    BatchLoader loader(producer, DistributedSampler(datasetSize, 1, 0, true, 0), batch,
                       LoaderOptions{.workers = workers, .prefetchBatches = prefetchBatches});
    for (int epoch = 0; epoch < 2; ++epoch) {  // epoch 0 warms up the allocator and the threads
      loader.start(epoch);
      std::size_t images = 0;
      double waitMs = 0;
      int batches = 0;
      start = Clock::now();
      while (std::optional<Batch> next = loader.next()) {
        images += next->indices.size();
        waitMs += next->waitMs;
        ++batches;
      }
      const double seconds = secondsSince(start);
      if (epoch == 0) continue;
      const double perSecond = static_cast<double>(images) / seconds;
      std::printf("| %d | %.1f | %.2f | %.1f |\n", workers, perSecond,
                  perSecond / producerPerSecond, batches > 0 ? waitMs / batches : 0.0);
      std::fflush(stdout);
    }
  }
}

std::vector<int> parseList(const std::string& text) {
  std::vector<int> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ','))
    values.push_back(std::stoi(item));
  if (values.empty()) throw std::invalid_argument("--workers: empty list");
  return values;
}

}  // namespace

int main(int argc, char** argv) try {
  std::size_t images = 256;
  int batch = 16;
  int size = 640;
  int prefetch = 4;
  double workMs = 0;
  std::string data;
  double mosaic = 1.0;
  int cacheMb = 0;
  std::vector<int> workers{1, 2, 4};
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(option + ": missing value");
    const std::string value = argv[++i];
    if (option == "--images")
      images = std::stoul(value);
    else if (option == "--batch")
      batch = std::stoi(value);
    else if (option == "--size")
      size = std::stoi(value);
    else if (option == "--workers")
      workers = parseList(value);
    else if (option == "--prefetch")
      prefetch = std::stoi(value);
    else if (option == "--work-ms")
      workMs = std::stod(value);
    else if (option == "--data")
      data = value;
    else if (option == "--mosaic")
      mosaic = std::stod(value);
    else if (option == "--cache-mb")
      cacheMb = std::stoi(value);
    else
      throw std::invalid_argument("unknown option " + option);
  }
  // The loader's workers are the parallelism; torch's intra-op threads would compete with them.
  torch::set_num_threads(1);
  if (data.empty()) {
    runLoaderBenchmark(syntheticProducer(size, workMs), images, batch, workers, prefetch);
    return 0;
  }
  const syncbn::data::DatasetReport report = syncbn::data::verifyDataset(data);
  syncbn::Config config;
  config.data.imgsz = size;
  config.train.mosaic = mosaic;
  const auto cache =
      cacheMb > 0 ? std::make_shared<syncbn::data::DecodedImageCache>(std::size_t(cacheMb) << 20)
                  : nullptr;
  const syncbn::data::ExampleFactory factory(
      report.splits.front().samples, syncbn::data::AugmentSettings::fromConfig(config), cache);
  std::printf("%s, train split, Ultralytics' default augmentation (mosaic %.1f)\n", data.c_str(),
              config.train.mosaic);
  if (cache) {
    for (std::size_t i = 0; i < std::min(images, factory.size()); ++i)
      (void)factory.training(i, 0);
    const auto stats = cache->stats();
    std::printf("decoded-image cache of %d MiB, warmed: %zu images, %.1f MiB\n", cacheMb,
                stats.images, static_cast<double>(stats.bytes) / (1 << 20));
  }
  runLoaderBenchmark([&](std::size_t i, int epoch) { return factory.training(i, epoch); },
                     std::min(images, factory.size()), batch, workers, prefetch);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_loader: %s\n", e.what());
  return 2;
}
