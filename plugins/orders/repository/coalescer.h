#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "svc/async.h"
#include "svc/errors.h"

namespace orders {

struct BatchPolicy {
  std::size_t maxBatch = 64;      ///< items per batch at most
  std::size_t maxConcurrent = 4;  ///< batches running at once at most
};

/// Runs items of one kind of work in batches, so that many requests share one database statement
/// (and one commit), without a thread waiting for any one of them. An item submitted while fewer
/// than `maxConcurrent` batches run starts a batch on a worker at once; the others queue, and
/// each worker, once its batch is done, completes the batch's items and takes the next batch
/// from the queue until it is empty. Nothing waits for a timer: an idle service runs batches of
/// one without delay, and batches grow only while the database is busy.
template <class Item, class Result>
class Coalescer {
 public:
  /// Gets the items of one batch; returns one result per item, in the same order. Whatever it
  /// throws is every item's error.
  using BatchFunction = std::function<std::vector<Result>(const std::vector<Item>&)>;

  Coalescer(BatchFunction runBatch, BatchPolicy policy, svc::Executor& workers)
      : runBatch_(std::move(runBatch)), policy_(policy), workers_(workers) {
    if (policy_.maxBatch == 0 || policy_.maxConcurrent == 0) {
      throw std::invalid_argument("batch size and concurrency must be positive");
    }
  }
  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;

  /// Runs `item` in some batch; `done` gets its result on the worker that ran the batch.
  void submit(Item item, svc::Completion<Result> done) {
    bool startsWorker = false;
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(Pending{std::move(item), std::move(done)});
      startsWorker = running_ < policy_.maxConcurrent;
      if (startsWorker) ++running_;
    }
    if (startsWorker && !workers_.post([this] { drain(); })) refuseQueued();
  }

 private:
  struct Pending {
    Item item;
    svc::Completion<Result> done;
  };

  // Batches until the queue is empty.
  void drain() {
    while (true) {
      std::vector<Pending> batch;
      {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) {
          --running_;
          return;
        }
        const std::size_t size = std::min(queue_.size(), policy_.maxBatch);
        for (std::size_t i = 0; i < size; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      run(batch);
    }
  }

  void run(std::vector<Pending>& batch) {
    std::vector<Item> items;
    items.reserve(batch.size());
    for (const Pending& pending : batch) items.push_back(pending.item);
    std::vector<Result> results;
    try {
      results = runBatch_(items);
      if (results.size() != batch.size()) throw std::logic_error("a batch returned a result count unlike its size");
    } catch (...) {
      const std::exception_ptr error = std::current_exception();
      for (Pending& pending : batch) pending.done(svc::Result<Result>(error));
      return;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(svc::Result<Result>(std::move(results[i])));
  }

  // The workers' queue is full: what waits here would wait for a worker that is not coming.
  void refuseQueued() {
    std::deque<Pending> refused;
    {
      std::lock_guard lock(mutex_);
      --running_;
      if (running_ > 0) return;  // a running worker takes them
      refused.swap(queue_);
    }
    const auto busy = std::make_exception_ptr(
        svc::Unavailable("The server is busy: every worker is taken and its queue is full; retry shortly",
                         std::chrono::seconds(1)));
    for (Pending& pending : refused) pending.done(svc::Result<Result>(busy));
  }

  BatchFunction runBatch_;
  const BatchPolicy policy_;
  svc::Executor& workers_;
  std::mutex mutex_;
  std::deque<Pending> queue_;
  std::size_t running_ = 0;
};

}  // namespace orders
