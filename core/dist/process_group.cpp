#include "dist/process_group.h"

#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace syncbn::dist {

struct Store::Impl {
  c10::intrusive_ptr<c10d::Store> store;
};

namespace {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return std::nullopt;
  return std::string(value);
}

int envInt(const char* name, int fallback, int min, int max) {
  const auto text = env(name);
  if (!text) return fallback;
  int value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size() || value < min ||
      value > max)
    throw std::runtime_error(std::string("environment variable ") + name + "='" + *text +
                             "' is not an integer in [" + std::to_string(min) + ", " +
                             std::to_string(max) + "]");
  return value;
}

// c10::Error::what() carries a C++ backtrace; users need the message alone.
std::string messageOf(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e))
    return error->what_without_backtrace();
  return e.what();
}

[[noreturn]] void rethrowAs(const char* operation, const std::string& group,
                            const std::exception& e) {
  throw std::runtime_error(std::string(operation) + " over " + group + " failed: " + messageOf(e));
}

// A c10d work handle. Its type differs between LibTorch 1.13 (ProcessGroup::Work) and 2.x
// (c10d::Work), so it is a template parameter deduced from what the backend returns.
template <class WorkPtr>
class C10dWork final : public CollectiveWork {
 public:
  C10dWork(WorkPtr work, const char* operation, std::string group)
      : work_(std::move(work)), operation_(operation), group_(std::move(group)) {}

  void wait() override {
    if (!work_) return;
    try {
      work_->wait();
    } catch (const std::exception& e) {
      work_.reset();
      rethrowAs(operation_, group_, e);
    }
    work_.reset();
  }

 private:
  WorkPtr work_;
  const char* operation_;
  std::string group_;
};

// One implementation for every c10d backend class: in LibTorch 1.13 they derive from
// c10d::ProcessGroup, in 2.x from c10d::Backend, but the collective signatures are the same.
template <class Group>
class C10dCollectives final : public Collectives {
 public:
  C10dCollectives(c10::intrusive_ptr<Group> group, std::string name)
      : group_(std::move(group)), name_(std::move(name)) {}

  void allReduceSum(std::vector<at::Tensor>& tensors) override {
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    run("all_reduce", [&] { return group_->allreduce(tensors, options); });
  }
  std::unique_ptr<CollectiveWork> allReduceSumAsync(std::vector<at::Tensor>& tensors) override {
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    try {
      auto work = group_->allreduce(tensors, options);
      return std::make_unique<C10dWork<decltype(work)>>(std::move(work), "all_reduce", name_);
    } catch (const std::exception& e) {
      rethrowAs("all_reduce", name_, e);
    }
  }
  void broadcast(std::vector<at::Tensor>& tensors, int root) override {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    run("broadcast", [&] { return group_->broadcast(tensors, options); });
  }
  void allGather(std::vector<std::vector<at::Tensor>>& out, std::vector<at::Tensor>& in) override {
    run("all_gather", [&] { return group_->allgather(out, in); });
  }
  void barrier() override {
    run("barrier", [&] { return group_->barrier(c10d::BarrierOptions()); });
  }

 private:
  template <class Issue>
  void run(const char* operation, Issue issue) {
    try {
      issue()->wait();
    } catch (const std::exception& e) {
      rethrowAs(operation, name_, e);
    }
  }

  c10::intrusive_ptr<Group> group_;
  std::string name_;
};

// c10d's store as SharedMemorySum sees it.
class C10dKeyValueStore final : public KeyValueStore {
 public:
  explicit C10dKeyValueStore(c10::intrusive_ptr<c10d::Store> store) : store_(std::move(store)) {}
  void set(const std::string& key, const std::string& value) override {
    store_->set(key, std::vector<std::uint8_t>(value.begin(), value.end()));
  }
  std::string get(const std::string& key) override {
    const std::vector<std::uint8_t> value = store_->get(key);
    return std::string(value.begin(), value.end());
  }
  std::int64_t add(const std::string& key, std::int64_t amount) override {
    return store_->add(key, amount);
  }

 private:
  c10::intrusive_ptr<c10d::Store> store_;
};

std::string describe(int rank, int worldSize, std::chrono::milliseconds timeout) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", static_cast<double>(timeout.count()) / 1000.0);
  return "rank " + std::to_string(rank) + " of " + std::to_string(worldSize) + " (timeout " +
         seconds + " s)";
}

std::unique_ptr<Collectives> connectBackend(const Store& store, int rank, int worldSize,
                                            Backend backend, std::chrono::milliseconds timeout,
                                            const std::string& name) {
  if (backend == Backend::Gloo) {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    return std::make_unique<C10dCollectives<c10d::ProcessGroupGloo>>(
        c10::make_intrusive<c10d::ProcessGroupGloo>(store.impl->store, rank, worldSize, options),
        name);
  }
#ifdef USE_C10D_NCCL
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return std::make_unique<C10dCollectives<c10d::ProcessGroupNCCL>>(
      c10::make_intrusive<c10d::ProcessGroupNCCL>(store.impl->store, rank, worldSize, options),
      name);
#else
  throw std::runtime_error(
      "backend nccl requested, but this LibTorch was built without NCCL; "
      "use backend=gloo");
#endif
}

}  // namespace

Rendezvous Rendezvous::fromEnvironment() {
  Rendezvous r;
  const bool torchrun = env("RANK").has_value() || env("WORLD_SIZE").has_value();
  const char* rankVar = torchrun ? "RANK" : "SLURM_PROCID";
  const char* sizeVar = torchrun ? "WORLD_SIZE" : "SLURM_NTASKS";
  const char* localVar = torchrun ? "LOCAL_RANK" : "SLURM_LOCALID";
  r.worldSize = envInt(sizeVar, 1, 1, 1 << 20);
  r.rank = envInt(rankVar, 0, 0, r.worldSize - 1);
  r.localRank = envInt(localVar, r.rank, 0, r.worldSize - 1);
  if (const auto addr = env("MASTER_ADDR"); addr && !addr->empty()) r.masterAddr = *addr;
  r.masterPort = envInt("MASTER_PORT", r.masterPort, 1, 65535);
  return r;
}

Store Store::tcp(const Rendezvous& rendezvous) {
  // torchrun 2.4+ (c10d rendezvous) hosts the store in its agent, says so with
  // TORCHELASTIC_USE_AGENT_STORE=True and points MASTER_ADDR:MASTER_PORT at it: rank 0 is then
  // a client like the others, and, as PyTorch's env:// init does, the run's keys live under
  // /worker/attempt_<restart count> so that they never meet the agent's own.
  const bool agentStore = env("TORCHELASTIC_USE_AGENT_STORE") == std::optional<std::string>("True");
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(rendezvous.masterPort);
  options.isServer = rendezvous.rank == 0 && !agentStore;
  options.numWorkers = static_cast<std::size_t>(rendezvous.worldSize);
  options.waitWorkers = true;
  options.timeout = rendezvous.timeout;
  Store store;
  try {
    c10::intrusive_ptr<c10d::Store> tcp =
        c10::make_intrusive<c10d::TCPStore>(rendezvous.masterAddr, options);
    if (agentStore)
      tcp = c10::make_intrusive<c10d::PrefixStore>(
          "/worker/attempt_" + env("TORCHELASTIC_RESTART_COUNT").value_or("0"), tcp);
    store.impl = std::make_shared<Impl>(Impl{std::move(tcp)});
  } catch (const std::exception& e) {
    throw std::runtime_error("rendezvous at " + rendezvous.masterAddr + ":" +
                             std::to_string(rendezvous.masterPort) + " failed for " +
                             describe(rendezvous.rank, rendezvous.worldSize, rendezvous.timeout) +
                             ": " + messageOf(e));
  }
  return store;
}

Store Store::inProcess() {
  Store store;
  store.impl = std::make_shared<Impl>(Impl{c10::make_intrusive<c10d::HashStore>()});
  return store;
}

Store Store::withPrefix(const std::string& prefix) const {
  if (!impl) throw std::invalid_argument("Store::withPrefix: empty store");
  Store store;
  store.impl =
      std::make_shared<Impl>(Impl{c10::make_intrusive<c10d::PrefixStore>(prefix, impl->store)});
  return store;
}

std::shared_ptr<ProcessGroup> ProcessGroup::create(const Store& store, int rank, int worldSize,
                                                   Backend backend, bool cuda,
                                                   std::chrono::milliseconds timeout) {
  if (!store.impl) throw std::invalid_argument("ProcessGroup::create: empty store");
  if (backend == Backend::Auto) backend = cuda ? Backend::Nccl : Backend::Gloo;
  const std::string name =
      std::string(toString(backend)) + " " + describe(rank, worldSize, timeout);

  std::unique_ptr<Collectives> collectives;
  try {
    collectives = connectBackend(store, rank, worldSize, backend, timeout, name);
  } catch (const std::exception& e) {
    throw std::runtime_error("joining the " + name + " group failed (are all " +
                             std::to_string(worldSize) +
                             " ranks started and able to reach the "
                             "master?): " +
                             messageOf(e));
  }
  auto group = std::make_shared<ProcessGroup>(std::move(collectives), rank, worldSize, backend);
  group->origin_ = Origin{store, cuda, timeout};
  return group;
}

std::shared_ptr<ProcessGroup> ProcessGroup::createSiblingGroup(const std::string& purpose) {
  if (!origin_)
    throw std::logic_error("createSiblingGroup('" + purpose + "') on rank " +
                           std::to_string(rank_) + ": this group was not made by create()");
  // The counter makes each sibling's keys unique; it agrees across ranks because every rank
  // creates its siblings in the same order.
  const std::string prefix = purpose + "/" + std::to_string(siblingsCreated_++) + "/";
  return create(origin_->store.withPrefix(prefix), rank_, worldSize_, backend_, origin_->cuda,
                origin_->timeout);
}

ProcessGroup::ProcessGroup(std::unique_ptr<Collectives> collectives, int rank, int worldSize,
                           Backend backend)
    : collectives_(std::move(collectives)), rank_(rank), worldSize_(worldSize), backend_(backend) {}

void ProcessGroup::allReduceSum(at::Tensor& tensor) {
  ++collectiveCount_;
  std::vector<at::Tensor> tensors{tensor};
  collectives_->allReduceSum(tensors);
}

SharedMemorySum* ProcessGroup::sharedSum() {
  if (sharedSumDecided_) return sharedSum_.get();
  sharedSumDecided_ = true;
  // Gloo's ranks only: NCCL's sums stay on the GPUs.
  if (!origin_ || backend_ != Backend::Gloo || origin_->cuda || worldSize_ < 2) return nullptr;
  const bool enabled = envInt("SYNCBN_SHARED_MEMORY_SUM", 1, 0, 1) == 1;
  C10dKeyValueStore store(origin_->store.impl->store);
  try {
    sharedSum_ = SharedMemorySum::connect(store, rank_, worldSize_, enabled, origin_->timeout);
  } catch (const std::exception& e) {
    rethrowAs("connecting the shared-memory sum", describe(rank_, worldSize_, origin_->timeout), e);
  }
  return sharedSum_.get();
}

void ProcessGroup::allReduceSumSmall(at::Tensor& tensor) {
  if (worldSize_ > kGatherSumMaxRanks) return allReduceSum(tensor);
  SharedMemorySum* shared = sharedSum();
  if (shared && tensor.device().is_cpu() && tensor.scalar_type() == at::kDouble &&
      static_cast<std::size_t>(tensor.numel()) <= SharedMemorySum::kCapacity) {
    ++collectiveCount_;
    at::Tensor values = tensor.contiguous();
    try {
      shared->sum(values.data_ptr<double>(), static_cast<std::size_t>(values.numel()));
    } catch (const std::exception& e) {
      rethrowAs("shared-memory sum", describe(rank_, worldSize_, origin_->timeout), e);
    }
    if (!values.is_same(tensor)) tensor.copy_(values);
    return;
  }
  const std::vector<at::Tensor> parts = allGather(tensor);
  at::Tensor sum = parts[0].clone();
  for (std::size_t r = 1; r < parts.size(); ++r)
    sum.add_(parts[r]);
  tensor.copy_(sum);
}

void ProcessGroup::allReduceAverage(at::Tensor& tensor) {
  allReduceSum(tensor);
  tensor.div_(worldSize_);
}

std::unique_ptr<CollectiveWork> ProcessGroup::allReduceSumAsync(at::Tensor& tensor) {
  ++collectiveCount_;
  std::vector<at::Tensor> tensors{tensor};
  return collectives_->allReduceSumAsync(tensors);
}

void ProcessGroup::broadcast(at::Tensor& tensor, int root) {
  ++collectiveCount_;
  std::vector<at::Tensor> tensors{tensor};
  collectives_->broadcast(tensors, root);
}

std::vector<at::Tensor> ProcessGroup::allGather(const at::Tensor& tensor) {
  ++collectiveCount_;
  std::vector<at::Tensor> in{tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < worldSize_; ++r)
    out[0].push_back(at::empty_like(in[0]));
  collectives_->allGather(out, in);
  return out[0];
}

void ProcessGroup::barrier() {
  ++collectiveCount_;
  collectives_->barrier();
}

}  // namespace syncbn::dist
