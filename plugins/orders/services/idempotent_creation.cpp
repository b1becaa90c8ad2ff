#include "services/idempotent_creation.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/UUIDGenerator.h>

#include "services/order_validation.h"
#include "svc/errors.h"

namespace orders {

namespace {

constexpr svc::EpochMicros kMicrosPerSecond = 1'000'000;
// How long a request may hold its key unfinished before a retry may take it over (a crashed
// instance); well above [storage] statement_timeout_ms.
constexpr svc::EpochMicros kLockMicros = 30 * kMicrosPerSecond;
constexpr svc::EpochMicros kPurgeIntervalMicros = 60 * kMicrosPerSecond;
// A key expires or is released between our failed claim and our read: claim again, a few times.
constexpr int kClaimAttempts = 3;
// Failed claims remembered for settling at most (past it, their keys wait for their locks).
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

/// The stored answer to a retry: a replay; svc::Invalid when the key was used for another order.
IdempotentOutcome answerRetry(const IdempotencyRecord& record, const KeyClaim& claim) {
  if (record.requestHash != claim.requestHash) {
    throw svc::Invalid("This Idempotency-Key was already used for a different order");
  }
  if (!record.response) rejectInFlight();
  return IdempotentOutcome{.response = *record.response, .replayed = true};
}

}  // namespace

IdempotentOutcome IdempotentCreation::create(const NewOrder& order, const std::string& key,
                                             const ResponseFor& responseFor) {
  validateNewOrder(order);
  const KeyClaim claim = claimFor(key, order);
  purgeExpiredKeysOncePerMinute(claim.now);
  for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
    if (claimOrRemember(claim)) {
      return IdempotentOutcome{.response = createOwned(claim, order, responseFor), .replayed = false};
    }
    if (settleEarlierFailure(key)) continue;
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

// A claim whose connection broke may have been committed: remembered, so that the key's next
// request can release it rather than wait for its lock. No order exists either way.
bool IdempotentCreation::claimOrRemember(const KeyClaim& claim) {
  try {
    return keys_.claim(claim);
  } catch (const svc::WorkInterrupted& failure) {
    remember(claim, failure.lostSession());
    throw;
  }
}

StoredResponse IdempotentCreation::createOwned(const KeyClaim& claim, const NewOrder& order,
                                               const ResponseFor& responseFor) {
  const svc::Deadline deadline = keys_.workDeadline();
  std::int64_t id = 0;
  std::optional<StoredResponse> response;
  try {
    response = keys_.createOrderAndComplete(claim, order, [&](std::int64_t created) {
      id = created;
      return responseFor(created);
    });
  } catch (const svc::WorkInterrupted& failure) {
    response = settleInterrupted(claim, failure, deadline + svc::kSettleAllowance);
  } catch (...) {
    releaseAfterFailure(claim, "");
    throw;
  }
  if (!response) rejectInFlight();  // held past its lock, another request took the key over
  orders_.recordCreated(id, order);
  return *response;
}

// The order's transaction (which completes the key) may have been committed before its
// connection broke: once the server has ended that session, the key tells.
StoredResponse IdempotentCreation::settleInterrupted(const KeyClaim& claim, const svc::WorkInterrupted& failure,
                                                     svc::Deadline deadline) {
  const auto record = keys_.findAfterEnd(failure, claim.key, deadline);
  if (!record) {
    remember(claim, failure.lostSession());
    logger_.warning("Order outcome unknown: the database did not come back in time",
                    {{"idempotency_key", claim.key}, {"reason", failure.cause()}});
    throw svc::OutcomeUnknown(kOrderMayExist);
  }
  if (*record && (*record)->response && (*record)->requestHash == claim.requestHash) return *(*record)->response;
  releaseAfterFailure(claim, "");
  throw svc::StorageUnavailable("the order was not stored: " + failure.cause());
}

void IdempotentCreation::releaseAfterFailure(const KeyClaim& claim, const std::string& lostSession) noexcept {
  try {
    keys_.release(claim);
  } catch (const std::exception& error) {  // the key's next request, or its lock running out, settles it
    logger_.warning("Could not release an idempotency key", {{"error", error.what()}});
    try {
      remember(claim, lostSession);
    } catch (...) {
    }
  }
}

// When an earlier request with `key` failed here and left it claimed: releases that claim, once
// the work of that request can no longer commit. True when the key may be claimed again.
bool IdempotentCreation::settleEarlierFailure(const std::string& key) {
  std::optional<Unsettled> earlier = takeUnsettled(key);
  if (!earlier) return false;
  try {
    const svc::Deadline deadline = keys_.workDeadline();
    if (keys_.awaitEnd(earlier->lostSession, deadline)) {
      keys_.release(earlier->claim, deadline);  // only if still unfinished: a committed order keeps its key
      return true;
    }
  } catch (const svc::StorageUnavailable&) {
  }
  remember(earlier->claim, earlier->lostSession);
  return false;
}

void IdempotentCreation::remember(const KeyClaim& claim, const std::string& lostSession) {
  std::lock_guard lock(unsettledMutex_);
  if (unsettled_.size() < kMaxUnsettled) unsettled_.insert_or_assign(claim.key, Unsettled{claim, lostSession});
}

std::optional<IdempotentCreation::Unsettled> IdempotentCreation::takeUnsettled(const std::string& key) {
  std::lock_guard lock(unsettledMutex_);
  const auto it = unsettled_.find(key);
  if (it == unsettled_.end()) return std::nullopt;
  Unsettled earlier = std::move(it->second);
  unsettled_.erase(it);
  return earlier;
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
