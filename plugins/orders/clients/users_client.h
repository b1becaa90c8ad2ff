#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "services/user_directory.h"
#include "svc/upstream.h"

namespace orders {

/// The User Service, asked GET /users/{id} through the host's client, with a short positive cache:
/// a user known to exist is not asked for again for `cacheTtl` (users are never deleted here;
/// a user created meanwhile is asked for at once, since absence is never cached).
class UsersClient final : public UserDirectory {
 public:
  UsersClient(svc::Upstream& users, std::chrono::milliseconds cacheTtl, std::size_t cacheCapacity)
      : users_(users), cacheTtl_(cacheTtl), cacheCapacity_(cacheCapacity) {}

  void ensureExists(std::int32_t userId, svc::Completion<KnownUser> done) override;

 private:
  using Clock = std::chrono::steady_clock;

  bool knownRecently(std::int32_t userId);
  void remember(std::int32_t userId);

  svc::Upstream& users_;
  const std::chrono::milliseconds cacheTtl_;
  const std::size_t cacheCapacity_;
  std::mutex mutex_;
  std::unordered_map<std::int32_t, Clock::time_point> knownUntil_;
};

}  // namespace orders
