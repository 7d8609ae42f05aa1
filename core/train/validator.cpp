#include "train/validator.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "data/batch_loader.h"
#include "data/distributed_sampler.h"
#include "dist/process_group.h"
#include "model/detection_model.h"
#include "model/postprocess.h"

namespace syncbn::train {
namespace {

using torch::Tensor;
using Clock = std::chrono::steady_clock;

// Puts every submodule back in the training mode it had, even where a submodule's mode differs
// from its parent's (train(bool) is recursive, so parents are restored before their children).
class TrainingModeGuard {
 public:
  explicit TrainingModeGuard(torch::nn::Module& module) {
    for (const auto& child : module.modules(/*include_self=*/false))
      modes_.emplace_back(child, child->is_training());
    root_ = &module;
    rootTraining_ = module.is_training();
  }
  ~TrainingModeGuard() {
    root_->train(rootTraining_);
    for (const auto& [module, training] : modes_)
      module->train(training);
  }
  TrainingModeGuard(const TrainingModeGuard&) = delete;
  TrainingModeGuard& operator=(const TrainingModeGuard&) = delete;

 private:
  torch::nn::Module* root_ = nullptr;
  bool rootTraining_ = false;
  std::vector<std::pair<std::shared_ptr<torch::nn::Module>, bool>> modes_;  // pre-order
};

// Where the original image lies in the letterboxed input, in input pixels: Ultralytics clips
// detections to the original image after mapping them back, which is this rectangle here.
struct ContentBox {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

ContentBox contentBoxOf(const data::TrainingExample& example) {
  if (example.originalWidth <= 0 || example.originalHeight <= 0)
    return {0, 0, static_cast<double>(example.width), static_cast<double>(example.height)};
  return {example.padX, example.padY, example.padX + example.originalWidth * example.ratio,
          example.padY + example.originalHeight * example.ratio};
}

// What one rank evaluated, in the order it evaluated it (its dataset indices ascending).
struct RankOutcome {
  explicit RankOutcome(int64_t numClasses) : metrics(numClasses) {}
  model::DetectionMetrics metrics;
  std::vector<int64_t> detectionsPerImage;
  std::vector<int64_t> labelsPerImage;
  std::array<double, 3> lossSums{};  // box, cls, dfl
  int64_t batches = 0;
};

// Labels of batch image i: targets [M, 6] (CPU double; image, class, cx, cy, w, h normalised)
// -> xyxy boxes [L, 4] in pixels of a width x height input, and classes [L].
std::pair<Tensor, Tensor> labelsOf(const Tensor& targets, int64_t i, double width, double height) {
  const Tensor rows = targets.index({targets.select(1, 0) == static_cast<double>(i)});
  const Tensor cx = rows.select(1, 2) * width, cy = rows.select(1, 3) * height;
  const Tensor w = rows.select(1, 4) * width, h = rows.select(1, 5) * height;
  return {torch::stack({cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2}, 1), rows.select(1, 1)};
}

// detections [K, 6] -> CPU double, the boxes clipped to `content`.
Tensor clipToContent(const Tensor& detections, const ContentBox& content) {
  const Tensor d = detections.to(torch::kCPU, torch::kDouble);
  const auto column = [&](int64_t c, double low, double high) {
    return d.select(1, c).clamp(low, high).unsqueeze(1);
  };
  return torch::cat(
      {column(0, content.x1, content.x2), column(1, content.y1, content.y2),
       column(2, content.x1, content.x2), column(3, content.y1, content.y2), d.narrow(1, 4, 2)},
      1);
}

// Runs the model on one rank's batches (in eval mode, under no_grad: the caller's job) and
// accumulates the loss terms and the per-image metric state.
class ShardEvaluator {
 public:
  // `model`: the engine's detector (losses and detections); null for an exported file, whose
  // `predict` gives the decoded output alone (no losses).
  ShardEvaluator(model::DetectionModelImpl* model, Validator::Predictor predict, int64_t nc,
                 const ValidationOptions& options, c10::Device device)
      : model_(model),
        predict_(std::move(predict)),
        loss_(model ? model->headLayout() : model::HeadLayout{nc}, options.lossGains),
        device_(device),
        outcome_(nc) {
    nms_.confThreshold = options.confThreshold;
    nms_.iouThreshold = options.iouThreshold;
    nms_.maxDet = options.maxDet;
    nms_.multiLabel = options.multiLabel;
    nms_.agnostic = options.agnosticNms;
    const auto parameters = model ? model->parameters() : std::vector<Tensor>{};
    dtype_ = parameters.empty() ? torch::kFloat32 : parameters.front().scalar_type();
  }

  // uint8Images [N, 3, H, W], targets [M, 6] as the loader makes them; contents[i]: image i's.
  void add(const Tensor& uint8Images, const Tensor& targets,
           const std::vector<ContentBox>& contents) {
    auto lap = Clock::now();
    const auto stage = [&lap](double& total) {
      const auto now = Clock::now();
      total += std::chrono::duration<double>(now - lap).count();
      lap = now;
    };
    const Tensor images = data::toFloatImages(uint8Images, device_).to(dtype_);
    Tensor decoded;
    if (model_ != nullptr) {
      const std::vector<Tensor> levels = model_->forwardLevels(images);
      decoded = model_->decode(levels);
      stage(timings_.forward);
      const model::DetectionLossResult terms = loss_(levels, targets.to(device_));
      const Tensor items =
          torch::stack({terms.box, terms.cls, terms.dfl}).to(torch::kCPU, torch::kDouble);
      for (std::size_t t = 0; t < 3; ++t)
        outcome_.lossSums[t] += items[static_cast<int64_t>(t)].item<double>();
      stage(timings_.loss);
    } else {
      decoded = predict_(images);
      stage(timings_.forward);
    }
    ++outcome_.batches;

    const std::vector<Tensor> detections = model::nonMaxSuppression(decoded, nms_);
    stage(timings_.nms);
    const Tensor cpuTargets = targets.to(torch::kCPU, torch::kDouble);
    const auto height = static_cast<double>(images.size(2));
    const auto width = static_cast<double>(images.size(3));
    for (std::size_t i = 0; i < contents.size(); ++i) {
      const auto [boxes, classes] = labelsOf(cpuTargets, static_cast<int64_t>(i), width, height);
      const Tensor found = clipToContent(detections[i], contents[i]);
      outcome_.metrics.addImage(found, boxes, classes);
      outcome_.detectionsPerImage.push_back(found.size(0));
      outcome_.labelsPerImage.push_back(boxes.size(0));
    }
    stage(timings_.matching);
  }

  const RankOutcome& outcome() const { return outcome_; }
  const ValidationResult::Timings& timings() const { return timings_; }

 private:
  model::DetectionModelImpl* model_;
  Validator::Predictor predict_;
  const model::DetectionLoss loss_;
  model::NmsOptions nms_;
  c10::Device device_;
  c10::ScalarType dtype_;
  RankOutcome outcome_;
  ValidationResult::Timings timings_;
};

std::vector<Tensor> gatherAll(dist::ProcessGroup* group, const Tensor& local, c10::Device device) {
  if (!group || group->worldSize() == 1) return {local};
  std::vector<Tensor> gathered = group->allGather(local.to(device).contiguous());
  for (Tensor& t : gathered)
    t = t.to(torch::kCPU);
  return gathered;
}

template <typename T>
void appendSlice(std::vector<T>& out, const T* data, int64_t begin, int64_t length) {
  out.insert(out.end(), data + begin, data + begin + length);
}

// All-gathers every rank's outcome (sizes first, then everything padded to the largest rank's
// sizes) and merges them in dataset order: image g is rank (g mod W)'s image g / W. That order
// makes the result the same for every W, ties included (compute()'s stable sort keeps tied
// confidences in order of arrival).
ValidationResult gatherAndMerge(const RankOutcome& mine, dist::ProcessGroup* group,
                                c10::Device device, std::size_t count, model::ApMethod method) {
  const int world = group ? group->worldSize() : 1;
  const model::DetectionMetricsState& state = mine.metrics.state();
  const int64_t nc = state.numClasses;
  const std::vector<Tensor> sizes =
      gatherAll(group,
                torch::tensor({static_cast<int64_t>(mine.detectionsPerImage.size()),
                               static_cast<int64_t>(state.confidence.size()),
                               static_cast<int64_t>(state.targets.size()), mine.batches}),
                device);
  int64_t maxImages = 0, maxDetections = 0, maxLabels = 0;
  for (const Tensor& s : sizes) {
    maxImages = std::max(maxImages, s[0].item<int64_t>());
    maxDetections = std::max(maxDetections, s[1].item<int64_t>());
    maxLabels = std::max(maxLabels, s[2].item<int64_t>());
  }
  // int64: [detections per image | labels per image | correct (K x 10) | predicted | targets |
  // images per class]; double: [loss sums (3) | confidence].
  const int64_t correctAt = 2 * maxImages;
  const int64_t predictedAt = correctAt + maxDetections * model::kIouThresholdCount;
  const int64_t targetsAt = predictedAt + maxDetections;
  const int64_t perClassAt = targetsAt + maxLabels;
  Tensor ints = torch::zeros({perClassAt + nc}, torch::kInt64);
  int64_t* i = ints.data_ptr<int64_t>();
  std::copy(mine.detectionsPerImage.begin(), mine.detectionsPerImage.end(), i);
  std::copy(mine.labelsPerImage.begin(), mine.labelsPerImage.end(), i + maxImages);
  std::copy(state.correct.begin(), state.correct.end(), i + correctAt);
  std::copy(state.predicted.begin(), state.predicted.end(), i + predictedAt);
  std::copy(state.targets.begin(), state.targets.end(), i + targetsAt);
  std::copy(state.imagesPerClass.begin(), state.imagesPerClass.end(), i + perClassAt);
  Tensor doubles = torch::zeros({3 + maxDetections}, torch::kDouble);
  std::copy(mine.lossSums.begin(), mine.lossSums.end(), doubles.data_ptr<double>());
  std::copy(state.confidence.begin(), state.confidence.end(), doubles.data_ptr<double>() + 3);
  const std::vector<Tensor> allInts = gatherAll(group, ints, device);
  const std::vector<Tensor> allDoubles = gatherAll(group, doubles, device);

  model::DetectionMetricsState merged;
  merged.numClasses = nc;
  merged.imagesPerClass.assign(static_cast<std::size_t>(nc), 0);
  ValidationResult result;
  double lossSums[3] = {0, 0, 0};
  for (std::size_t r = 0; r < static_cast<std::size_t>(world); ++r) {
    const int64_t images = sizes[r][0].item<int64_t>();
    const std::size_t expected = Validator::imagesOnRank(count, static_cast<int>(r), world);
    if (static_cast<std::size_t>(images) != expected)
      throw std::logic_error("Validator: rank " + std::to_string(r) + " evaluated " +
                             std::to_string(images) + " images, expected " +
                             std::to_string(expected));
    result.images += images;
    result.batches += sizes[r][3].item<int64_t>();
    for (std::size_t t = 0; t < 3; ++t)
      lossSums[t] += allDoubles[r].data_ptr<double>()[t];
    const int64_t* perClass = allInts[r].data_ptr<int64_t>() + perClassAt;
    for (std::size_t c = 0; c < static_cast<std::size_t>(nc); ++c)
      merged.imagesPerClass[c] += perClass[c];
  }
  std::vector<int64_t> nextImage(static_cast<std::size_t>(world), 0);
  std::vector<int64_t> detectionsBefore(static_cast<std::size_t>(world), 0);
  std::vector<int64_t> labelsBefore(static_cast<std::size_t>(world), 0);
  for (std::size_t g = 0; g < count; ++g) {
    const std::size_t r = g % static_cast<std::size_t>(world);
    const int64_t* p = allInts[r].data_ptr<int64_t>();
    const double* d = allDoubles[r].data_ptr<double>();
    const int64_t image = nextImage[r]++;
    const int64_t k = p[image], l = p[maxImages + image];
    const int64_t* flags = p + correctAt + detectionsBefore[r] * model::kIouThresholdCount;
    for (int64_t f = 0; f < k * model::kIouThresholdCount; ++f)
      merged.correct.push_back(static_cast<uint8_t>(flags[f]));
    appendSlice(merged.predicted, p + predictedAt, detectionsBefore[r], k);
    appendSlice(merged.confidence, d + 3, detectionsBefore[r], k);
    appendSlice(merged.targets, p + targetsAt, labelsBefore[r], l);
    detectionsBefore[r] += k;
    labelsBefore[r] += l;
  }
  merged.images = result.images;
  result.summary = model::DetectionMetrics(std::move(merged)).compute(method);
  if (result.batches > 0) {
    const auto n = static_cast<double>(result.batches);
    result.boxLoss = lossSums[0] / n;
    result.clsLoss = lossSums[1] / n;
    result.dflLoss = lossSums[2] / n;
  }
  return result;
}

}  // namespace

std::size_t Validator::imagesOnRank(std::size_t count, int rank, int worldSize) {
  const auto r = static_cast<std::size_t>(rank), w = static_cast<std::size_t>(worldSize);
  return r < count ? (count - r + w - 1) / w : 0;
}

Validator::Validator(ValidationExampleProducer producer, std::size_t count,
                     std::shared_ptr<dist::ProcessGroup> group, c10::Device device,
                     ValidationOptions options)
    : producer_(std::move(producer)),
      count_(count),
      group_(std::move(group)),
      device_(device),
      options_(std::move(options)) {
  const auto fail = [](const std::string& what) {
    throw std::invalid_argument("Validator: " + what);
  };
  if (!producer_) fail("the example producer is empty");
  if (options_.batchPerRank < 1)
    fail("batchPerRank must be at least 1, got " + std::to_string(options_.batchPerRank));
  if (options_.workers < 0)
    fail("workers must be at least 0, got " + std::to_string(options_.workers));
  if (options_.prefetchBatches < 1)
    fail("prefetchBatches must be at least 1, got " + std::to_string(options_.prefetchBatches));
  if (!(options_.confThreshold >= 0 && options_.confThreshold <= 1))
    fail("confThreshold must lie in [0, 1], got " + std::to_string(options_.confThreshold));
  if (!(options_.iouThreshold >= 0 && options_.iouThreshold <= 1))
    fail("iouThreshold must lie in [0, 1], got " + std::to_string(options_.iouThreshold));
  if (options_.maxDet < 1)
    fail("maxDet must be at least 1, got " + std::to_string(options_.maxDet));
}

ValidationResult Validator::run(model::DetectionModelImpl& model) {
  const TrainingModeGuard modeGuard(model);
  model.eval();
  return evaluate(&model, {}, model.headLayout().nc);
}

ValidationResult Validator::run(const Predictor& predict, int64_t nc) {
  if (!predict) throw std::invalid_argument("Validator::run: no predictor");
  return evaluate(nullptr, predict, nc);
}

ValidationResult Validator::evaluate(model::DetectionModelImpl* model, const Predictor& predict,
                                     int64_t nc) {
  const auto begin = Clock::now();
  const int world = group_ ? group_->worldSize() : 1;
  const int rank = group_ ? group_->rank() : 0;
  // The sampler without shuffling gives rank r the indices r, r + W, ... and pads the ranks that
  // fall short with one repeat at the end; that repeat is made but not evaluated.
  const std::size_t mine = imagesOnRank(count_, rank, world);
  std::mutex contentMutex;
  std::unordered_map<std::size_t, ContentBox> contents;  // outlives the loader's workers
  data::LoaderOptions loaderOptions;
  loaderOptions.workers = options_.workers;
  loaderOptions.prefetchBatches = options_.prefetchBatches;
  loaderOptions.pinMemory = device_.is_cuda();
  data::BatchLoader loader(
      [&](std::size_t index, int) {
        data::TrainingExample example = producer_(index);
        const ContentBox content = contentBoxOf(example);
        const std::lock_guard lock(contentMutex);
        contents[index] = content;
        return example;
      },
      data::DistributedSampler(count_, world, rank, /*shuffle=*/false, 0), options_.batchPerRank,
      loaderOptions);

  std::optional<ShardEvaluator> evaluator;
  double dataSeconds = 0;
  {
    const torch::NoGradGuard noGrad;
    evaluator.emplace(model, predict, nc, options_, device_);
    std::size_t done = 0;  // this rank's images evaluated so far
    if (mine > 0) loader.start(0);
    while (done < mine) {
      const auto waiting = Clock::now();
      std::optional<data::Batch> batch = loader.next();
      dataSeconds += std::chrono::duration<double>(Clock::now() - waiting).count();
      if (!batch)
        throw std::logic_error("Validator: the loader ended after " + std::to_string(done) +
                               " of rank " + std::to_string(rank) + "'s " + std::to_string(mine) +
                               " images");
      const std::size_t keep = std::min(batch->indices.size(), mine - done);
      std::vector<ContentBox> batchContents;
      for (std::size_t j = 0; j < keep; ++j) {
        const std::size_t index = batch->indices[j];
        if (index != static_cast<std::size_t>(rank) + (done + j) * static_cast<std::size_t>(world))
          throw std::logic_error("Validator: rank " + std::to_string(rank) +
                                 " was given dataset index " + std::to_string(index) +
                                 " out of turn");
        const std::lock_guard lock(contentMutex);
        batchContents.push_back(contents.at(index));
      }
      Tensor images = batch->images, targets = batch->targets;
      if (keep < batch->indices.size()) {  // drop the sampler's padding
        const auto kept = static_cast<int64_t>(keep);
        images = images.narrow(0, 0, kept);
        targets = targets.index({targets.select(1, 0) < static_cast<double>(kept)});
      }
      evaluator->add(images, targets, batchContents);
      done += batch->indices.size();
    }
    loader.stop();
  }

  const c10::Device collectiveDevice =
      group_ && group_->backend() == Backend::Nccl ? device_ : c10::Device(c10::kCPU);
  const auto gathering = Clock::now();
  ValidationResult result = gatherAndMerge(evaluator->outcome(), group_.get(), collectiveDevice,
                                           count_, options_.apMethod);
  result.timings = evaluator->timings();
  result.timings.data = dataSeconds;
  result.timings.gather = std::chrono::duration<double>(Clock::now() - gathering).count();
  for (const int64_t found : evaluator->outcome().detectionsPerImage)
    result.detections += found;
  result.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  return result;
}

protocol::Val toValMessage(int epoch, const ValidationResult& result,
                           const std::vector<std::string>& classNames) {
  const model::DetectionSummary& s = result.summary;
  protocol::Val message;
  message.epoch = epoch;
  message.precision = s.precision;
  message.recall = s.recall;
  message.map50 = s.map50;
  message.map50_95 = s.map50to95;
  message.fitness = s.fitness;
  message.box_loss = result.boxLoss;
  message.cls_loss = result.clsLoss;
  message.dfl_loss = result.dflLoss;
  for (const model::ClassMetrics& c : s.classes) {
    protocol::ClassMetrics entry;
    const auto id = static_cast<std::size_t>(c.classId);
    entry.name =
        c.classId >= 0 && id < classNames.size() ? classNames[id] : std::to_string(c.classId);
    entry.images = static_cast<int>(c.images);
    entry.instances = static_cast<int>(c.instances);
    entry.precision = c.precision;
    entry.recall = c.recall;
    entry.map50 = c.ap50();
    entry.map50_95 = c.ap50to95();
    message.classes.push_back(std::move(entry));
  }
  return message;
}

}  // namespace syncbn::train
