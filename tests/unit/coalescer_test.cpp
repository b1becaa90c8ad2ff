#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "repository/coalescer.h"
#include "worker_pool.h"

using namespace std::chrono_literals;
using Doubler = orders::Coalescer<int, int>;

namespace {

/// Records the batches it runs and the threads it runs them on; optionally slow, so that items
/// pile up behind it.
struct RecordingBatch {
  std::chrono::milliseconds delay{0};
  std::atomic<int> batches{0};
  std::atomic<int> largest{0};
  std::atomic<int> concurrent{0};
  std::atomic<int> mostConcurrent{0};

  std::vector<int> operator()(const std::vector<int>& items) {
    const int now = ++concurrent;
    for (int seen = mostConcurrent; now > seen && !mostConcurrent.compare_exchange_weak(seen, now);) {
    }
    ++batches;
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

/// The result of `item`, waiting for it (only the test waits: the coalescer never does).
int submitAndWait(Doubler& coalescer, int item) {
  auto promise = std::make_shared<std::promise<int>>();
  std::future<int> result = promise->get_future();
  coalescer.submit(item, [promise](svc::Result<int> doubled) {
    if (doubled.ok()) promise->set_value(doubled.value());
    else promise->set_exception(doubled.error());
  });
  return result.get();
}

/// Submits `each` items from each of `threads` threads without waiting, then waits for every result;
/// returns per thread the sum of results that were not twice their item (0 when all were right).
std::vector<int> submitFromThreads(Doubler& coalescer, int threads, int each) {
  std::vector<std::atomic<int>> wrong(static_cast<std::size_t>(threads));
  std::atomic<int> pending{threads * each};
  std::promise<void> allDone;
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 1; i <= each; ++i) {
        const int item = t * 1000 + i;
        coalescer.submit(item, [&, t, item](svc::Result<int> doubled) {
          if (!doubled.ok() || doubled.value() != 2 * item) ++wrong[static_cast<std::size_t>(t)];
          if (--pending == 0) allDone.set_value();
        });
      }
    });
  }
  for (auto& caller : callers) caller.join();
  allDone.get_future().wait();
  std::vector<int> sums;
  for (const auto& count : wrong) sums.push_back(count.load());
  return sums;
}

}  // namespace

TEST(Coalescer, RunsALoneItemAtOnceInABatchOfOne) {
  svc::host::WorkerPool workers(2, 100);
  RecordingBatch recorder;
  Doubler coalescer(std::ref(recorder), orders::BatchPolicy{8, 2}, workers);
  EXPECT_EQ(submitAndWait(coalescer, 21), 42);
  EXPECT_EQ(submitAndWait(coalescer, 5), 10);
  EXPECT_EQ(recorder.batches, 2);
  EXPECT_EQ(recorder.largest, 1);
}

TEST(Coalescer, CompletesEveryItemWithItsOwnResultUnderConcurrency) {
  svc::host::WorkerPool workers(4, 10000);
  RecordingBatch recorder;
  recorder.delay = 1ms;
  Doubler coalescer(std::ref(recorder), orders::BatchPolicy{16, 2}, workers);
  for (const int wrong : submitFromThreads(coalescer, 32, 50)) EXPECT_EQ(wrong, 0);
  EXPECT_LT(recorder.batches, 32 * 50) << "concurrent items shared batches";
  EXPECT_LE(recorder.largest, 16);
  EXPECT_LE(recorder.mostConcurrent, 2) << "more batches ran at once than allowed, though workers were free";
}

TEST(Coalescer, CompletesItemsOnTheWorkerThatRanTheirBatch) {
  svc::host::WorkerPool workers(2, 100);
  Doubler coalescer([](const std::vector<int>& items) { return items; }, orders::BatchPolicy{8, 1}, workers);
  std::promise<bool> onWorker;
  coalescer.submit(1, [&](svc::Result<int>) { onWorker.set_value(workers.onOwnThread()); });
  EXPECT_TRUE(onWorker.get_future().get());
}

TEST(Coalescer, GivesABatchsFailureToEveryItemInIt) {
  svc::host::WorkerPool workers(2, 100);
  std::promise<void> firstBatchRuns;
  std::promise<void> othersQueued;
  std::shared_future<void> queued = othersQueued.get_future().share();
  RecordingBatch recorder;
  Doubler coalescer(
      [&](const std::vector<int>& items) {
        if (items.front() == 1) {  // holds the only batch slot until the others wait behind it
          firstBatchRuns.set_value();
          queued.wait();
        }
        return recorder(items);
      },
      orders::BatchPolicy{64, 1}, workers);
  std::atomic<int> failures{0};
  std::atomic<int> successes{0};
  std::atomic<int> pending{9};
  std::promise<void> allDone;
  const auto count = [&](svc::Result<int> result) {
    ++(result.ok() ? successes : failures);
    if (--pending == 0) allDone.set_value();
  };
  coalescer.submit(1, count);
  firstBatchRuns.get_future().wait();
  for (int i = 0; i < 8; ++i) coalescer.submit(i == 0 ? -1 : i + 1, count);
  othersQueued.set_value();
  allDone.get_future().wait();
  EXPECT_EQ(successes, 1);
  EXPECT_EQ(failures, 8) << "the eight queued items ran in one batch, which failed";
  EXPECT_EQ(submitAndWait(coalescer, 3), 6) << "a failed batch leaves the coalescer usable";
}

TEST(Coalescer, FailsItemsWithUnavailableWhenNoWorkerCanTakeThem) {
  svc::host::WorkerPool workers(1, 1);
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(workers.offer([&started, released] {  // the only worker
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();
  ASSERT_TRUE(workers.offer([] {}));  // and its queue's only place
  Doubler coalescer([](const std::vector<int>& items) { return items; }, orders::BatchPolicy{8, 1}, workers);
  EXPECT_THROW(submitAndWait(coalescer, 1), svc::Unavailable);
  release.set_value();
  std::promise<void> drained;
  while (!workers.offer([&drained] { drained.set_value(); })) std::this_thread::yield();
  drained.get_future().wait();
  EXPECT_EQ(submitAndWait(coalescer, 2), 2) << "usable again once a worker is free";
}

TEST(Coalescer, RefusesABatchThatLosesResults) {
  svc::host::WorkerPool workers(1, 10);
  Doubler coalescer([](const std::vector<int>&) { return std::vector<int>{}; }, orders::BatchPolicy{4, 1}, workers);
  EXPECT_THROW(submitAndWait(coalescer, 1), std::logic_error);
}

TEST(Coalescer, RefusesZeroLimits) {
  svc::host::WorkerPool workers(1, 10);
  const auto same = [](const std::vector<int>& items) { return items; };
  EXPECT_THROW(Doubler(same, orders::BatchPolicy{0, 1}, workers), std::invalid_argument);
  EXPECT_THROW(Doubler(same, orders::BatchPolicy{1, 0}, workers), std::invalid_argument);
}
