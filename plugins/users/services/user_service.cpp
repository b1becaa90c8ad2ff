#include "services/user_service.h"

#include <string>

#include "services/user_validation.h"
#include "svc/errors.h"

namespace users {

User UserService::create(const UserDraft& draft) {
  const NewUser user = validateNewUser(draft);
  std::optional<User> stored = repository_.insert(user);
  if (!stored) throw svc::Conflict("A user with this email already exists (emails are compared ignoring case)");
  created_.increment();
  logger_.info("Created new user", {{"user_id", stored->id}});  // not the email: no personal data in the log
  return std::move(*stored);
}

User UserService::get(std::int64_t id) {
  std::optional<User> user = repository_.findById(id);
  if (!user) throw svc::NotFound("User " + std::to_string(id) + " does not exist");
  return std::move(*user);
}

}  // namespace users
