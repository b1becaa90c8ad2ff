#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "svc/errors.h"
#include "svc/timestamp.h"

namespace users {

/// A user as the client asked for it, before the rules are checked (validateNewUser). A field is
/// nothing when it is missing or not a string; `unreadable` then says why.
struct UserDraft {
  std::optional<std::string> email;
  std::optional<std::string> name;
  std::vector<svc::FieldError> unreadable;
};

/// A user that follows the rules, to be stored.
struct NewUser {
  std::string email;       ///< as the client wrote it
  std::string emailLower;  ///< lower-cased: two users may not share it
  std::string name;        ///< trimmed
};

/// A user as stored.
struct User {
  std::int64_t id = 0;
  std::string email;
  std::string name;
  svc::EpochMicros createdAt = 0;
};

}  // namespace users
