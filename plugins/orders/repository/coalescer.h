#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <semaphore>
#include <stdexcept>
#include <utility>
#include <vector>

namespace orders {

struct BatchPolicy {
  std::size_t maxBatch = 64;       ///< items per batch at most
  std::size_t maxConcurrent = 4;   ///< batches running at once at most
  /// Run only batches of 1, 2, 4, 8 ... items, so that a caller preparing one statement per
  /// batch size keeps a handful of them, not `maxBatch`.
  bool powerOfTwoSizes = false;
};

/// Runs concurrent calls of one kind of work in batches, so that many requests share one
/// database statement (and one commit). Each caller hands in its item and blocks. A caller that
/// finds fewer than `maxConcurrent` batches running leads a batch at once: its own item plus
/// those waiting, up to `maxBatch`. Callers left waiting get a leader of their own while fewer
/// than `maxConcurrent` batches run, or when a batch ends. Nothing waits for a timer: an idle
/// service runs batches of one without delay, and batches grow only while the database is busy.
template <class Item, class Result>
class Coalescer {
 public:
  /// Gets the items of one batch; returns one result per item, in the same order. Whatever it
  /// throws is thrown to every caller in the batch.
  using BatchFunction = std::function<std::vector<Result>(const std::vector<Item>&)>;

  Coalescer(BatchFunction runBatch, BatchPolicy policy) : runBatch_(std::move(runBatch)), policy_(policy) {
    if (policy_.maxBatch == 0 || policy_.maxConcurrent == 0) {
      throw std::invalid_argument("batch size and concurrency must be positive");
    }
  }
  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;

  /// Runs `item` in some batch and returns its result (or throws the batch's exception).
  Result submit(Item item) {
    Caller self(std::move(item));
    bool leadsNow = false;
    {
      std::lock_guard lock(mutex_);
      leadsNow = running_ < policy_.maxConcurrent;
      if (leadsNow) {
        ++running_;
        self.leads = true;
      } else {
        waiting_.push_back(&self);  // from now on a leader may set self.leads
      }
    }
    if (!leadsNow) self.wake.acquire();  // woken with a result, or to lead
    if (self.leads) lead(self);
    if (self.error) std::rethrow_exception(self.error);
    return std::move(*self.result);
  }

 private:
  struct Caller {
    explicit Caller(Item value) : item(std::move(value)) {}
    Item item;
    std::optional<Result> result;
    std::exception_ptr error;
    bool leads = false;
    std::binary_semaphore wake{0};
  };

  // How many of `available` items the next batch takes.
  std::size_t batchSize(std::size_t available) const {
    std::size_t size = std::min(available, policy_.maxBatch);
    if (policy_.powerOfTwoSizes) {
      std::size_t power = 1;
      while (power * 2 <= size) power *= 2;
      size = power;
    }
    return size;
  }

  // The oldest waiting caller, made a leader (the caller holds the lock).
  Caller* promoteOldest() {
    Caller* next = waiting_.front();
    waiting_.pop_front();
    next->leads = true;
    return next;
  }

  void lead(Caller& self) {
    std::vector<Caller*> batch{&self};
    Caller* helper = nullptr;
    {
      std::lock_guard lock(mutex_);
      const std::size_t size = batchSize(1 + waiting_.size());
      while (batch.size() < size) {
        batch.push_back(waiting_.front());
        waiting_.pop_front();
      }
      if (!waiting_.empty() && running_ < policy_.maxConcurrent) {
        ++running_;
        helper = promoteOldest();  // the rest need not wait for this batch
      }
    }
    if (helper != nullptr) helper->wake.release();
    run(batch);
    Caller* next = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty()) {
        --running_;
      } else {
        next = promoteOldest();
      }
    }
    if (next != nullptr) next->wake.release();
    // A woken caller returns and its Caller is gone: touch none of them after release().
    for (std::size_t i = 1; i < batch.size(); ++i) batch[i]->wake.release();
  }

  void run(const std::vector<Caller*>& batch) {
    std::vector<Item> items;
    items.reserve(batch.size());
    for (const Caller* caller : batch) items.push_back(caller->item);
    try {
      std::vector<Result> results = runBatch_(items);
      if (results.size() != batch.size()) throw std::logic_error("a batch returned a result count unlike its size");
      for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->result = std::move(results[i]);
    } catch (...) {
      for (Caller* caller : batch) caller->error = std::current_exception();
    }
  }

  BatchFunction runBatch_;
  const BatchPolicy policy_;
  std::mutex mutex_;
  std::deque<Caller*> waiting_;
  std::size_t running_ = 0;
};

}  // namespace orders
