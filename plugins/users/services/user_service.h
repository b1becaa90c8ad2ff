#pragma once

#include <cstdint>

#include "models/user.h"
#include "repository/user_repository.h"
#include "svc/log.h"
#include "svc/metrics.h"

namespace users {

/// Creating and reading users. Takes and returns domain types and throws the domain errors of
/// svc/errors.h, so that any caller can use it, not only HTTP.
class UserService {
 public:
  UserService(UserRepository& repository, const svc::Logger& logger, svc::Counter& created)
      : repository_(repository), logger_(logger), created_(created) {}

  /// Checks `draft` (svc::Invalid) and stores the user; svc::Conflict when the email is taken,
  /// whatever its case.
  User create(const UserDraft& draft);
  /// The user, or svc::NotFound.
  User get(std::int64_t id);

 private:
  UserRepository& repository_;
  const svc::Logger& logger_;
  svc::Counter& created_;
};

}  // namespace users
