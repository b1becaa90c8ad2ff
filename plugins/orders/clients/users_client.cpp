#include "clients/users_client.h"

#include <optional>
#include <string>

#include <Poco/Net/MediaType.h>

#include "svc/errors.h"
#include "svc/http.h"
#include "svc/json.h"

namespace orders {

namespace {

svc::Invalid unknownUser(std::int32_t userId) {
  return svc::Invalid("The order is invalid",
                      {{"/user_id", "user_id " + std::to_string(userId) + " names no user of the User Service"}});
}

// An order waits for its user's check no longer than the call's deadline: a User Service slower
// than that is, for the order, one that cannot answer now (503, as when it is down).
const svc::UpstreamResponse& answeredInTime(svc::Result<svc::UpstreamResponse>& answer, const std::string& upstream,
                                            std::int32_t userId) {
  try {
    return answer.value();
  } catch (const svc::TimedOut&) {
    throw svc::UpstreamUnavailable(upstream, "The User Service did not say in time whether user " +
                                                std::to_string(userId) + " exists; retry later",
                                   std::chrono::seconds(1));
  }
}

// The User Service says that a user does not exist with a problem of its own. Any other 404 says
// nothing of the user: the host's for a path it does not serve (users_url naming another
// service), or a proxy's page. The order cannot be checked now, and is not invalid for that.
bool saysUserIsUnknown(const svc::UpstreamResponse& response) {
  if (response.status != 404) return false;
  const std::optional<std::string> contentType = response.header("Content-Type");
  if (!contentType || !Poco::Net::MediaType(*contentType).matches("application", "problem+json")) return false;
  try {
    const svc::json::Value problem = svc::json::parse(response.body);
    const svc::json::Value* type = problem.find("type");
    return problem.isObject() && (type == nullptr || type->text() != svc::kNoRouteProblemType);
  } catch (const svc::json::ParseError&) {
    return false;
  }
}

}  // namespace

void UsersClient::ensureExists(std::int32_t userId, svc::Completion<KnownUser> done) {
  if (knownRecently(userId)) return done(KnownUser{userId});
  svc::UpstreamRequest request{.method = "GET", .target = "/users/" + std::to_string(userId)};
  users_.call(std::move(request), [this, userId, done](svc::Result<svc::UpstreamResponse> answer) {
    done.complete([&] {
      const svc::UpstreamResponse& response = answeredInTime(answer, users_.name(), userId);
      if (saysUserIsUnknown(response)) throw unknownUser(userId);
      if (response.status != 200) {
        throw svc::UpstreamUnavailable(users_.name(),
                                       "The User Service answered " + std::to_string(response.status) +
                                           " when asked for user " + std::to_string(userId) + "; retry later",
                                       std::chrono::seconds(1));
      }
      remember(userId);
      return KnownUser{userId};
    });
  });
}

bool UsersClient::knownRecently(std::int32_t userId) {
  std::lock_guard lock(mutex_);
  const auto known = knownUntil_.find(userId);
  return known != knownUntil_.end() && Clock::now() < known->second;
}

// A full cache forgets what expired, or else everything: it only saves calls.
void UsersClient::remember(std::int32_t userId) {
  const Clock::time_point until = Clock::now() + cacheTtl_;
  std::lock_guard lock(mutex_);
  if (knownUntil_.size() >= cacheCapacity_) {
    std::erase_if(knownUntil_, [now = Clock::now()](const auto& entry) { return entry.second <= now; });
    if (knownUntil_.size() >= cacheCapacity_) knownUntil_.clear();
  }
  knownUntil_[userId] = until;
}

}  // namespace orders
