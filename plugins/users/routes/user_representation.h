#pragma once

#include <string>

#include "models/user.h"
#include "svc/json.h"

/// How users look over HTTP: what the routes read from requests and write into responses.
namespace users {

/// The user a POST /users body asks for: email and name as written, or why each cannot be read
/// (missing, not a string; the rules are validateNewUser's). Other members are ignored.
UserDraft readUserDraft(const svc::json::Value& body);

/// {"user_id": 1, "email": "...", "name": "...", "created_at": "2026-01-02T03:04:05.678Z"}
std::string userJson(const User& user);

}  // namespace users
