#pragma once

// Every SQL statement of the users plugin, named, in one place: the same text on both backends.
#include "svc/storage.h"

namespace users::sql {

/// Stores user ($1 email as given, $2 lower-cased, $3 name); the UNIQUE index on email_lower
/// refuses a second user with the same address (svc::UniqueViolation).
inline constexpr svc::Sql kInsertUser{
    "users_insert", "INSERT INTO users (email, email_lower, name) VALUES ($1, $2, $3) RETURNING id, created_at"};

/// The user with id $1.
inline constexpr svc::Sql kFindUser{"users_find_by_id", "SELECT email, name, created_at FROM users WHERE id = $1"};

}  // namespace users::sql
