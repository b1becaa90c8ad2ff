#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "svc/async.h"

namespace svc::host {

/// A fixed set of threads running tasks that may block (a handler waiting on the database),
/// with a bounded queue in front of them: a task offered to a full queue is refused, so the
/// caller can answer 503 at once instead of letting work pile up without bound.
class WorkerPool final : public Executor {
 public:
  using Task = std::function<void()>;

  /// `threadName` (at most 15 characters) is how top -H and perf show its threads.
  WorkerPool(int threads, std::size_t maxQueued, const std::string& threadName = "http-worker");
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues `task`; false (and `task` not run) when the queue is full or the pool stopped.
  bool offer(Task task);
  /// offer() for a plugin's task, which runs as part of the request that posted it.
  bool post(Task task) override;
  int threadCount() const { return static_cast<int>(threads_.size()); }
  /// Whether the calling thread is one of this pool's workers.
  bool onOwnThread() const;
  /// Runs what is queued, then ends the threads.
  void stop();

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Task> queue_;
  std::size_t maxQueued_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace svc::host
