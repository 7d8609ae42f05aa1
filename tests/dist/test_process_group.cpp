// The c10d wrapper: rendezvous from the environment, a real TCPStore rendezvous, collectives,
// and a hung collective failing after its timeout with a clear error.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <thread>

#include "dist/child_process.h"
#include "dist/free_port.h"
#include "dist/process_group.h"

namespace syncbn::dist {
namespace {

// Sets environment variables for one test and restores the previous values afterwards.
class ScopedEnvironment {
 public:
  ScopedEnvironment(std::initializer_list<std::pair<const char*, const char*>> values) {
    for (const char* name :
         {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_PROCID",
          "SLURM_NTASKS", "SLURM_LOCALID", "TORCHELASTIC_USE_AGENT_STORE",
          "TORCHELASTIC_RESTART_COUNT", "SYNCBN_SHARED_MEMORY_SUM"}) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      ::unsetenv(name);
    }
    for (const auto& [name, value] : values)
      ::setenv(name, value, 1);
  }
  ~ScopedEnvironment() {
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(Rendezvous, ReadsTorchrunEnvironment) {
  ScopedEnvironment env{{"RANK", "2"},
                        {"WORLD_SIZE", "4"},
                        {"LOCAL_RANK", "0"},
                        {"MASTER_ADDR", "10.1.2.3"},
                        {"MASTER_PORT", "1234"}};
  const Rendezvous r = Rendezvous::fromEnvironment();
  EXPECT_EQ(r.rank, 2);
  EXPECT_EQ(r.worldSize, 4);
  EXPECT_EQ(r.localRank, 0);
  EXPECT_EQ(r.masterAddr, "10.1.2.3");
  EXPECT_EQ(r.masterPort, 1234);
}

TEST(Rendezvous, FallsBackToSlurm) {
  ScopedEnvironment env{{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"}};
  const Rendezvous r = Rendezvous::fromEnvironment();
  EXPECT_EQ(r.rank, 5);
  EXPECT_EQ(r.worldSize, 8);
  EXPECT_EQ(r.localRank, 1);
}

TEST(Rendezvous, MalformedVariablesNameTheVariable) {
  {
    ScopedEnvironment env{{"RANK", "one"}, {"WORLD_SIZE", "2"}};
    try {
      Rendezvous::fromEnvironment();
      FAIL() << "accepted RANK=one";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("RANK='one'"), std::string::npos) << e.what();
    }
  }
  ScopedEnvironment env{{"RANK", "2"}, {"WORLD_SIZE", "2"}};
  EXPECT_THROW(Rendezvous::fromEnvironment(), std::runtime_error);  // rank outside the world
}

// Rank threads that meet through a TCPStore at 127.0.0.1:port, each with its own group;
// `body(rank, group)` returns what went wrong, empty when nothing did.
template <class Body>
void runTcpRanks(int world, int port, Body body) {
  std::vector<std::thread> ranks;
  std::vector<std::string> failures(world);
  for (int rank = 0; rank < world; ++rank) {
    ranks.emplace_back([&, rank] {
      try {
        Rendezvous r;
        r.rank = rank;
        r.worldSize = world;
        r.masterPort = port;
        r.timeout = std::chrono::seconds(30);
        failures[rank] = body(rank, ProcessGroup::create(Store::tcp(r), rank, world, Backend::Auto,
                                                         false, r.timeout));
      } catch (const std::exception& e) {
        failures[rank] = e.what();
      }
    });
  }
  for (auto& t : ranks)
    t.join();
  for (int rank = 0; rank < world; ++rank)
    EXPECT_EQ(failures[rank], "") << "rank " << rank;
}

TEST(ProcessGroup, TcpRendezvousAndCollectives) {
  constexpr int kWorld = 3;
  runTcpRanks(kWorld, pickFreePort(), [](int rank, const std::shared_ptr<ProcessGroup>& group) {
    std::string failure;
    if (group->backend() != Backend::Gloo) failure = "auto did not pick gloo on CPU";
    torch::Tensor t = torch::full({2}, static_cast<double>(rank + 1), torch::kDouble);
    group->allReduceSum(t);
    if (t[0].item<double>() != 6.0) failure = "all-reduce sum";
    torch::Tensor b = torch::full({1}, static_cast<float>(rank == 1 ? 42 : 0));
    group->broadcast(b, 1);
    if (b.item<float>() != 42) failure = "broadcast from rank 1";
    const auto gathered = group->allGather(torch::full({1}, static_cast<float>(rank)));
    for (int i = 0; i < kWorld; ++i)
      if (gathered[i].item<float>() != i) failure = "all-gather";
    group->barrier();
    if (group->collectiveCount() != 4) failure = "collective count";
    return failure;
  });
}

// The small-tensor sum, on both of its paths: an all-gather summed in rank order up to
// kGatherSumMaxRanks ranks, an all-reduce beyond. The first value is 1e16, 1, -1e16, 1, ... by
// rank, whose float64 sum depends on the order of the additions (1e16 + 1 rounds back to 1e16):
// in rank order it is ((1e16 + 1) - 1e16) + 1 = 1 at 4 ranks, where adding the ones first gives 2.
// Every rank must end with the same bits, on either path.
double orderSensitiveValue(int rank) {
  return rank % 2 == 1 ? 1.0 : (rank % 4 == 0 ? 1e16 : -1e16);
}

// Rank threads of one process share memory, so up to kGatherSumMaxRanks the sum goes through
// SharedMemorySum; with SYNCBN_SHARED_MEMORY_SUM=0 it is the all-gather, with the same bits.
std::vector<torch::Tensor> smallSumOnEveryRank(int world, bool expectSharedMemory) {
  std::vector<torch::Tensor> results(world);
  runTcpRanks(world, pickFreePort(), [&](int rank, const std::shared_ptr<ProcessGroup>& group) {
    torch::Tensor t = torch::tensor({orderSensitiveValue(rank), 3.0 + rank}, torch::kDouble);
    group->allReduceSumSmall(t);
    results[rank] = t;
    if (group->smallSumsShareMemory() != expectSharedMemory) return std::string("transport");
    return group->collectiveCount() == 1 ? std::string() : "not one collective";
  });
  return results;
}

TEST(ProcessGroup, SmallSumsAgreeBitwiseOnEveryRank) {
  for (const int world : {4, ProcessGroup::kGatherSumMaxRanks + 1}) {
    SCOPED_TRACE(world);
    const auto results = smallSumOnEveryRank(world, world <= ProcessGroup::kGatherSumMaxRanks);
    double sumOfIndices = 0;
    for (int rank = 0; rank < world; ++rank)
      sumOfIndices += 3.0 + rank;
    for (int rank = 0; rank < world; ++rank) {
      ASSERT_TRUE(results[rank].defined()) << "rank " << rank;
      EXPECT_TRUE(torch::equal(results[rank], results[0])) << "rank " << rank << " disagrees";
      EXPECT_EQ(results[rank][1].item<double>(), sumOfIndices) << "rank " << rank;
    }
    if (world == 4) {
      EXPECT_EQ(results[0][0].item<double>(), 1.0) << "not added in rank order";
    }
  }
}

TEST(ProcessGroup, SmallSumsThroughSharedMemoryMatchTheAllGatherBitwise) {
  constexpr int kWorld = 4;
  const auto shared = smallSumOnEveryRank(kWorld, true);
  std::vector<torch::Tensor> gathered;
  {
    const ScopedEnvironment env{{"SYNCBN_SHARED_MEMORY_SUM", "0"}};
    gathered = smallSumOnEveryRank(kWorld, false);
  }
  for (int rank = 0; rank < kWorld; ++rank) {
    ASSERT_TRUE(shared[rank].defined() && gathered[rank].defined()) << "rank " << rank;
    EXPECT_TRUE(torch::equal(shared[rank], gathered[rank])) << "rank " << rank;
  }
}

// A rank whose process ends (here between two sums, as a crashed rank would) must not leave
// the others waiting out the group's timeout: the shared-memory wait notices and names it.
TEST(ProcessGroup, ASharedMemorySumFailsPromptlyWhenTheOtherRanksProcessEnds) {
  const int port = pickFreePort();
  std::vector<std::string> environment;
  for (char** entry = environ; *entry; ++entry)
    environment.emplace_back(*entry);
  ChildProcess worker = ChildProcess::spawn({PROCESS_GROUP_TEST_WORKER, std::to_string(port)},
                                            environment, STDOUT_FILENO, STDERR_FILENO);
  Rendezvous r;
  r.rank = 0;
  r.worldSize = 2;
  r.masterPort = port;
  r.timeout = std::chrono::seconds(60);
  const auto group = ProcessGroup::create(Store::tcp(r), 0, 2, Backend::Gloo, false, r.timeout);
  torch::Tensor t = torch::full({3}, 1.0, torch::kDouble);
  group->allReduceSumSmall(t);
  EXPECT_TRUE(group->smallSumsShareMemory());
  EXPECT_EQ(t[0].item<double>(), 3.0);

  const auto start = std::chrono::steady_clock::now();
  try {
    group->allReduceSumSmall(t);
    FAIL() << "a sum with a rank that ended returned";
  } catch (const std::runtime_error& e) {
    const std::string expected =
        "rank 1 (process " + std::to_string(worker.pid()) + ") ended while rank 0 waited";
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
  // Not a timing assertion: the group's timeout is 60 s, and the failure must not be it.
  EXPECT_LT(std::chrono::steady_clock::now() - start, r.timeout);
  std::optional<ExitStatus> status;
  while (!(status = worker.tryReap()))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(status->exitCode, 0) << "the worker's own sum failed";
}

// torchrun 2.4+ hosts the store in its agent and says so: rank 0 must then join it as a
// client (hosting its own on the agent's port would fail), under the attempt's key prefix.
TEST(ProcessGroup, RanksJoinTorchrunsAgentStoreWhenToldTo) {
  constexpr int kWorld = 2;
  const int port = pickFreePort();
  Rendezvous agent;
  agent.worldSize = 1;
  agent.masterPort = port;
  agent.timeout = std::chrono::seconds(30);
  const Store agentStore = Store::tcp(agent);  // the agent's server, as torchrun starts it
  const ScopedEnvironment env{{"TORCHELASTIC_USE_AGENT_STORE", "True"},
                              {"TORCHELASTIC_RESTART_COUNT", "0"}};
  runTcpRanks(kWorld, port, [](int rank, const std::shared_ptr<ProcessGroup>& group) {
    torch::Tensor t = torch::full({1}, static_cast<double>(rank + 1), torch::kDouble);
    group->allReduceSum(t);
    return t.item<double>() == 3.0 ? std::string() : std::string("all-reduce sum");
  });
}

// Rank threads over one in-process store, each with its own Gloo group.
template <class Body>
void runInProcessRanks(int world, Body body) {
  const Store store = Store::inProcess();
  std::vector<std::thread> ranks;
  std::vector<std::string> failures(world);
  for (int rank = 0; rank < world; ++rank) {
    ranks.emplace_back([&, rank] {
      try {
        body(rank, ProcessGroup::create(store, rank, world, Backend::Gloo, false,
                                        std::chrono::seconds(30)));
      } catch (const std::exception& e) {
        failures[rank] = e.what();
      }
    });
  }
  for (auto& t : ranks)
    t.join();
  for (int rank = 0; rank < world; ++rank)
    EXPECT_EQ(failures[rank], "") << "rank " << rank;
}

TEST(ProcessGroup, AsyncAllReducesCompleteInIssueOrder) {
  constexpr int kWorld = 3;
  runInProcessRanks(kWorld, [](int rank, std::shared_ptr<ProcessGroup> group) {
    std::vector<torch::Tensor> tensors;
    std::vector<std::unique_ptr<CollectiveWork>> works;
    for (int i = 0; i < 4; ++i) {
      tensors.push_back(torch::full({3 + i}, static_cast<double>((rank + 1) * (i + 1))));
      works.push_back(group->allReduceSumAsync(tensors.back()));
    }
    for (int i = 3; i >= 0; --i) {  // the waiting order does not matter
      works[i]->wait();
      works[i]->wait();  // a second wait returns at once
      EXPECT_TRUE(torch::equal(tensors[i], torch::full({3 + i}, 6.0 * (i + 1), torch::kDouble)))
          << "rank " << rank << " tensor " << i;
    }
    EXPECT_EQ(group->collectiveCount(), 4);
  });
}

TEST(ProcessGroup, SiblingGroupsCommunicateIndependently) {
  constexpr int kWorld = 2;
  runInProcessRanks(kWorld, [](int rank, std::shared_ptr<ProcessGroup> group) {
    auto first = group->createSiblingGroup("gradients");
    auto second = group->createSiblingGroup("gradients");  // same purpose: distinct keys
    EXPECT_EQ(first->rank(), rank);
    EXPECT_EQ(first->worldSize(), 2);
    // An async collective pending on a sibling does not stop the parent from communicating.
    torch::Tensor onSibling = torch::full({2}, static_cast<double>(rank + 1));
    auto work = first->allReduceSumAsync(onSibling);
    torch::Tensor onParent = torch::full({1}, static_cast<double>(10 * (rank + 1)));
    group->allReduceSum(onParent);
    torch::Tensor onSecond = torch::full({1}, static_cast<double>(rank));
    second->allReduceSum(onSecond);
    work->wait();
    EXPECT_EQ(onSibling[0].item<double>(), 3.0);
    EXPECT_EQ(onParent.item<double>(), 30.0);
    EXPECT_EQ(onSecond.item<double>(), 1.0);
    EXPECT_EQ(group->collectiveCount(), 1);
    EXPECT_EQ(first->collectiveCount(), 1);
  });
}

TEST(ProcessGroup, SiblingOfAGroupNotMadeByCreateIsRefused) {
  ProcessGroup bare(nullptr, 0, 1, Backend::Gloo);
  EXPECT_THROW(bare.createSiblingGroup("gradients"), std::logic_error);
}

TEST(ProcessGroup, HungCollectiveFailsAfterTheTimeoutNamingIt) {
  // Rank 1 never joins the all-reduce; rank 0 must fail after its 1 s timeout, not hang.
  const Store store = Store::inProcess();
  std::promise<void> rank0Done;
  std::thread rank1([&] {
    auto group = ProcessGroup::create(store, 1, 2, Backend::Gloo, false, std::chrono::seconds(1));
    rank0Done.get_future().wait();
  });
  auto group = ProcessGroup::create(store, 0, 2, Backend::Gloo, false, std::chrono::seconds(1));
  torch::Tensor t = torch::ones({4});
  const auto start = std::chrono::steady_clock::now();
  std::string message;
  try {
    group->allReduceSum(t);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  rank0Done.set_value();
  rank1.join();
  EXPECT_NE(message.find("all_reduce over gloo rank 0 of 2 (timeout 1 s) failed"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("frame #"), std::string::npos) << "backtrace leaked into: " << message;
  EXPECT_LT(waited, std::chrono::seconds(10));  // a bound on hanging, not a speed check
}

}  // namespace
}  // namespace syncbn::dist
