#include "services/create_order.h"

#include <random>

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/UUIDGenerator.h>

#include "services/order_validation.h"
#include "svc/errors.h"
#include "svc/storage.h"

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

constexpr const char* kOrderMayExistRetryWithKey =
    "The connection to the database failed while the order was being stored, and whether it was "
    "could not be seen: the order may exist. Retry with the same Idempotency-Key: the retry answers "
    "with the order if it exists, and creates it once if it does not.";
constexpr const char* kOrderMayExist =
    "The connection to the database failed while the order was being stored, and whether it was "
    "could not be seen: the order may exist. Retry with the same Idempotency-Key to get its answer "
    "without creating it twice; check before retrying without one.";

// A random positive 63-bit number: two requests sharing one is as likely as guessing it.
std::int64_t newRequestToken() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::int64_t token = 0;
  while (token == 0) token = static_cast<std::int64_t>(generator() >> 1);
  return token;
}

/// The fingerprint of the validated order, so that bodies differing only in layout, member
/// order or ignored members are the same request.
std::string fingerprint(const NewOrder& order) {
  Poco::SHA2Engine sha256;
  sha256.update("user_id=" + std::to_string(order.userId) + "&product_id=" + std::to_string(order.productId) +
                "&quantity=" + std::to_string(order.quantity));
  return Poco::DigestEngine::digestToHex(sha256.digest());
}

/// Runs `task` on a worker, or completes `done` with a 503 when none can take it. What `task`
/// throws completes `done`.
void runOnWorker(svc::Executor& workers, const svc::Completion<CreatedOrder>& done, std::function<void()> task) {
  const bool queued = workers.post([done, task = std::move(task)] {
    try {
      task();
    } catch (...) {
      done(svc::Result<CreatedOrder>(std::current_exception()));
    }
  });
  if (!queued) {
    done(svc::Result<CreatedOrder>(std::make_exception_ptr(svc::Unavailable(
        "The server is busy: every worker is taken and its queue is full; retry shortly", std::chrono::seconds(1)))));
  }
}

[[noreturn]] void rejectInFlight() {
  throw svc::Conflict("A request with this Idempotency-Key is still being processed; retry later",
                      std::chrono::seconds(1));
}

/// The answer to a retry: the key's order; svc::Invalid when the key was used for another order.
CreatedOrder answerRetry(const IdempotencyRecord& record, const KeyClaim& claim) {
  if (record.requestHash != claim.requestHash) {
    throw svc::Invalid("This Idempotency-Key was already used for a different order");
  }
  if (!record.orderId) rejectInFlight();
  return CreatedOrder{.id = *record.orderId, .replayed = true};
}

/// `result`, with an unknown outcome told in the orders' words: what the client should do next.
template <class T>
svc::Result<T> inOrdersWords(svc::Result<T> result, const char* outcomeUnknown) {
  try {
    result.value();
  } catch (const svc::OutcomeUnknown&) {
    return svc::Result<T>(std::make_exception_ptr(svc::OutcomeUnknown(outcomeUnknown)));
  } catch (...) {
  }
  return result;
}

}  // namespace

void CreateOrder::create(const OrderDraft& draft, const std::optional<std::string>& key,
                         svc::Completion<CreatedOrder> done) {
  const NewOrder order = validateNewOrder(draft);
  if (key) return storeUnderKey(order, claimFor(*key, order), std::move(done));
  afterUserCheck(order, done, [this, order, done] { store(order, done); });
}

void CreateOrder::afterUserCheck(const NewOrder& order, const svc::Completion<CreatedOrder>& done,
                                 std::function<void()> next) {
  if (users_ == nullptr) return next();
  users_->ensureExists(order.userId, [done, next = std::move(next)](svc::Result<KnownUser> user) {
    if (user.ok()) return next();
    done(svc::Result<CreatedOrder>(user.error()));
  });
}

void CreateOrder::store(const NewOrder& order, svc::Completion<CreatedOrder> done) {
  repository_.insert(OrderRow{order, newRequestToken()},
                     [this, order, done = std::move(done)](svc::Result<std::int64_t> stored) {
                       done.complete([&] {
                         const std::int64_t id = inOrdersWords(std::move(stored), kOrderMayExist).value();
                         recordCreated(id, order);
                         return CreatedOrder{.id = id, .replayed = false};
                       });
                     });
}

// With a directory of users, a key already completed is answered from what it stored, without
// asking for the user again; any other goes on to the user, then to the transaction (which also
// answers a key completed meanwhile).
void CreateOrder::storeUnderKey(const NewOrder& order, const KeyClaim& claim, svc::Completion<CreatedOrder> done) {
  if (users_ == nullptr) {
    return runOnWorker(workers_, done, [this, order, claim, done] { createUnderKeyOnWorker(order, claim, done); });
  }
  runOnWorker(workers_, done, [this, order, claim, done] {
    const std::optional<IdempotencyRecord> stored = repository_.findKey(claim.key);
    if (stored && stored->orderId) return done(svc::Result<CreatedOrder>(answerRetry(*stored, claim)));
    afterUserCheck(order, done, [this, order, claim, done] {
      runOnWorker(workers_, done, [this, order, claim, done] { createUnderKeyOnWorker(order, claim, done); });
    });
  });
}

void CreateOrder::createUnderKeyOnWorker(const NewOrder& order, const KeyClaim& claim,
                                         svc::Completion<CreatedOrder> done) {
  done.complete([&] {
    purgeExpiredKeysOncePerMinute();
    try {
      return createUnderKey(order, claim);
    } catch (const svc::OutcomeUnknown&) {
      throw svc::OutcomeUnknown(kOrderMayExistRetryWithKey);
    }
  });
}

CreatedOrder CreateOrder::createUnderKey(const NewOrder& order, const KeyClaim& claim) {
  for (int round = 0; round < kClaimAttempts; ++round) {
    const CreationAttempt attempt = repository_.createUnderKey(claim, OrderRow{order, newRequestToken()});
    if (attempt.createdId) {
      recordCreated(*attempt.createdId, order);
      return CreatedOrder{.id = *attempt.createdId, .replayed = false};
    }
    if (attempt.existing) return answerRetry(*attempt.existing, claim);
  }
  rejectInFlight();
}

KeyClaim CreateOrder::claimFor(const std::string& key, const NewOrder& order) const {
  return KeyClaim{.key = key,
                  .requestHash = fingerprint(order),
                  .ownerToken = Poco::UUIDGenerator::defaultGenerator().createRandom().toString(),
                  .lockMicros = kLockMicros,
                  .lifetimeMicros = keyLifetime_.count() * kMicrosPerSecond};
}

void CreateOrder::recordCreated(std::int64_t id, const NewOrder& order) {
  created_.increment();
  logger_.info("Created new order", {{"order_id", id},
                                     {"user_id", order.userId},
                                     {"product_id", order.productId},
                                     {"quantity", order.quantity}});
}

void CreateOrder::purgeExpiredKeysOncePerMinute() noexcept {
  const svc::EpochMicros now = svc::nowEpochMicros();
  svc::EpochMicros last = lastPurge_.load();
  if (now - last < kPurgeIntervalMicros || !lastPurge_.compare_exchange_strong(last, now)) return;
  try {
    repository_.purgeExpiredKeys();
  } catch (const std::exception& error) {  // the next purge catches up
    logger_.warning("Could not purge expired idempotency keys", {{"error", error.what()}});
  }
}

}  // namespace orders
