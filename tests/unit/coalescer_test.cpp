#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "repository/coalescer.h"

using namespace std::chrono_literals;
using Doubler = orders::Coalescer<int, int>;

namespace {

/// Records the batches it runs; optionally slow, so that callers pile up behind it.
struct RecordingBatch {
  std::chrono::milliseconds delay{0};
  std::atomic<int> batches{0};
  std::atomic<int> largest{0};
  std::atomic<int> concurrent{0};
  std::atomic<int> mostConcurrent{0};
  std::atomic<int> notPowerOfTwo{0};

  std::vector<int> operator()(const std::vector<int>& items) {
    const int now = ++concurrent;
    for (int seen = mostConcurrent; now > seen && !mostConcurrent.compare_exchange_weak(seen, now);) {
    }
    ++batches;
    if ((items.size() & (items.size() - 1)) != 0) ++notPowerOfTwo;
    for (int seen = largest; static_cast<int>(items.size()) > seen &&
                             !largest.compare_exchange_weak(seen, static_cast<int>(items.size()));) {
    }
    std::this_thread::sleep_for(delay);
    std::vector<int> doubled;
    for (const int item : items) {
      if (item < 0) {
        --concurrent;
        throw std::runtime_error("negative item");
      }
      doubled.push_back(item * 2);
    }
    --concurrent;
    return doubled;
  }
};

std::vector<int> submitFromThreads(Doubler& coalescer, int threads, int each) {
  std::vector<int> sums(threads, 0);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 1; i <= each; ++i) sums[t] += coalescer.submit(t * 1000 + i) - 2 * (t * 1000 + i);
    });
  }
  for (auto& caller : callers) caller.join();
  return sums;
}

}  // namespace

TEST(Coalescer, RunsALoneCallAtOnceInABatchOfOne) {
  RecordingBatch recorder;
  Doubler coalescer(std::ref(recorder), orders::BatchPolicy{8, 2});
  EXPECT_EQ(coalescer.submit(21), 42);
  EXPECT_EQ(coalescer.submit(5), 10);
  EXPECT_EQ(recorder.batches, 2);
  EXPECT_EQ(recorder.largest, 1);
}

TEST(Coalescer, GivesEveryCallerItsOwnResultUnderConcurrency) {
  RecordingBatch recorder;
  recorder.delay = 1ms;
  Doubler coalescer(std::ref(recorder), orders::BatchPolicy{16, 2});
  for (const int wrong : submitFromThreads(coalescer, 32, 50)) EXPECT_EQ(wrong, 0);
  EXPECT_LT(recorder.batches, 32 * 50) << "concurrent callers shared batches";
  EXPECT_LE(recorder.largest, 16);
  EXPECT_LE(recorder.mostConcurrent, 2);
}

TEST(Coalescer, RunsOnlyPowerOfTwoBatchesWhenAsked) {
  RecordingBatch recorder;
  recorder.delay = 1ms;
  Doubler coalescer(std::ref(recorder), orders::BatchPolicy{.maxBatch = 48, .maxConcurrent = 2, .powerOfTwoSizes = true});
  for (const int wrong : submitFromThreads(coalescer, 64, 30)) EXPECT_EQ(wrong, 0);
  EXPECT_EQ(recorder.notPowerOfTwo, 0);
  EXPECT_LE(recorder.largest, 32);
  EXPECT_GT(recorder.largest, 1);
  EXPECT_LE(recorder.mostConcurrent, 2);
}

TEST(Coalescer, ThrowsABatchsFailureToEveryCallerInIt) {
  RecordingBatch recorder;
  recorder.delay = 20ms;
  Doubler coalescer(std::ref(recorder), orders::BatchPolicy{64, 1});
  std::atomic<int> failures{0};
  std::atomic<int> successes{0};
  std::thread first([&] { coalescer.submit(1); });  // occupies the only batch slot
  std::this_thread::sleep_for(5ms);
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      try {
        coalescer.submit(i == 0 ? -1 : i);
        ++successes;
      } catch (const std::runtime_error&) {
        ++failures;
      }
    });
  }
  first.join();
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(failures + successes, 8);
  EXPECT_GE(failures, 1);
  EXPECT_EQ(coalescer.submit(3), 6) << "a failed batch leaves the coalescer usable";
}

TEST(Coalescer, RefusesABatchThatLosesResults) {
  Doubler coalescer([](const std::vector<int>&) { return std::vector<int>{}; }, orders::BatchPolicy{4, 1});
  EXPECT_THROW(coalescer.submit(1), std::logic_error);
}

TEST(Coalescer, RefusesZeroLimits) {
  EXPECT_THROW(Doubler([](const std::vector<int>& items) { return items; }, orders::BatchPolicy{0, 1}), std::invalid_argument);
  EXPECT_THROW(Doubler([](const std::vector<int>& items) { return items; }, orders::BatchPolicy{1, 0}), std::invalid_argument);
}
