// DistributedSampler sharding and BatchLoader batching, ordering, stopping and errors, with a fake
// producer whose pixels encode (index, epoch) and whose labels follow from the index.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "data/batch_loader.h"
#include "data/distributed_sampler.h"

namespace syncbn::data {
namespace {

using namespace std::chrono_literals;

constexpr int kHeight = 4;
constexpr int kWidth = 6;

uint8_t pixelByte(std::size_t index, int epoch, std::size_t k) {
  return static_cast<uint8_t>((index * 31 + static_cast<std::size_t>(epoch) * 17 + k) % 251);
}

// index % 3 labels: index 0, 3, 6, ... are background images.
std::vector<LabelRow> labelsFor(std::size_t index) {
  std::vector<LabelRow> rows;
  for (std::size_t j = 0; j < index % 3; ++j)
    rows.push_back({static_cast<int>((index + j) % 5), 0.1f * static_cast<float>(index % 10), 0.5f,
                    0.01f * static_cast<float>(j + 1), 0.25f});
  return rows;
}

TrainingExample fakeExample(std::size_t index, int epoch) {
  TrainingExample example;
  example.index = index;
  example.height = kHeight;
  example.width = kWidth;
  example.rgb.resize(kHeight * kWidth * 3);
  for (std::size_t k = 0; k < example.rgb.size(); ++k)
    example.rgb[k] = pixelByte(index, epoch, k);
  example.labels = labelsFor(index);
  return example;
}

// The [3, H, W] image the loader must deliver for (index, epoch), built without the loader.
torch::Tensor expectedImage(std::size_t index, int epoch) {
  const TrainingExample example = fakeExample(index, epoch);
  return torch::from_blob(const_cast<uint8_t*>(example.rgb.data()), {kHeight, kWidth, 3},
                          torch::kUInt8)
      .permute({2, 0, 1})
      .clone();
}

std::vector<Batch> readEpoch(BatchLoader& loader, int epoch) {
  loader.start(epoch);
  std::vector<Batch> batches;
  while (std::optional<Batch> batch = loader.next())
    batches.push_back(std::move(*batch));
  return batches;
}

// Aborts the test binary when a test deadlocks, so ctest reports it instead of hanging.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit = 30s)
      : thread_([limit](std::stop_token stop) {
          std::mutex mutex;
          std::condition_variable_any woken;
          std::unique_lock lock(mutex);
          if (!woken.wait_for(lock, stop, limit, [] { return false; }) && !stop.stop_requested()) {
            std::fprintf(stderr, "watchdog: test still running after %llds, deadlock?\n",
                         static_cast<long long>(limit.count()));
            std::abort();
          }
        }) {}

 private:
  std::jthread thread_;  // its destructor requests stop and joins
};

std::vector<std::size_t> allRanks(std::size_t n, int worldSize, int epoch, bool dropLast = false) {
  std::vector<std::size_t> all;
  for (int rank = 0; rank < worldSize; ++rank) {
    const DistributedSampler sampler(n, worldSize, rank, true, 7, dropLast);
    const std::vector<std::size_t> mine = sampler.indices(epoch);
    EXPECT_EQ(mine.size(), sampler.numSamples());
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  return all;
}

// ---------------------------------------------------------------------------------------------
// DistributedSampler

TEST(DistributedSampler, TenImagesOnThreeRanksPadTwoRepeats) {
  const std::vector<std::size_t> all = allRanks(10, 3, 0);
  ASSERT_EQ(all.size(), 12u);
  std::map<std::size_t, int> counts;
  for (const std::size_t index : all)
    ++counts[index];
  ASSERT_EQ(counts.size(), 10u);  // every index seen
  int twice = 0;
  for (const auto& [index, count] : counts) {
    EXPECT_LE(count, 2) << index;
    twice += count == 2;
  }
  EXPECT_EQ(twice, 2);
  // The repeats are the first two entries of the epoch's permutation.
  const std::vector<std::size_t> order = DistributedSampler(10, 3, 0, true, 7).epochOrder(0);
  EXPECT_EQ(counts[order[0]], 2);
  EXPECT_EQ(counts[order[1]], 2);
}

TEST(DistributedSampler, EveryIndexOnceAcrossRanksPlusWrappingPadding) {
  for (const auto& [n, worldSize] : std::vector<std::pair<std::size_t, int>>{
           {10, 3}, {12, 4}, {7, 8}, {2, 5}, {1, 3}, {100, 7}, {5, 1}, {64, 8}}) {
    SCOPED_TRACE("n=" + std::to_string(n) + " W=" + std::to_string(worldSize));
    const std::size_t samples = (n + static_cast<std::size_t>(worldSize) - 1) / worldSize;
    EXPECT_EQ(DistributedSampler(n, worldSize, 0, true, 7).numSamples(), samples);
    // Expected multiset: the unpadded permutation (W = 1) read cyclically to W * samples.
    const std::vector<std::size_t> permutation = DistributedSampler(n, 1, 0, true, 7).indices(3);
    ASSERT_EQ(permutation.size(), n);
    std::vector<std::size_t> expected;
    for (std::size_t i = 0; i < samples * worldSize; ++i)
      expected.push_back(permutation[i % n]);
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(allRanks(n, worldSize, 3), expected);
  }
}

TEST(DistributedSampler, DropLastTruncatesToAMultipleOfTheWorldSize) {
  const DistributedSampler sampler(10, 3, 0, true, 7, true);
  EXPECT_EQ(sampler.numSamples(), 3u);
  std::vector<std::size_t> expected = DistributedSampler(10, 1, 0, true, 7).indices(0);
  expected.resize(9);  // the permutation's tail is dropped
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(allRanks(10, 3, 0, true), expected);
  EXPECT_EQ(DistributedSampler(2, 3, 1, true, 7, true).indices(0).size(), 0u);
}

TEST(DistributedSampler, RankTakesEveryWorldSizethPositionOfOneSharedOrder) {
  for (const int worldSize : {1, 2, 3, 5}) {
    const std::vector<std::size_t> order =
        DistributedSampler(23, worldSize, 0, true, 9).epochOrder(4);
    // The permutation part is the same for every world size.
    const std::vector<std::size_t> single = DistributedSampler(23, 1, 0, true, 9).indices(4);
    EXPECT_TRUE(std::equal(single.begin(), single.end(), order.begin())) << worldSize;
    for (int rank = 0; rank < worldSize; ++rank) {
      const std::vector<std::size_t> mine =
          DistributedSampler(23, worldSize, rank, true, 9).indices(4);
      for (std::size_t j = 0; j < mine.size(); ++j)
        EXPECT_EQ(mine[j], order[j * worldSize + static_cast<std::size_t>(rank)]);
    }
  }
}

TEST(DistributedSampler, ShuffleChangesWithEpochAndSeedNotWithRank) {
  const std::vector<std::size_t> epoch0 = DistributedSampler(50, 1, 0, true, 1).indices(0);
  const std::vector<std::size_t> epoch1 = DistributedSampler(50, 1, 0, true, 1).indices(1);
  EXPECT_NE(epoch0, epoch1);
  EXPECT_NE(epoch0, DistributedSampler(50, 1, 0, true, 2).indices(0));
  EXPECT_EQ(epoch0, DistributedSampler(50, 1, 0, true, 1).indices(0));  // deterministic
  std::vector<std::size_t> sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i)
    ASSERT_EQ(sorted[i], i);  // a permutation
  EXPECT_EQ(DistributedSampler(4, 3, 1, true, 1).epochOrder(2),
            DistributedSampler(4, 3, 2, true, 1).epochOrder(2));
  // seed + epoch, as torch: (seed 1, epoch 1) is (seed 2, epoch 0).
  EXPECT_EQ(epoch1, DistributedSampler(50, 1, 0, true, 2).indices(0));
}

TEST(DistributedSampler, NoShuffleKeepsDatasetOrder) {
  EXPECT_EQ(DistributedSampler(7, 2, 1, false, 5).indices(3),
            (std::vector<std::size_t>{1, 3, 5, 0}));
}

TEST(DistributedSampler, OrderIsPinnedAcrossBuilds) {
  // Resuming a run on another machine or compiler must replay the same order: this pins the
  // splitmix64 Fisher-Yates. Changing it is a deliberate, documented break.
  EXPECT_EQ(shuffledRange(10, 0), (std::vector<std::size_t>{6, 3, 2, 9, 8, 1, 4, 7, 0, 5}));
  EXPECT_EQ(shuffledRange(10, 12345), (std::vector<std::size_t>{8, 6, 7, 2, 1, 3, 9, 5, 0, 4}));
}

TEST(DistributedSampler, ShuffleIsRoughlyUniform) {
  // Each value lands in position 0 about equally often over many seeds (a biased draw or an
  // off-by-one in Fisher-Yates fails this: e.g. never leaving an element in place).
  constexpr int kTrials = 20000;
  std::vector<int> first(5, 0);
  for (int seed = 0; seed < kTrials; ++seed)
    ++first[shuffledRange(5, static_cast<uint64_t>(seed))[0]];
  for (const int count : first) {
    EXPECT_GT(count, kTrials / 5 * 9 / 10);
    EXPECT_LT(count, kTrials / 5 * 11 / 10);
  }
}

TEST(DistributedSampler, RejectsBadWorldSizeAndRank) {
  EXPECT_THROW(DistributedSampler(10, 0, 0, true, 0), std::invalid_argument);
  EXPECT_THROW(DistributedSampler(10, 2, 2, true, 0), std::invalid_argument);
  EXPECT_THROW(DistributedSampler(10, 2, -1, true, 0), std::invalid_argument);
  EXPECT_TRUE(DistributedSampler(0, 2, 1, true, 0).indices(0).empty());
}

// ---------------------------------------------------------------------------------------------
// BatchLoader

// One rank's loader over the fake producer.
BatchLoader fakeLoader(std::size_t n, int worldSize, int rank, int batch,
                       LoaderOptions options = {}, bool shuffle = true) {
  return BatchLoader(fakeExample, DistributedSampler(n, worldSize, rank, shuffle, 11), batch,
                     options);
}

// Checks a batch's tensors against the producer, independently of the loader's collation.
void expectMatchesProducer(const Batch& batch) {
  const auto n = static_cast<int64_t>(batch.indices.size());
  ASSERT_EQ(batch.images.sizes(), (std::vector<int64_t>{n, 3, kHeight, kWidth}));
  ASSERT_EQ(batch.images.scalar_type(), torch::kUInt8);
  ASSERT_EQ(batch.targets.scalar_type(), torch::kFloat32);
  std::vector<float> rows;
  for (int64_t i = 0; i < n; ++i) {
    const std::size_t index = batch.indices[static_cast<std::size_t>(i)];
    EXPECT_TRUE(torch::equal(batch.images[i], expectedImage(index, batch.epoch))) << index;
    for (const LabelRow& row : labelsFor(index))
      rows.insert(rows.end(), {static_cast<float>(i), static_cast<float>(row.cls), row.cx, row.cy,
                               row.w, row.h});
  }
  ASSERT_EQ(batch.targets.dim(), 2);
  ASSERT_EQ(batch.targets.size(1), 6);
  const torch::Tensor expected =
      torch::tensor(rows, torch::kFloat32).reshape({static_cast<int64_t>(rows.size() / 6), 6});
  EXPECT_TRUE(torch::equal(batch.targets.contiguous(), expected));
}

TEST(BatchLoader, DeliversTheRanksIndicesInOrderWithTheProducersPixels) {
  Watchdog watchdog;
  BatchLoader loader = fakeLoader(23, 2, 1, 5);
  EXPECT_EQ(loader.stepsPerEpoch(), 3);  // 12 samples: 5, 5, 2
  const std::vector<Batch> batches = readEpoch(loader, 2);
  ASSERT_EQ(batches.size(), 3u);
  std::vector<std::size_t> seen;
  for (std::size_t s = 0; s < batches.size(); ++s) {
    EXPECT_EQ(batches[s].step, static_cast<int>(s));
    EXPECT_EQ(batches[s].epoch, 2);
    EXPECT_GE(batches[s].waitMs, 0.0);
    expectMatchesProducer(batches[s]);
    seen.insert(seen.end(), batches[s].indices.begin(), batches[s].indices.end());
  }
  EXPECT_EQ(batches.back().indices.size(), 2u);
  EXPECT_EQ(seen, loader.sampler().indices(2));
}

TEST(BatchLoader, DropLastDropsTheShortBatch) {
  Watchdog watchdog;
  BatchLoader loader = fakeLoader(23, 2, 1, 5, {.dropLast = true});
  EXPECT_EQ(loader.stepsPerEpoch(), 2);
  const std::vector<Batch> batches = readEpoch(loader, 0);
  ASSERT_EQ(batches.size(), 2u);
  for (const Batch& batch : batches)
    EXPECT_EQ(batch.indices.size(), 5u);
}

// The union property, as documented in batch_loader.h: element j of rank r's batch at step i is
// element j*W + r of the single-rank batch of W*b at step i, for positions below n; beyond n the
// ranks' last step holds the padding, the epoch order's repeats of its first entries.
TEST(BatchLoader, RankBatchesInterleaveIntoTheSingleRankBatch) {
  Watchdog watchdog;
  for (const int worldSize : {1, 2, 3, 4}) {
    for (const int b : {1, 2, 3}) {
      const auto wb = static_cast<std::size_t>(worldSize * b);
      for (const std::size_t n : {3 * wb, 3 * wb + 1, 2 * wb + wb - 1}) {
        SCOPED_TRACE("W=" + std::to_string(worldSize) + " b=" + std::to_string(b) +
                     " n=" + std::to_string(n));
        BatchLoader single = fakeLoader(n, 1, 0, worldSize * b, {.workers = 1});
        const std::vector<Batch> whole = readEpoch(single, 5);
        std::vector<std::vector<Batch>> ranks;
        for (int rank = 0; rank < worldSize; ++rank) {
          BatchLoader loader = fakeLoader(n, worldSize, rank, b, {.workers = 2});
          ranks.push_back(readEpoch(loader, 5));
          ASSERT_EQ(ranks.back().size(), whole.size()) << "every rank takes as many steps";
        }
        const std::vector<std::size_t> order =
            DistributedSampler(n, worldSize, 0, true, 11).epochOrder(5);
        for (std::size_t i = 0; i < whole.size(); ++i) {
          const std::size_t base = i * wb;
          std::vector<std::size_t> united;
          std::vector<torch::Tensor> images(wb);
          for (int rank = 0; rank < worldSize; ++rank) {
            const Batch& batch = ranks[static_cast<std::size_t>(rank)][i];
            for (std::size_t j = 0; j < batch.indices.size(); ++j) {
              const std::size_t position = base + j * worldSize + static_cast<std::size_t>(rank);
              ASSERT_LT(position, order.size());
              EXPECT_EQ(batch.indices[j], order[position]);
              if (position < n) {
                EXPECT_EQ(batch.indices[j], whole[i].indices[position - base]);
                images[position - base] = batch.images[static_cast<int64_t>(j)];
                united.push_back(batch.indices[j]);
              } else {
                EXPECT_EQ(batch.indices[j], order[position - n]) << "padding repeats the start";
              }
            }
          }
          // As multisets, and the interleaved images equal the single-rank batch's bytes.
          std::vector<std::size_t> single = whole[i].indices;
          std::sort(united.begin(), united.end());
          std::sort(single.begin(), single.end());
          EXPECT_EQ(united, single);
          images.resize(whole[i].indices.size());
          EXPECT_TRUE(torch::equal(torch::stack(images), whole[i].images));
        }
      }
    }
  }
}

TEST(BatchLoader, SameEpochIsByteIdenticalWithAnyWorkerCountDespiteRandomDelays) {
  Watchdog watchdog;
  // Early indices often sleep longer than later ones, so workers finish out of order.
  const auto slowProducer = [](std::size_t index, int epoch) {
    std::this_thread::sleep_for(std::chrono::microseconds((index * 7919 % 5) * 400));
    return fakeExample(index, epoch);
  };
  std::vector<Batch> reference;
  for (const int workers : {0, 1, 2, 4}) {
    SCOPED_TRACE("workers=" + std::to_string(workers));
    BatchLoader loader(slowProducer, DistributedSampler(40, 2, 1, true, 3), 3,
                       {.workers = workers, .prefetchBatches = 3});
    const std::vector<Batch> batches = readEpoch(loader, 1);
    ASSERT_EQ(batches.size(), 7u);
    std::vector<std::size_t> seen;
    for (std::size_t s = 0; s < batches.size(); ++s) {
      EXPECT_EQ(batches[s].step, static_cast<int>(s));
      seen.insert(seen.end(), batches[s].indices.begin(), batches[s].indices.end());
      expectMatchesProducer(batches[s]);
      if (!reference.empty()) {
        EXPECT_TRUE(torch::equal(batches[s].images, reference[s].images));
        EXPECT_TRUE(torch::equal(batches[s].targets, reference[s].targets));
      }
    }
    EXPECT_EQ(seen, loader.sampler().indices(1));
    if (reference.empty()) reference = batches;
  }
}

TEST(BatchLoader, TargetsCarryTheBatchIndexAndSkipBackgroundImages) {
  Watchdog watchdog;
  // No shuffle, one rank: step 0 is indices 0..3 with 0, 1, 2, 0 labels.
  BatchLoader loader = fakeLoader(8, 1, 0, 4, {}, false);
  loader.start(0);
  const std::optional<Batch> batch = loader.next();
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->indices, (std::vector<std::size_t>{0, 1, 2, 3}));
  ASSERT_EQ(batch->targets.sizes(), (std::vector<int64_t>{3, 6}));
  const torch::Tensor column = batch->targets.select(1, 0);
  EXPECT_TRUE(torch::equal(column, torch::tensor({1.0f, 2.0f, 2.0f})));
  EXPECT_FLOAT_EQ(batch->targets[1][1].item<float>(), 2.0f);   // index 2, row 0: class 2
  EXPECT_FLOAT_EQ(batch->targets[2][4].item<float>(), 0.02f);  // index 2, row 1: w
  expectMatchesProducer(*batch);
}

TEST(BatchLoader, AllBackgroundBatchHasZeroTargetRows) {
  Watchdog watchdog;
  const auto background = [](std::size_t index, int epoch) {
    TrainingExample example = fakeExample(index, epoch);
    example.labels.clear();
    return example;
  };
  BatchLoader loader(background, DistributedSampler(6, 1, 0, true, 0), 3);
  for (const Batch& batch : readEpoch(loader, 0)) {
    EXPECT_EQ(batch.targets.sizes(), (std::vector<int64_t>{0, 6}));
    EXPECT_EQ(batch.targets.scalar_type(), torch::kFloat32);
  }
}

// Counts producer calls; optionally holds each call until released.
struct CountingProducer {
  std::atomic<int> calls{0};
  TrainingExample operator()(std::size_t index, int epoch) {
    ++calls;
    return fakeExample(index, epoch);
  }
};

void waitUntil(const std::function<bool()>& condition) {
  while (!condition())
    std::this_thread::sleep_for(1ms);  // the watchdog bounds this
}

TEST(BatchLoader, PrefetchStopsAtTheWindowAndStopReturnsWithAFullQueue) {
  Watchdog watchdog;
  CountingProducer counter;
  constexpr int kBatch = 2;
  constexpr int kPrefetch = 3;
  BatchLoader loader([&](std::size_t i, int e) { return counter(i, e); },
                     DistributedSampler(100, 1, 0, true, 0), kBatch,
                     {.workers = 4, .prefetchBatches = kPrefetch});
  loader.start(0);
  ASSERT_TRUE(loader.next());
  // After one batch taken, the window is steps 1..3: exactly 6 more examples, never more.
  waitUntil([&] { return counter.calls >= (1 + kPrefetch) * kBatch; });
  std::this_thread::sleep_for(20ms);  // give a faulty loader time to overrun the window
  EXPECT_EQ(counter.calls, (1 + kPrefetch) * kBatch);
  loader.stop();  // workers are all waiting on a full window
  EXPECT_FALSE(loader.next());
  EXPECT_EQ(counter.calls, (1 + kPrefetch) * kBatch);
}

TEST(BatchLoader, RestartsAfterStopAndMatchesAFreshLoader) {
  Watchdog watchdog;
  BatchLoader loader = fakeLoader(30, 2, 0, 4);
  loader.start(0);
  ASSERT_TRUE(loader.next());
  loader.stop();
  const std::vector<Batch> restarted = readEpoch(loader, 1);
  BatchLoader fresh = fakeLoader(30, 2, 0, 4);
  const std::vector<Batch> expected = readEpoch(fresh, 1);
  ASSERT_EQ(restarted.size(), expected.size());
  for (std::size_t s = 0; s < expected.size(); ++s) {
    EXPECT_EQ(restarted[s].indices, expected[s].indices);
    EXPECT_TRUE(torch::equal(restarted[s].images, expected[s].images));
  }
  // start() mid-epoch begins the new epoch from its first step.
  loader.start(2);
  ASSERT_TRUE(loader.next());
  loader.start(3);
  const std::optional<Batch> first = loader.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->step, 0);
  EXPECT_EQ(first->epoch, 3);
}

TEST(BatchLoader, StartingAtAStepResumesTheEpochWithTheSameBatches) {
  Watchdog watchdog;
  for (const int workers : {0, 2}) {
    BatchLoader whole = fakeLoader(30, 2, 1, 4, {.workers = workers});
    const std::vector<Batch> expected = readEpoch(whole, 5);  // 15 samples: steps of 4, 4, 4, 3
    ASSERT_EQ(expected.size(), 4u);
    BatchLoader resumed = fakeLoader(30, 2, 1, 4, {.workers = workers});
    resumed.start(5, 2);
    for (std::size_t s = 2; s < expected.size(); ++s) {
      const std::optional<Batch> batch = resumed.next();
      ASSERT_TRUE(batch) << s;
      EXPECT_EQ(batch->step, static_cast<int>(s));
      EXPECT_EQ(batch->indices, expected[s].indices);
      EXPECT_TRUE(torch::equal(batch->images, expected[s].images));
    }
    EXPECT_FALSE(resumed.next());
    resumed.start(5, 9);  // past the end: an empty epoch
    EXPECT_FALSE(resumed.next());
  }
}

TEST(BatchLoader, DestructorWithoutStopJoinsWorkersMidExample) {
  Watchdog watchdog;
  std::atomic<int> finished{0};
  {
    BatchLoader loader(
        [&](std::size_t index, int epoch) {
          std::this_thread::sleep_for(5ms);
          ++finished;
          return fakeExample(index, epoch);
        },
        DistributedSampler(1000, 1, 0, true, 0), 4, {.workers = 3, .prefetchBatches = 2});
    loader.start(0);
    ASSERT_TRUE(loader.next());
  }
  const int afterDestruction = finished;
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(finished, afterDestruction) << "a worker outlived the loader";
  EXPECT_LE(afterDestruction, (1 + 2) * 4 + 3);  // the window plus one example per worker
}

TEST(BatchLoader, StopFromAnotherThreadEndsABlockedNext) {
  Watchdog watchdog;
  BatchLoader loader(
      [](std::size_t index, int epoch) {
        std::this_thread::sleep_for(index == 0 ? 300ms : 1ms);
        return fakeExample(index, epoch);
      },
      DistributedSampler(10, 1, 0, false, 0), 2);
  loader.start(0);
  std::jthread stopper([&] {
    std::this_thread::sleep_for(20ms);
    loader.stop();
  });
  EXPECT_FALSE(loader.next());  // blocked on index 0 until stop()
}

TEST(BatchLoader, ProducerExceptionNamesTheIndexAfterEarlierBatches) {
  Watchdog watchdog;
  for (const int workers : {0, 1, 3}) {
    SCOPED_TRACE("workers=" + std::to_string(workers));
    const DistributedSampler sampler(20, 1, 0, true, 4);
    const std::vector<std::size_t> order = sampler.indices(0);
    const std::size_t bad = order[9];  // step 2 with batch 4
    BatchLoader loader(
        [bad](std::size_t index, int epoch) {
          if (index == bad && epoch == 0) throw std::runtime_error("corrupt JPEG");
          return fakeExample(index, epoch);
        },
        sampler, 4, {.workers = workers});
    loader.start(0);
    ASSERT_TRUE(loader.next());
    ASSERT_TRUE(loader.next());
    for (int attempt = 0; attempt < 2; ++attempt) {  // the error repeats until start()
      try {
        loader.next();
        ADD_FAILURE() << "no LoaderError";
      } catch (const LoaderError& e) {
        EXPECT_NE(std::string(e.what()).find("dataset index " + std::to_string(bad) + " (epoch 0)"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("corrupt JPEG"), std::string::npos) << e.what();
        EXPECT_EQ(e.indices(), std::vector<std::size_t>{bad});
      }
    }
    EXPECT_EQ(readEpoch(loader, 1).size(), 5u);  // the next epoch is unaffected
  }
}

TEST(BatchLoader, TheEarliestFailedStepWinsWhateverFailsFirst) {
  Watchdog watchdog;
  // Index 9 (step 2) and index 17 (step 4) fail; each order in time must report 9 at step 2.
  for (const auto& [delay9, delay17] :
       std::vector<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>>{{30ms, 0ms},
                                                                                    {10ms, 60ms}}) {
    BatchLoader loader(
        [&](std::size_t index, int epoch) {
          if (index == 9 || index == 17) {
            std::this_thread::sleep_for(index == 9 ? delay9 : delay17);
            throw std::runtime_error("bad " + std::to_string(index));
          }
          return fakeExample(index, epoch);
        },
        DistributedSampler(24, 1, 0, false, 0), 4, {.workers = 3, .prefetchBatches = 4});
    loader.start(0);
    ASSERT_TRUE(loader.next());
    ASSERT_TRUE(loader.next());
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        loader.next();
        ADD_FAILURE() << "no LoaderError";
      } catch (const LoaderError& e) {
        EXPECT_EQ(e.indices(), std::vector<std::size_t>{9}) << e.what();
      }
      std::this_thread::sleep_for(80ms);  // lets a later failure arrive; it must not replace 9
    }
  }
}

TEST(BatchLoader, NonStandardExceptionIsReportedToo) {
  Watchdog watchdog;
  BatchLoader loader([](std::size_t, int) -> TrainingExample { throw 42; },
                     DistributedSampler(4, 1, 0, false, 0), 2);
  loader.start(0);
  try {
    loader.next();
    ADD_FAILURE() << "no LoaderError";
  } catch (const LoaderError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset index 0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unknown exception"), std::string::npos) << e.what();
  }
}

TEST(BatchLoader, MixedImageSizesInOneBatchNameTheIndices) {
  Watchdog watchdog;
  BatchLoader loader(
      [](std::size_t index, int epoch) {
        TrainingExample example = fakeExample(index, epoch);
        if (index == 3) {
          example.height = 2;
          example.rgb.resize(2 * kWidth * 3);
        }
        return example;
      },
      DistributedSampler(8, 1, 0, false, 0), 4);
  loader.start(0);
  try {
    loader.next();
    ADD_FAILURE() << "no LoaderError";
  } catch (const LoaderError& e) {
    EXPECT_NE(std::string(e.what()).find("index 0 is 4x6, index 3 is 2x6"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.indices(), (std::vector<std::size_t>{0, 3}));
  }
}

TEST(BatchLoader, RejectsAWrongByteCountOrIndex) {
  const auto check = [](const ExampleProducer& producer, const std::string& needle) {
    BatchLoader loader(producer, DistributedSampler(2, 1, 0, false, 0), 2, {.workers = 1});
    loader.start(0);
    try {
      loader.next();
      ADD_FAILURE() << "no LoaderError for " << needle;
    } catch (const LoaderError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Watchdog watchdog;
  check(
      [](std::size_t index, int epoch) {
        TrainingExample example = fakeExample(index, epoch);
        if (index == 1) example.rgb.pop_back();
        return example;
      },
      "dataset index 1: image of 4x6 (height x width) holds 71 bytes");
  check(
      [](std::size_t index, int epoch) {
        TrainingExample example = fakeExample(index, epoch);
        example.index = 0;
        return example;
      },
      "dataset index 1 (epoch 0): the producer returned the example of index 0");
}

TEST(BatchLoader, RejectsBadArgumentsAndNextBeforeStart) {
  const DistributedSampler sampler(4, 1, 0, false, 0);
  EXPECT_THROW(BatchLoader(nullptr, sampler, 2), std::invalid_argument);
  EXPECT_THROW(BatchLoader(fakeExample, sampler, 0), std::invalid_argument);
  EXPECT_THROW(BatchLoader(fakeExample, sampler, 2, {.workers = -1}), std::invalid_argument);
  EXPECT_THROW(BatchLoader(fakeExample, sampler, 2, {.prefetchBatches = 0}), std::invalid_argument);
  BatchLoader loader(fakeExample, sampler, 2);
  EXPECT_THROW(loader.next(), std::logic_error);
}

TEST(BatchLoader, PinMemoryOnlyWithCuda) {
  Watchdog watchdog;
  BatchLoader loader = fakeLoader(4, 1, 0, 2, {.pinMemory = true});
  const std::vector<Batch> batches = readEpoch(loader, 0);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].images.is_pinned(), torch::cuda::is_available());
  expectMatchesProducer(batches[0]);
}

TEST(ToFloatImages, DividesBy255OnTheDeviceAndLeavesTheInput) {
  const torch::Tensor images = torch::tensor({0, 51, 255}, torch::kUInt8).reshape({1, 3, 1, 1});
  const torch::Tensor floats = toFloatImages(images, torch::kCPU);
  EXPECT_EQ(floats.scalar_type(), torch::kFloat32);
  EXPECT_EQ(floats.sizes(), images.sizes());
  EXPECT_TRUE(torch::allclose(floats.flatten(), torch::tensor({0.0f, 0.2f, 1.0f})));
  EXPECT_EQ(images[0][2][0][0].item<int>(), 255);
  if (torch::cuda::is_available()) {
    EXPECT_TRUE(toFloatImages(images, torch::Device(torch::kCUDA, 0)).is_cuda());
  }
}

}  // namespace
}  // namespace syncbn::data
