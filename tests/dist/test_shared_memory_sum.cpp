// The shared-memory sum on thread ranks: the rank-order result on every rank over thousands of
// sums with shuffled arrivals (its double buffers reused throughout), every rank deciding alike
// whether to share, and a rank that never comes failing the wait with its name.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "dist/shared_memory_sum.h"

namespace syncbn::dist {
namespace {

// A store inside the process, as c10d's HashStore behaves: get() waits for the key.
class MemoryStore final : public KeyValueStore {
 public:
  void set(const std::string& key, const std::string& value) override {
    {
      std::lock_guard lock(mutex_);
      values_[key] = value;
    }
    changed_.notify_all();
  }
  std::string get(const std::string& key) override {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, std::chrono::seconds(20), [&] { return values_.count(key); }))
      throw std::runtime_error("key " + key + " never set");
    return values_.at(key);
  }
  std::int64_t add(const std::string& key, std::int64_t amount) override {
    std::lock_guard lock(mutex_);
    const std::int64_t value = std::stoll(values_.count(key) ? values_[key] : "0") + amount;
    values_[key] = std::to_string(value);
    return value;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::string> values_;
};

// Runs body(rank) on `world` threads and returns what each threw, empty when nothing.
template <class Body>
std::vector<std::string> runRanks(int world, Body body) {
  std::vector<std::string> failures(world);
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < world; ++rank)
    ranks.emplace_back([&, rank] {
      try {
        body(rank);
      } catch (const std::exception& e) {
        failures[rank] = e.what();
      }
    });
  for (auto& t : ranks)
    t.join();
  return failures;
}

// A rank's value i in sum k. Value 0 is 1e16, 1, -1e16, 1, ... by rank: its float64 sum depends
// on the order of the additions (1e16 + 1 rounds back to 1e16), so only rank order gives
// ((1e16 + 1) - 1e16) + 1 = 1 at 4 ranks, where adding the ones first gives 2.
double valueOf(int rank, int sum, std::size_t i) {
  if (i == 0) return rank % 2 == 1 ? 1.0 : (rank % 4 == 0 ? 1e16 : -1e16);
  return 0.1 * rank + 1e-3 * sum + 1e-7 * static_cast<double>(i);
}

std::size_t countOf(int sum) {
  return sum % 97 == 0 ? SharedMemorySum::kCapacity : 1 + static_cast<std::size_t>(sum % 37);
}

TEST(SharedMemorySum, EveryRankGetsTheRankOrderSumOverThousandsOfSums) {
  constexpr int kSums = 3000;
  for (const int world : {2, 3, 4}) {
    SCOPED_TRACE(world);
    MemoryStore store;
    std::vector<std::vector<std::vector<double>>> results(world);
    const auto failures = runRanks(world, [&](int rank) {
      const auto shared =
          SharedMemorySum::connect(store, rank, world, true, std::chrono::seconds(30));
      if (!shared) throw std::runtime_error("threads of one process did not share");
      std::mt19937 jitter(static_cast<unsigned>(rank));
      for (int k = 0; k < kSums; ++k) {
        // Some ranks come late, past the spin, so arrivals change order and sleepers are woken.
        if (jitter() % 16 == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
        std::vector<double> values(countOf(k));
        for (std::size_t i = 0; i < values.size(); ++i)
          values[i] = valueOf(rank, k, i);
        shared->sum(values.data(), values.size());
        results[rank].push_back(std::move(values));
      }
    });
    for (int rank = 0; rank < world; ++rank)
      ASSERT_EQ(failures[rank], "") << "rank " << rank;

    for (int k = 0; k < kSums; ++k) {
      for (std::size_t i = 0; i < countOf(k); ++i) {
        double expected = valueOf(0, k, i);
        for (int r = 1; r < world; ++r)
          expected += valueOf(r, k, i);
        for (int rank = 0; rank < world; ++rank)
          ASSERT_EQ(results[rank][k][i], expected) << "rank " << rank << ", sum " << k << ", " << i;
      }
    }
    if (world == 4) {
      EXPECT_EQ(results[0][0][0], 1.0) << "not added in rank order";
    }
  }
}

TEST(SharedMemorySum, EveryRankDeclinesWhenOneRankOptsOut) {
  MemoryStore store;
  std::vector<int> connected(3, -1);
  const auto failures = runRanks(3, [&](int rank) {
    connected[rank] =
        SharedMemorySum::connect(store, rank, 3, rank != 1, std::chrono::seconds(30)) != nullptr;
  });
  for (int rank = 0; rank < 3; ++rank) {
    EXPECT_EQ(failures[rank], "") << "rank " << rank;
    EXPECT_EQ(connected[rank], 0) << "rank " << rank;
  }
}

TEST(SharedMemorySum, OneRankAloneDoesNotShare) {
  MemoryStore store;
  EXPECT_EQ(SharedMemorySum::connect(store, 0, 1, true, std::chrono::seconds(1)), nullptr);
}

TEST(SharedMemorySum, ConnectionsOneAfterTheOtherOnOneStoreEachGetTheirOwnSegment) {
  MemoryStore store;
  std::vector<double> first(2), second(2);
  const auto failures = runRanks(2, [&](int rank) {
    const auto a = SharedMemorySum::connect(store, rank, 2, true, std::chrono::seconds(30));
    double x = rank + 1.0;
    a->sum(&x, 1);
    const auto b = SharedMemorySum::connect(store, rank, 2, true, std::chrono::seconds(30));
    double y = 10.0 * (rank + 1);
    b->sum(&y, 1);
    a->sum(&x, 1);  // the first connection still works, apart from the second
    first[rank] = x;
    second[rank] = y;
  });
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_EQ(failures[rank], "") << "rank " << rank;
    EXPECT_EQ(first[rank], 6.0) << "rank " << rank;  // (1 + 2), then 3 + 3
    EXPECT_EQ(second[rank], 30.0) << "rank " << rank;
  }
}

TEST(SharedMemorySum, ARankThatNeverComesFailsTheWaitNamingIt) {
  MemoryStore store;
  std::mutex mutex;
  std::condition_variable done;
  bool rankZeroDone = false;
  const auto failures = runRanks(2, [&](int rank) {
    const auto shared =
        SharedMemorySum::connect(store, rank, 2, true, std::chrono::milliseconds(300));
    if (rank == 1) {  // connected, then never sums: rank 0 must give up on its own
      std::unique_lock lock(mutex);
      done.wait(lock, [&] { return rankZeroDone; });
      return;
    }
    struct Release {
      std::mutex& m;
      std::condition_variable& cv;
      bool& flag;
      ~Release() {
        {
          std::lock_guard lock(m);
          flag = true;
        }
        cv.notify_all();
      }
    } release{mutex, done, rankZeroDone};
    double x = 1.0;
    shared->sum(&x, 1);
  });
  EXPECT_NE(failures[0].find("waited more than 300 ms for rank 1"), std::string::npos)
      << failures[0];
  EXPECT_EQ(failures[1], "");
}

TEST(SharedMemorySum, MoreValuesThanItsCapacityAreRefused) {
  MemoryStore store;
  const auto failures = runRanks(2, [&](int rank) {
    const auto shared = SharedMemorySum::connect(store, rank, 2, true, std::chrono::seconds(30));
    std::vector<double> values(SharedMemorySum::kCapacity + 1);
    shared->sum(values.data(), values.size());
  });
  for (int rank = 0; rank < 2; ++rank)
    EXPECT_NE(failures[rank].find("more than its capacity"), std::string::npos) << failures[rank];
}

}  // namespace
}  // namespace syncbn::dist
