#pragma once

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

namespace svc {

/// Runs concurrent calls of one kind of work in batches, so that many requests share one
/// database statement (and one commit). Each caller hands in its item and blocks. A caller that
/// finds fewer than `maxConcurrent` batches running leads a batch at once: its own item plus
/// those waiting, up to `maxBatch`. When a batch ends, leadership passes to the oldest waiting
/// caller. Nothing waits for a timer: an idle service runs batches of one without delay, and
/// batches grow only while the database is busy.
template <class Item, class Result>
class Coalescer {
 public:
  /// Gets the items of one batch; returns one result per item, in the same order. Whatever it
  /// throws is thrown to every caller in the batch.
  using BatchFunction = std::function<std::vector<Result>(const std::vector<Item>&)>;

  Coalescer(BatchFunction runBatch, std::size_t maxBatch, std::size_t maxConcurrent)
      : runBatch_(std::move(runBatch)), maxBatch_(maxBatch), maxConcurrent_(maxConcurrent) {
    if (maxBatch_ == 0 || maxConcurrent_ == 0) throw std::invalid_argument("batch size and concurrency must be positive");
  }
  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;

  /// Runs `item` in some batch and returns its result (or throws the batch's exception).
  Result submit(Item item) {
    Caller self(std::move(item));
    {
      std::lock_guard lock(mutex_);
      if (running_ < maxConcurrent_) {
        ++running_;
        self.leads = true;
      } else {
        waiting_.push_back(&self);
      }
    }
    if (!self.leads) self.wake.acquire();  // woken with a result, or to lead
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

  void lead(Caller& self) {
    std::vector<Caller*> batch{&self};
    {
      std::lock_guard lock(mutex_);
      while (batch.size() < maxBatch_ && !waiting_.empty()) {
        batch.push_back(waiting_.front());
        waiting_.pop_front();
      }
    }
    run(batch);
    Caller* next = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty()) {
        --running_;
      } else {
        next = waiting_.front();
        waiting_.pop_front();
        next->leads = true;
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
  const std::size_t maxBatch_;
  const std::size_t maxConcurrent_;
  std::mutex mutex_;
  std::deque<Caller*> waiting_;
  std::size_t running_ = 0;
};

}  // namespace svc
