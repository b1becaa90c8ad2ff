#pragma once

#include <concepts>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <variant>

#include "svc/context.h"

namespace svc {

/// A value, or the exception that prevented it.
template <class T>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(std::exception_ptr error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  /// The value; rethrows the error.
  T& value() {
    if (!ok()) std::rethrow_exception(std::get<1>(state_));
    return std::get<0>(state_);
  }
  std::exception_ptr error() const { return ok() ? nullptr : std::get<1>(state_); }

 private:
  std::variant<T, std::exception_ptr> state_;
};

/// What asynchronous work calls, once, on whichever thread finishes it. It runs as part of the
/// request that asked for the work (svc::currentRequest: its id in every log line, its deadline).
template <class T>
class Completion {
 public:
  template <class F>
    requires std::invocable<F&, Result<T>>
  Completion(F function) : function_(std::move(function)), request_(currentRequest()) {}

  void operator()(Result<T> result) const {
    const RequestScope scope(request_);
    function_(std::move(result));
  }

  /// Completes with what `work()` returns, or with what it throws.
  template <class Work>
  void complete(Work&& work) const {
    std::optional<Result<T>> result;
    try {
      result.emplace(work());
    } catch (...) {
      result.emplace(std::current_exception());
    }
    (*this)(std::move(*result));
  }

 private:
  std::function<void(Result<T>)> function_;
  std::shared_ptr<const RequestContext> request_;
};

/// The host's worker threads, for work that may block (a database statement, a transaction).
/// A task runs as part of the request that posted it.
class Executor {
 public:
  /// Runs `task` on a worker; false, and `task` not run, when the workers' queue is full.
  virtual bool post(std::function<void()> task) = 0;

 protected:
  ~Executor() = default;
};

}  // namespace svc
