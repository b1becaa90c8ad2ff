#include "worker_pool.h"

#include <pthread.h>

namespace svc::host {

namespace {
thread_local const WorkerPool* ownerPool = nullptr;
}  // namespace

bool WorkerPool::onOwnThread() const { return ownerPool == this; }

WorkerPool::WorkerPool(int threads, std::size_t maxQueued, const std::string& threadName) : maxQueued_(maxQueued) {
  threads_.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, threadName] {
      ::pthread_setname_np(::pthread_self(), threadName.substr(0, 15).c_str());
      ownerPool = this;
      work();
    });
  }
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::offer(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= maxQueued_) return false;
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

bool WorkerPool::post(Task task) {
  return offer([request = currentRequest(), task = std::move(task)] {
    const RequestScope scope(request);
    task();
  });
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void WorkerPool::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to run
    Task task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace svc::host
