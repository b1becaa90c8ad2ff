#include "clients/users_client.h"

#include <string>

#include "svc/errors.h"

namespace orders {

namespace {

svc::Invalid unknownUser(std::int32_t userId) {
  return svc::Invalid("The order is invalid",
                      {{"/user_id", "user_id " + std::to_string(userId) + " names no user of the User Service"}});
}

}  // namespace

void UsersClient::ensureExists(std::int32_t userId, svc::Completion<KnownUser> done) {
  if (knownRecently(userId)) return done(KnownUser{userId});
  svc::UpstreamRequest request{.method = "GET", .target = "/users/" + std::to_string(userId)};
  users_.call(std::move(request), [this, userId, done](svc::Result<svc::UpstreamResponse> answer) {
    done.complete([&] {
      const svc::UpstreamResponse& response = answer.value();
      if (response.status == 404) throw unknownUser(userId);
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
