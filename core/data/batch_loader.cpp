#include "data/batch_loader.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <utility>

namespace syncbn::data {
namespace {

std::string sizeText(const TrainingExample& example) {
  return std::to_string(example.height) + "x" + std::to_string(example.width);
}

// Runs the producer for one index; any failure becomes a LoaderError naming index and epoch.
TrainingExample makeExample(const ExampleProducer& producer, std::size_t index, int epoch) {
  const auto fail = [&](const std::string& reason) {
    return LoaderError("data loader: dataset index " + std::to_string(index) + " (epoch " +
                           std::to_string(epoch) + "): " + reason,
                       {index});
  };
  TrainingExample example;
  try {
    example = producer(index, epoch);
  } catch (const std::exception& e) {
    throw fail(e.what());
  } catch (...) {
    throw fail("unknown exception");
  }
  // A mismatch means the producer mixed up its work; the batch would carry wrong labels.
  if (example.index != index)
    throw fail("the producer returned the example of index " + std::to_string(example.index));
  return example;
}

}  // namespace

LoaderError::LoaderError(const std::string& message, std::vector<std::size_t> indices)
    : std::runtime_error(message), indices_(std::move(indices)) {}

Batch collateExamples(std::vector<TrainingExample> examples, bool pinned) {
  if (examples.empty()) throw LoaderError("data loader: a batch needs at least one example", {});
  const int height = examples.front().height;
  const int width = examples.front().width;
  std::vector<std::size_t> mismatched;
  std::ostringstream sizes;
  for (const TrainingExample& example : examples) {
    const auto bytes = static_cast<std::size_t>(std::max(example.height, 0)) *
                       static_cast<std::size_t>(std::max(example.width, 0)) * 3;
    if (example.height <= 0 || example.width <= 0 || example.rgb.size() != bytes)
      throw LoaderError("data loader: dataset index " + std::to_string(example.index) +
                            ": image of " + sizeText(example) + " (height x width) holds " +
                            std::to_string(example.rgb.size()) + " bytes, not height*width*3",
                        {example.index});
    if (example.height != height || example.width != width) {
      mismatched.push_back(example.index);
      sizes << ", index " << example.index << " is " << sizeText(example);
    }
  }
  if (!mismatched.empty()) {
    mismatched.insert(mismatched.begin(), examples.front().index);
    throw LoaderError(
        "data loader: images in one batch must have one size (height x width): "
        "index " +
            std::to_string(examples.front().index) + " is " + sizeText(examples.front()) +
            sizes.str(),
        std::move(mismatched));
  }

  const auto n = static_cast<int64_t>(examples.size());
  const auto plane = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
  Batch batch;
  batch.images = torch::empty({n, 3, height, width},
                              torch::TensorOptions(torch::kUInt8).pinned_memory(pinned));
  std::size_t rows = 0;
  for (const TrainingExample& example : examples)
    rows += example.labels.size();
  batch.targets = torch::empty({static_cast<int64_t>(rows), 6},
                               torch::TensorOptions(torch::kFloat32).pinned_memory(pinned));

  uint8_t* image = batch.images.data_ptr<uint8_t>();
  float* target = batch.targets.data_ptr<float>();
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const TrainingExample& example = examples[i];
    // HWC -> CHW: one pass over the interleaved bytes, three planes written.
    const uint8_t* rgb = example.rgb.data();
    uint8_t* red = image + i * 3 * plane;
    uint8_t* green = red + plane;
    uint8_t* blue = green + plane;
    for (std::size_t p = 0; p < plane; ++p) {
      red[p] = rgb[3 * p];
      green[p] = rgb[3 * p + 1];
      blue[p] = rgb[3 * p + 2];
    }
    for (const LabelRow& row : example.labels) {
      *target++ = static_cast<float>(i);
      *target++ = static_cast<float>(row.cls);
      *target++ = row.cx;
      *target++ = row.cy;
      *target++ = row.w;
      *target++ = row.h;
    }
    batch.indices.push_back(example.index);
  }
  return batch;
}

torch::Tensor toFloatImages(const torch::Tensor& uint8Images, torch::Device device) {
  // Copy first (uint8: 4x fewer bytes over PCIe), convert on the device; the float conversion
  // always allocates, so the caller's tensor is never divided in place.
  return uint8Images.to(uint8Images.options().device(device), /*non_blocking=*/true)
      .to(torch::kFloat32)
      .div_(255);
}

BatchLoader::BatchLoader(Producer producer, DistributedSampler sampler, int batchPerRank,
                         LoaderOptions options)
    : producer_(std::move(producer)),
      sampler_(std::move(sampler)),
      batchPerRank_(batchPerRank),
      options_(options),
      pin_(options.pinMemory && torch::cuda::is_available()) {
  if (!producer_) throw std::invalid_argument("BatchLoader: the producer is empty");
  if (batchPerRank < 1)
    throw std::invalid_argument("BatchLoader: batch per rank must be at least 1, got " +
                                std::to_string(batchPerRank));
  if (options.workers < 0)
    throw std::invalid_argument("BatchLoader: workers must be at least 0, got " +
                                std::to_string(options.workers));
  if (options.prefetchBatches < 1)
    throw std::invalid_argument("BatchLoader: prefetch batches must be at least 1, got " +
                                std::to_string(options.prefetchBatches));
}

BatchLoader::~BatchLoader() {
  stop();
}

int BatchLoader::stepsPerEpoch() const {
  const std::size_t samples = sampler_.numSamples();
  const auto b = static_cast<std::size_t>(batchPerRank_);
  return static_cast<int>(options_.dropLast ? samples / b : (samples + b - 1) / b);
}

void BatchLoader::start(int epoch, int firstStep) {
  if (firstStep < 0) throw std::invalid_argument("BatchLoader::start: firstStep < 0");
  std::lock_guard control(controlMutex_);
  stopWorkers();
  std::vector<std::size_t> order = sampler_.indices(epoch);
  // Steps from the indices actually returned (numSamples() of them): a step with no examples
  // would make next() wait forever.
  const auto b = static_cast<std::size_t>(batchPerRank_);
  const auto steps =
      static_cast<int>(options_.dropLast ? order.size() / b : (order.size() + b - 1) / b);
  order.resize(std::min(order.size(), static_cast<std::size_t>(steps) * b));
  {
    std::lock_guard lock(mutex_);
    epoch_ = epoch;
    steps_ = steps;
    order_ = std::move(order);
    // Resuming mid-epoch: the steps before firstStep are neither made nor returned.
    nextStep_ = std::min(firstStep, steps);
    nextClaim_ = static_cast<std::size_t>(nextStep_) * b;
    pending_.clear();
    errorPosition_.reset();
    inFlight_.clear();
    error_ = nullptr;
    stopping_ = false;
    running_ = true;
    started_ = true;
  }
  try {
    for (int i = 0; i < options_.workers; ++i)
      workers_.emplace_back([this] { workerLoop(); });
  } catch (...) {
    stopWorkers();  // threads already running must not outlive a failed start
    throw;
  }
}

void BatchLoader::stop() {
  std::lock_guard control(controlMutex_);
  stopWorkers();
}

void BatchLoader::stopWorkers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  workAvailable_.notify_all();
  batchReady_.notify_all();
  for (std::jthread& worker : workers_)
    worker.join();
  workers_.clear();
  std::lock_guard lock(mutex_);
  running_ = false;
  pending_.clear();
}

bool BatchLoader::canClaim() const {
  // The window: examples of steps [nextStep_, nextStep_ + prefetchBatches) only.
  return nextClaim_ < order_.size() && nextClaim_ / static_cast<std::size_t>(batchPerRank_) <
                                           static_cast<std::size_t>(nextStep_) +
                                               static_cast<std::size_t>(options_.prefetchBatches);
}

std::vector<std::size_t> BatchLoader::stepIndices(int step) const {
  const auto begin = static_cast<std::size_t>(step) * static_cast<std::size_t>(batchPerRank_);
  const auto end = std::min(order_.size(), begin + static_cast<std::size_t>(batchPerRank_));
  return {order_.begin() + static_cast<std::ptrdiff_t>(begin),
          order_.begin() + static_cast<std::ptrdiff_t>(end)};
}

void BatchLoader::recordFailure(std::size_t position, std::exception_ptr failure) {
  // Keep the earliest failure: batches before it are still delivered, in order.
  if (!errorPosition_ || position < *errorPosition_) {
    errorPosition_ = position;
    error_ = std::move(failure);
  }
  workAvailable_.notify_all();  // idle workers see the failure and leave
  batchReady_.notify_all();
}

bool BatchLoader::failedAtOrBefore(int step) const {
  // A failure is final only once no earlier position is still being made: one of those may fail
  // too, and the error reported must not depend on which worker finished first.
  return errorPosition_ &&
         *errorPosition_ / static_cast<std::size_t>(batchPerRank_) <=
             static_cast<std::size_t>(step) &&
         (inFlight_.empty() || *inFlight_.begin() > *errorPosition_);
}

void BatchLoader::workerLoop() {
  const auto b = static_cast<std::size_t>(batchPerRank_);
  std::unique_lock lock(mutex_);
  while (true) {
    // Positions are claimed in increasing order, so after a failure every earlier position is
    // already being made and the batches before the failed one still complete.
    workAvailable_.wait(lock, [&] {
      return stopping_ || errorPosition_ || nextClaim_ >= order_.size() || canClaim();
    });
    if (stopping_ || errorPosition_ || nextClaim_ >= order_.size()) return;
    const std::size_t position = nextClaim_++;
    inFlight_.insert(position);
    const std::size_t index = order_[position];
    const int epoch = epoch_;
    const int step = static_cast<int>(position / b);
    lock.unlock();

    std::optional<TrainingExample> example;
    std::exception_ptr failure;
    try {
      example = makeExample(producer_, index, epoch);
    } catch (...) {
      failure = std::current_exception();
    }

    lock.lock();
    if (stopping_) return;
    inFlight_.erase(position);
    if (failure) {
      recordFailure(position, std::move(failure));
      continue;
    }
    if (errorPosition_) batchReady_.notify_all();  // a settled failure may now be reported
    PendingBatch& pending = pending_[step];
    if (pending.examples.empty()) pending.examples.resize(stepIndices(step).size());
    pending.examples[position - static_cast<std::size_t>(step) * b] = std::move(example);
    if (++pending.made < static_cast<int>(pending.examples.size())) continue;

    // This worker made the batch's last example: it collates, outside the lock.
    std::vector<TrainingExample> examples;
    examples.reserve(pending.examples.size());
    for (std::optional<TrainingExample>& made : pending.examples)
      examples.push_back(std::move(*made));
    pending.examples.clear();
    lock.unlock();
    std::optional<Batch> batch;
    try {
      batch = collateExamples(std::move(examples), pin_);
      batch->epoch = epoch;
      batch->step = step;
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    if (stopping_) return;
    if (failure) {
      recordFailure(static_cast<std::size_t>(step) * b, std::move(failure));
      continue;
    }
    pending_[step].batch = std::move(batch);
    batchReady_.notify_all();
  }
}

Batch BatchLoader::produceInline(int step, std::vector<std::size_t> indices, int epoch) const {
  std::vector<TrainingExample> examples;
  examples.reserve(indices.size());
  for (const std::size_t index : indices)
    examples.push_back(makeExample(producer_, index, epoch));
  Batch batch = collateExamples(std::move(examples), pin_);
  batch.epoch = epoch;
  batch.step = step;
  return batch;
}

std::optional<Batch> BatchLoader::next() {
  const auto begin = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  if (!started_) throw std::logic_error("BatchLoader::next() called before start()");
  if (!running_ || stopping_) return std::nullopt;
  if (failedAtOrBefore(nextStep_)) std::rethrow_exception(error_);
  if (nextStep_ >= steps_) return std::nullopt;

  std::optional<Batch> batch;
  if (options_.workers == 0) {
    const int step = nextStep_;
    std::vector<std::size_t> indices = stepIndices(step);
    const int epoch = epoch_;
    lock.unlock();
    try {
      batch = produceInline(step, std::move(indices), epoch);
    } catch (...) {
      lock.lock();
      recordFailure(static_cast<std::size_t>(step) * static_cast<std::size_t>(batchPerRank_),
                    std::current_exception());
      throw;
    }
    lock.lock();
  } else {
    batchReady_.wait(lock, [&] {
      if (stopping_ || failedAtOrBefore(nextStep_)) return true;
      const auto found = pending_.find(nextStep_);
      return found != pending_.end() && found->second.batch.has_value();
    });
    if (stopping_) return std::nullopt;
    if (failedAtOrBefore(nextStep_)) std::rethrow_exception(error_);
    batch = std::move(pending_.extract(nextStep_).mapped().batch);
  }
  ++nextStep_;
  lock.unlock();
  workAvailable_.notify_all();  // the window moved: workers may claim the next batch's examples
  batch->waitMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  return batch;
}

}  // namespace syncbn::data
