#include "routes/user_routes.h"

#include <string>

#include "routes/user_representation.h"

namespace users {

namespace {

// 201 with the user's Location under the collection the request was sent to.
svc::Response createUser(UserService& users, const svc::Request& request) {
  const User user = users.create(readUserDraft(svc::parseJsonBody(request)));
  svc::Response response = svc::Response::json(201, userJson(user));
  response.withHeader("Location", request.path() + "/" + std::to_string(user.id));
  return response;
}

svc::Response getUser(UserService& users, const svc::Request& request) {
  return svc::Response::json(200, userJson(users.get(svc::positiveIdParam(request, "id"))));
}

}  // namespace

void registerUserRoutes(svc::RouteRegistry& registry, UserService& users) {
  for (const std::string collection : {"/users", "/api/v1/users"}) {
    registry.add("POST", collection, [&users](const svc::Request& request) { return createUser(users, request); });
    registry.add("GET", collection + "/{id}", [&users](const svc::Request& request) { return getUser(users, request); });
  }
}

}  // namespace users
