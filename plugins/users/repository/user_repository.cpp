#include "repository/user_repository.h"

#include <string>
#include <tuple>

#include "repository/user_statements.h"

namespace users {

namespace {

const svc::Query<std::tuple<std::string, std::string, std::string>, std::tuple<std::int64_t, svc::Timestamp>> kInsert{
    sql::kInsertUser};
const svc::Query<std::tuple<std::int64_t>, std::tuple<std::string, std::string, svc::Timestamp>> kFind{sql::kFindUser};

}  // namespace

std::optional<User> UserRepository::insert(const NewUser& user) {
  try {
    return storage_.withSession([&](svc::SessionLease& lease) {
      const auto [id, createdAt] = kInsert.run(lease, user.email, user.emailLower, user.name).at(0);
      return User{.id = id, .email = user.email, .name = user.name, .createdAt = createdAt.micros};
    });
  } catch (const svc::UniqueViolation&) {
    return std::nullopt;
  }
}

std::optional<User> UserRepository::findById(std::int64_t id) {
  return storage_.withSession([&](svc::SessionLease& lease) -> std::optional<User> {
    const auto rows = kFind.run(lease, id);
    if (rows.empty()) return std::nullopt;
    auto [email, name, createdAt] = rows.at(0);
    return User{.id = id, .email = std::move(email), .name = std::move(name), .createdAt = createdAt.micros};
  });
}

}  // namespace users
