#include "services/idempotent_creation.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/UUIDGenerator.h>

#include "services/order_validation.h"
#include "svc/http.h"

namespace orders {

namespace {

constexpr svc::EpochMicros kMicrosPerSecond = 1'000'000;
// How long a request may hold its key unfinished before a retry may take it over (a crashed
// instance); well above [storage] statement_timeout_ms.
constexpr svc::EpochMicros kLockMicros = 30 * kMicrosPerSecond;
constexpr svc::EpochMicros kPurgeIntervalMicros = 60 * kMicrosPerSecond;
// A key expires or is released between our failed claim and our read: claim again, a few times.
constexpr int kClaimAttempts = 3;

/// The fingerprint of the validated order, so that bodies differing only in layout, member
/// order or ignored members are the same request.
std::string fingerprint(const NewOrder& order) {
  Poco::SHA2Engine sha256;
  sha256.update("user_id=" + std::to_string(order.userId) + "&product_id=" + std::to_string(order.productId) +
                "&quantity=" + std::to_string(order.quantity));
  return Poco::DigestEngine::digestToHex(sha256.digest());
}

[[noreturn]] void rejectInFlight() {
  throw svc::HttpError(
      svc::Problem{.status = 409, .detail = "A request with this Idempotency-Key is still being processed; retry later"},
      {{"Retry-After", "1"}});
}

/// The stored answer to a retry: a replay, or 422 when the key was used for another order.
IdempotentOutcome answerRetry(const IdempotencyRecord& record, const KeyClaim& claim) {
  if (record.requestHash != claim.requestHash) {
    throw svc::HttpError(422, "This Idempotency-Key was already used for a different order");
  }
  if (!record.response) rejectInFlight();
  return IdempotentOutcome{.response = *record.response, .replayed = true};
}

}  // namespace

IdempotentOutcome IdempotentCreation::create(const svc::json::Value& body, const std::string& key,
                                             const ResponseFor& responseFor) {
  const NewOrder order = validateNewOrder(body);
  validateIdempotencyKey(key);
  const KeyClaim claim = claimFor(key, order);
  purgeExpiredKeysOncePerMinute(claim.now);
  for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
    if (keys_.claim(claim)) return IdempotentOutcome{.response = createOwned(claim, order, responseFor), .replayed = false};
    if (const auto record = keys_.find(key)) return answerRetry(*record, claim);
  }
  rejectInFlight();
}

KeyClaim IdempotentCreation::claimFor(const std::string& key, const NewOrder& order) const {
  const svc::EpochMicros now = svc::nowEpochMicros();
  return KeyClaim{.key = key,
                  .requestHash = fingerprint(order),
                  .ownerToken = Poco::UUIDGenerator::defaultGenerator().createRandom().toString(),
                  .now = now,
                  .lockedUntil = now + kLockMicros,
                  .expiresAt = now + keyLifetime_.count() * kMicrosPerSecond};
}

StoredResponse IdempotentCreation::createOwned(const KeyClaim& claim, const NewOrder& order,
                                               const ResponseFor& responseFor) {
  std::int64_t id = 0;
  std::optional<StoredResponse> response;
  try {
    response = keys_.createOrderAndComplete(claim, order, [&](std::int64_t created) {
      id = created;
      return responseFor(created);
    });
  } catch (...) {
    releaseAfterFailure(claim);
    throw;
  }
  if (!response) rejectInFlight();  // held past its lock, another request took the key over
  orders_.recordCreated(id, order);
  return *response;
}

void IdempotentCreation::releaseAfterFailure(const KeyClaim& claim) noexcept {
  try {
    keys_.release(claim);
  } catch (const std::exception& error) {  // the lock runs out by itself
    logger_.warning("Could not release an idempotency key", {{"error", error.what()}});
  }
}

void IdempotentCreation::purgeExpiredKeysOncePerMinute(svc::EpochMicros now) noexcept {
  svc::EpochMicros last = lastPurge_.load();
  if (now - last < kPurgeIntervalMicros || !lastPurge_.compare_exchange_strong(last, now)) return;
  try {
    keys_.purgeExpired(now);
  } catch (const std::exception& error) {  // the next purge catches up
    logger_.warning("Could not purge expired idempotency keys", {{"error", error.what()}});
  }
}

}  // namespace orders
