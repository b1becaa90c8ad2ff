#pragma once

#include <cstdint>
#include <optional>

#include "models/user.h"
#include "svc/storage.h"

namespace users {

/// The users table: the only place that runs SQL (repository/user_statements.h).
class UserRepository {
 public:
  explicit UserRepository(svc::Storage& storage) : storage_(storage) {}

  /// Stores `user` and returns it as stored; nothing when another user has its lower-cased email
  /// (the database's UNIQUE index decides, so that concurrent inserts cannot both succeed).
  std::optional<User> insert(const NewUser& user);
  std::optional<User> findById(std::int64_t id);

 private:
  svc::Storage& storage_;
};

}  // namespace users
