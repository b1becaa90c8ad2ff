#include "routes/user_representation.h"

#include "svc/timestamp.h"

namespace users {

UserDraft readUserDraft(const svc::json::Value& body) {
  svc::json::ObjectReader reader(body);
  UserDraft draft{.email = reader.string("email"), .name = reader.string("name"), .unreadable = {}};
  draft.unreadable = reader.errors();
  return draft;
}

std::string userJson(const User& user) {
  return svc::json::ObjectWriter()
      .add("user_id", user.id)
      .add("email", user.email)
      .add("name", user.name)
      .add("created_at", svc::formatRfc3339Millis(user.createdAt))
      .str();
}

}  // namespace users
