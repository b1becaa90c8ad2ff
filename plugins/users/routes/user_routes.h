#pragma once

#include "services/user_service.h"
#include "svc/routes.h"

namespace users {

/// POST /users and GET /users/{id}, and the same under the versioned prefix /api/v1/users.
void registerUserRoutes(svc::RouteRegistry& registry, UserService& users);

}  // namespace users
