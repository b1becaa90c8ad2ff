#pragma once

#include <cstdint>

#include "svc/async.h"

namespace orders {

/// That a user exists: what the directory of users answers.
struct KnownUser {
  std::int32_t userId = 0;
};

/// Who the users are, as order creation needs to know it.
class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  /// Completes with the user when it exists; svc::Invalid pointing at /user_id when it does not;
  /// svc::Unavailable or svc::TimedOut when that cannot be known now.
  virtual void ensureExists(std::int32_t userId, svc::Completion<KnownUser> done) = 0;
};

}  // namespace orders
