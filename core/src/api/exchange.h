#pragma once

#include <exception>

#include "svc/http.h"

namespace svc::detail {

/// The host's side of a request being answered (svc::Reply's other end).
class Exchange {
 public:
  virtual ~Exchange() = default;
  /// The answer, once, from any thread.
  virtual void complete(Response response) = 0;
  /// Answers with the problem document of `error` (the host maps and logs errors in one place).
  virtual void fail(std::exception_ptr error) = 0;
  /// The reply was destroyed without an answer.
  virtual void abandon() = 0;
};

}  // namespace svc::detail
