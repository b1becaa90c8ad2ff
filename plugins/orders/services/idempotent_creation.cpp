#include "services/idempotent_creation.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/UUIDGenerator.h>

#include "services/order_validation.h"
#include "svc/errors.h"

namespace orders {

namespace {

constexpr svc::EpochMicros kMicrosPerSecond = 1'000'000;
// How long a key may stay claimed unfinished before a retry may take it over (an instance that
// died between claim and completion); well above [storage] statement_timeout_ms.
constexpr svc::EpochMicros kLockMicros = 30 * kMicrosPerSecond;
// Measured on this instance's clock: it only spaces the purges out.
constexpr svc::EpochMicros kPurgeIntervalMicros = 60 * kMicrosPerSecond;
// A key expires and is purged between our failed claim and our read: claim again, a few times.
constexpr int kClaimAttempts = 3;
// Lost sessions remembered for settling at most (past it, their keys wait for the database).
constexpr std::size_t kMaxUnsettled = 10000;

constexpr const char* kOrderMayExist =
    "The connection to the database failed while the order was being stored, and whether it was "
    "could not be seen: the order may exist. Retry with the same Idempotency-Key: the retry answers "
    "with the order if it exists, and creates it once if it does not.";

/// The fingerprint of the validated order, so that bodies differing only in layout, member
/// order or ignored members are the same request.
std::string fingerprint(const NewOrder& order) {
  Poco::SHA2Engine sha256;
  sha256.update("user_id=" + std::to_string(order.userId) + "&product_id=" + std::to_string(order.productId) +
                "&quantity=" + std::to_string(order.quantity));
  return Poco::DigestEngine::digestToHex(sha256.digest());
}

[[noreturn]] void rejectInFlight() {
  throw svc::Conflict("A request with this Idempotency-Key is still being processed; retry later",
                      std::chrono::seconds(1));
}

/// The answer to a retry: the key's order; svc::Invalid when the key was used for another order.
IdempotentOutcome answerRetry(const IdempotencyRecord& record, const KeyClaim& claim) {
  if (record.requestHash != claim.requestHash) {
    throw svc::Invalid("This Idempotency-Key was already used for a different order");
  }
  if (!record.order) rejectInFlight();
  return IdempotentOutcome{.order = *record.order, .replayed = true};
}

}  // namespace

IdempotentOutcome IdempotentCreation::create(const NewOrder& order, const std::string& key,
                                             const std::string& createdVia) {
  validateNewOrder(order);
  const KeyClaim claim = claimFor(key, order, createdVia);
  purgeExpiredKeysOncePerMinute();
  settleEarlierFailure(key);
  for (int round = 0; round < kClaimAttempts; ++round) {
    const CreationAttempt result = attempt(claim, order);
    if (result.createdId) {
      orders_.recordCreated(*result.createdId, order);
      return IdempotentOutcome{.order = {.orderId = *result.createdId, .createdVia = createdVia}, .replayed = false};
    }
    if (result.existing) return answerRetry(*result.existing, claim);
  }
  rejectInFlight();
}

KeyClaim IdempotentCreation::claimFor(const std::string& key, const NewOrder& order,
                                      const std::string& createdVia) const {
  return KeyClaim{.key = key,
                  .requestHash = fingerprint(order),
                  .ownerToken = Poco::UUIDGenerator::defaultGenerator().createRandom().toString(),
                  .createdVia = createdVia,
                  .lockMicros = kLockMicros,
                  .lifetimeMicros = keyLifetime_.count() * kMicrosPerSecond};
}

// The claim, the order and the completion are one transaction: a failure that is known to have
// come before the commit leaves nothing behind (the key stays free for a retry).
CreationAttempt IdempotentCreation::attempt(const KeyClaim& claim, const NewOrder& order) {
  const svc::Deadline deadline = keys_.workDeadline();
  try {
    return keys_.createOnce(claim, order);
  } catch (const svc::WorkInterrupted& failure) {
    return settleInterrupted(claim, failure, deadline + svc::kSettleAllowance);
  }
}

// The transaction may have been committed before its connection broke: once the server has
// ended that session, the key tells.
CreationAttempt IdempotentCreation::settleInterrupted(const KeyClaim& claim, const svc::WorkInterrupted& failure,
                                                      svc::Deadline deadline) {
  const auto record = keys_.findAfterEnd(failure, claim.key, deadline);
  if (!record) {
    remember(claim.key, failure.lostSession());
    logger_.warning("Order outcome unknown: the database did not come back in time",
                    {{"idempotency_key", claim.key}, {"reason", failure.cause()}});
    throw svc::OutcomeUnknown(kOrderMayExist);
  }
  if (*record && (*record)->ownerToken == claim.ownerToken && (*record)->order) {
    return CreationAttempt{.createdId = (*record)->order->orderId, .existing = std::nullopt};
  }
  throw svc::StorageUnavailable("the order was not stored: " + failure.cause());
}

// When an earlier request with `key` lost its connection here without knowing whether its
// transaction committed: waits (within a request's deadline) for that session to end, so that
// this request neither waits behind its row lock nor misses what it committed.
void IdempotentCreation::settleEarlierFailure(const std::string& key) {
  const std::optional<std::string> lostSession = takeLostSession(key);
  if (!lostSession) return;
  try {
    if (keys_.awaitEnd(*lostSession, keys_.workDeadline())) return;
  } catch (const svc::StorageUnavailable&) {
  }
  remember(key, *lostSession);
}

void IdempotentCreation::remember(const std::string& key, const std::string& lostSession) {
  if (lostSession.empty()) return;  // no server session (SQLite): nothing can outlive the connection
  std::lock_guard lock(lostSessionsMutex_);
  if (lostSessions_.size() < kMaxUnsettled) lostSessions_.insert_or_assign(key, lostSession);
}

std::optional<std::string> IdempotentCreation::takeLostSession(const std::string& key) {
  std::lock_guard lock(lostSessionsMutex_);
  const auto it = lostSessions_.find(key);
  if (it == lostSessions_.end()) return std::nullopt;
  std::string lostSession = std::move(it->second);
  lostSessions_.erase(it);
  return lostSession;
}

void IdempotentCreation::purgeExpiredKeysOncePerMinute() noexcept {
  const svc::EpochMicros now = svc::nowEpochMicros();
  svc::EpochMicros last = lastPurge_.load();
  if (now - last < kPurgeIntervalMicros || !lastPurge_.compare_exchange_strong(last, now)) return;
  try {
    keys_.purgeExpired();
  } catch (const std::exception& error) {  // the next purge catches up
    logger_.warning("Could not purge expired idempotency keys", {{"error", error.what()}});
  }
}

}  // namespace orders
