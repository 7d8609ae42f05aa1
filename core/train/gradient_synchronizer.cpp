#include "train/gradient_synchronizer.h"

#include <torch/torch.h>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "dist/process_group.h"

namespace syncbn::train {

namespace {

using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::int64_t bytesOf(const at::Tensor& tensor) {
  return tensor.numel() * static_cast<std::int64_t>(tensor.element_size());
}

// Tensors that can share one flat buffer: same dtype and device.
using FlatKey = std::tuple<int, int, int>;
FlatKey flatKey(const at::Tensor& tensor) {
  return {static_cast<int>(tensor.scalar_type()), static_cast<int>(tensor.device().type()),
          static_cast<int>(tensor.device().index())};
}

// Groups `tensors` (in order) into runs of one dtype/device of at most `capBytes` each (a
// larger tensor alone). Deterministic, so every rank forms the same groups.
std::vector<std::vector<std::size_t>> packByKeyAndSize(const std::vector<at::Tensor>& tensors,
                                                       std::int64_t capBytes) {
  std::vector<std::vector<std::size_t>> packs;
  std::map<FlatKey, std::pair<std::size_t, std::int64_t>> open;  // key -> (pack, bytes)
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const std::int64_t bytes = bytesOf(tensors[i]);
    auto it = open.find(flatKey(tensors[i]));
    if (it == open.end() || it->second.second + bytes > capBytes) {
      packs.emplace_back();
      it = open.insert_or_assign(flatKey(tensors[i]), std::pair{packs.size() - 1, std::int64_t{0}})
               .first;
    }
    packs[it->second.first].push_back(i);
    it->second.second += bytes;
  }
  return packs;
}

// FNV-1a over the values: a cheap fingerprint of the parameter layout to compare across ranks.
std::int64_t fingerprint(const std::vector<std::int64_t>& values) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (const std::int64_t value : values) {
    hash ^= static_cast<std::uint64_t>(value);
    hash *= 1099511628211ULL;
  }
  return static_cast<std::int64_t>(hash >> 1);
}

}  // namespace

struct GradientSynchronizer::State {
  struct Slot {
    std::string name;
    at::Tensor parameter;
    std::size_t bucket = 0;
    std::int64_t offset = 0;  // in the bucket's flat tensor
    bool ready = false;       // this step's gradient is in the bucket
  };
  struct Bucket {
    std::vector<std::size_t> slots;
    at::Tensor flat;
    std::size_t waiting = 0;  // slots not ready this step
    std::unique_ptr<dist::CollectiveWork> work;
  };

  std::shared_ptr<dist::ProcessGroup> group;  // the gradient group; null: no communication
  GradientSyncOptions options;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  std::size_t nextLaunch = 0;
  std::vector<std::pair<at::Tensor, unsigned>> hooks;  // (parameter, handle) to remove
  GradientSyncStats current, last;
  std::mutex mutex;  // hooks may run on an autograd device thread

  std::string where() const {
    return "GradientSynchronizer (rank " + std::to_string(group->rank()) + " of " +
           std::to_string(group->worldSize()) + ")";
  }

  at::Tensor view(const Slot& slot) {
    return buckets[slot.bucket].flat.narrow(0, slot.offset, slot.parameter.numel());
  }

  // What .grad will hold once backward has accumulated `incoming` (undefined: nothing new).
  void fill(Slot& slot, const at::Tensor& incoming) {
    at::Tensor target = view(slot);
    const at::Tensor& existing = slot.parameter.grad();
    if ((existing.defined() && existing.is_sparse()) ||
        (incoming.defined() && incoming.is_sparse()))
      throw std::invalid_argument(where() + ": sparse gradient of '" + slot.name +
                                  "' is not supported");
    if (incoming.defined()) {
      target.copy_(incoming.reshape(-1));
      if (existing.defined()) target.add_(existing.reshape(-1));
    } else if (existing.defined()) {
      target.copy_(existing.reshape(-1));
    } else {
      target.zero_();
    }
    slot.ready = true;
    --buckets[slot.bucket].waiting;
  }

  void launch(Bucket& bucket, bool duringBackward) {
    bucket.work = group->allReduceSumAsync(bucket.flat);
    if (duringBackward) ++current.startedEarly;
    ++current.collectives;
    current.bytes += bytesOf(bucket.flat);
  }

  // Starts full buckets in index order: the same sequence on every rank.
  void launchReadyBuckets(bool duringBackward) {
    while (nextLaunch < buckets.size() && buckets[nextLaunch].waiting == 0)
      launch(buckets[nextLaunch++], duringBackward);
  }

  void onGradient(std::size_t index, const at::Tensor& grad) {
    const at::NoGradGuard noGrad;
    const std::lock_guard lock(mutex);
    Slot& slot = slots[index];
    if (slot.ready)
      throw std::logic_error(where() + ": parameter '" + slot.name +
                             "' got a second gradient before finish(); call finish() after "
                             "every backward pass");
    fill(slot, grad);
    launchReadyBuckets(/*duringBackward=*/true);
  }

  void reset() {
    for (auto& slot : slots)
      slot.ready = false;
    for (auto& bucket : buckets) {
      bucket.waiting = bucket.slots.size();
      bucket.work.reset();
    }
    nextLaunch = 0;
    last = current;
    current = {};
  }

  void finish() {
    const at::NoGradGuard noGrad;
    const std::lock_guard lock(mutex);
    try {
      for (auto& slot : slots)
        if (!slot.ready) fill(slot, at::Tensor());
      const auto start = Clock::now();
      if (options.overlap) launchReadyBuckets(/*duringBackward=*/false);
      for (std::size_t i = 0; i < buckets.size(); ++i) {
        try {
          if (options.overlap) {
            buckets[i].work->wait();
          } else {
            group->allReduceSum(buckets[i].flat);
            ++current.collectives;
            current.bytes += bytesOf(buckets[i].flat);
          }
        } catch (const std::exception& e) {
          throw std::runtime_error(where() + ": gradient bucket " + std::to_string(i) + " of " +
                                   std::to_string(buckets.size()) + ": " + e.what());
        }
      }
      current.waitMs = millisecondsSince(start);
      for (auto& bucket : buckets)
        bucket.flat.div_(group->worldSize());
      for (auto& slot : slots) {
        const at::Tensor average = view(slot).view(slot.parameter.sizes());
        if (slot.parameter.grad().defined())
          slot.parameter.mutable_grad().copy_(average);
        else
          slot.parameter.mutable_grad() = average.clone();
      }
    } catch (...) {
      reset();
      throw;
    }
    reset();
  }

  // Every rank must hold the same trainable parameters, or the buckets would not line up.
  void checkSameLayoutOnEveryRank() {
    std::vector<std::int64_t> layout;
    std::int64_t values = 0;
    for (const auto& slot : slots) {
      layout.push_back(static_cast<std::int64_t>(slot.parameter.scalar_type()));
      for (const auto size : slot.parameter.sizes())
        layout.push_back(size);
      layout.push_back(-1);
      values += slot.parameter.numel();
    }
    const at::Tensor mine = torch::tensor(
        {static_cast<std::int64_t>(slots.size()), values, fingerprint(layout)}, torch::kLong);
    const auto all = group->allGather(mine);
    for (int rank = 0; rank < group->worldSize(); ++rank) {
      if (torch::equal(all[static_cast<std::size_t>(rank)], mine)) continue;
      const auto theirs = all[static_cast<std::size_t>(rank)];
      throw std::runtime_error(
          where() + ": rank " + std::to_string(rank) + " has " +
          std::to_string(theirs[0].item<std::int64_t>()) + " trainable parameters (" +
          std::to_string(theirs[1].item<std::int64_t>()) + " values), this rank " +
          std::to_string(slots.size()) + " (" + std::to_string(values) + " values)" +
          (theirs[0].item<std::int64_t>() == static_cast<std::int64_t>(slots.size())
               ? " with different shapes or dtypes"
               : "") +
          "; every rank must build the same model");
    }
  }

  void broadcastCoalesced(const std::vector<at::Tensor>& tensors) {
    const at::NoGradGuard noGrad;
    for (const auto& pack : packByKeyAndSize(tensors, options.bucketBytes)) {
      std::vector<at::Tensor> flatParts;
      for (const auto i : pack)
        flatParts.push_back(tensors[i].reshape(-1));
      at::Tensor flat = torch::cat(flatParts);
      group->broadcast(flat, 0);
      std::int64_t offset = 0;
      for (const auto i : pack) {
        at::Tensor target = tensors[i];
        target.copy_(flat.narrow(0, offset, target.numel()).view(target.sizes()));
        offset += target.numel();
      }
    }
  }
};

GradientSynchronizer::GradientSynchronizer(const torch::nn::Module& model,
                                           std::shared_ptr<dist::ProcessGroup> group,
                                           const GradientSyncOptions& options)
    : state_(std::make_unique<State>()) {
  if (options.bucketBytes <= 0)
    throw std::invalid_argument("GradientSynchronizer: bucket size must be positive, got " +
                                std::to_string(options.bucketBytes) + " bytes");
  State& s = *state_;
  s.options = options;
  // Reverse registration order: the gradients backward produces first.
  const auto named = model.named_parameters(/*recurse=*/true);
  std::vector<at::Tensor> order;
  for (auto it = named.items().rbegin(); it != named.items().rend(); ++it) {
    if (!it->value().requires_grad()) continue;
    s.slots.push_back({it->key(), it->value()});
    order.push_back(it->value());
  }
  if (!group || group->worldSize() == 1) return;
  s.group = group->createSiblingGroup("gradients");
  s.checkSameLayoutOnEveryRank();

  for (const auto& pack : packByKeyAndSize(order, options.bucketBytes)) {
    State::Bucket bucket;
    std::int64_t numel = 0;
    for (const auto i : pack) {
      s.slots[i].bucket = s.buckets.size();
      s.slots[i].offset = numel;
      numel += s.slots[i].parameter.numel();
    }
    bucket.slots = pack;
    bucket.waiting = pack.size();
    bucket.flat = torch::empty({numel}, order[pack.front()].options().requires_grad(false));
    s.buckets.push_back(std::move(bucket));
  }

  if (!options.overlap) return;
  for (std::size_t i = 0; i < s.slots.size(); ++i) {
    const at::Tensor& parameter = s.slots[i].parameter;
    // A leaf's tensor hook runs once per backward with the summed gradient, just before
    // AccumulateGrad adds it to .grad; both LibTorch 1.13 and 2.x have it.
    State* state = state_.get();  // stable: hooks are removed before State dies
    const unsigned handle =
        parameter.register_hook([state, i](const at::Tensor& grad) { state->onGradient(i, grad); });
    s.hooks.emplace_back(parameter, handle);
  }
}

GradientSynchronizer::~GradientSynchronizer() {
  if (!state_) return;
  for (auto& [parameter, handle] : state_->hooks)
    parameter.remove_hook(handle);
}

GradientSynchronizer::GradientSynchronizer(GradientSynchronizer&&) noexcept = default;
GradientSynchronizer& GradientSynchronizer::operator=(GradientSynchronizer&& other) noexcept {
  if (this != &other) {
    GradientSynchronizer dying(std::move(*this));  // removes this object's hooks
    state_ = std::move(other.state_);
  }
  return *this;
}

void GradientSynchronizer::broadcastFromRank0(torch::nn::Module& module) {
  if (!communicates()) return;
  std::vector<at::Tensor> tensors;
  for (const auto& parameter : module.parameters())
    if (parameter.defined()) tensors.push_back(parameter);
  for (const auto& buffer : module.buffers())
    if (buffer.defined()) tensors.push_back(buffer);
  state_->broadcastCoalesced(tensors);
}

void GradientSynchronizer::broadcastBuffers(torch::nn::Module& module) {
  if (!communicates()) return;
  std::vector<at::Tensor> tensors;
  for (const auto& buffer : module.buffers())
    if (buffer.defined()) tensors.push_back(buffer);
  state_->broadcastCoalesced(tensors);
}

void GradientSynchronizer::finish() {
  if (communicates()) {
    state_->finish();
    return;
  }
  // Alone, a gradient is its own average; only the unused parameters' zeros are owed.
  const at::NoGradGuard noGrad;
  for (auto& slot : state_->slots)
    if (!slot.parameter.grad().defined())
      slot.parameter.mutable_grad() = torch::zeros_like(slot.parameter);
  state_->last = {};
}

bool GradientSynchronizer::communicates() const {
  return state_->group != nullptr;
}

std::size_t GradientSynchronizer::bucketCount() const {
  return state_->buckets.size();
}

std::vector<std::string> GradientSynchronizer::bucketParameters(std::size_t index) const {
  std::vector<std::string> names;
  for (const auto slot : state_->buckets.at(index).slots)
    names.push_back(state_->slots[slot].name);
  return names;
}

const GradientSyncStats& GradientSynchronizer::lastStep() const {
  return state_->last;
}

}  // namespace syncbn::train
