#include "repository/idempotency_repository.h"

#include <string>
#include <vector>

#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include "repository/order_repository.h"

using namespace Poco::Data::Keywords;

namespace orders {

namespace {

// ON CONFLICT DO NOTHING (not a caught unique violation): a failed statement would abort a
// PostgreSQL transaction and cost the connection its prepared statements.
constexpr const char* kInsertSql =
    "INSERT INTO idempotency_keys (idempotency_key, request_hash, owner_token, locked_until, expires_at) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key";

// One statement, so that two requests cannot both take the same key over. A key still being
// processed is taken over only once its lock runs out, even when it has outlived its lifetime.
constexpr const char* kTakeOverSql =
    "UPDATE idempotency_keys SET request_hash = $1, owner_token = $2, locked_until = $3, expires_at = $4, "
    "response_status = NULL, response_body = NULL, response_location = NULL "
    "WHERE idempotency_key = $5 AND ((response_status IS NOT NULL AND expires_at <= $6) "
    "OR (response_status IS NULL AND locked_until <= $7)) "
    "RETURNING idempotency_key";

constexpr const char* kSelectSql =
    "SELECT request_hash, response_status, response_body, response_location FROM idempotency_keys "
    "WHERE idempotency_key = $1";

constexpr const char* kCompleteSql =
    "UPDATE idempotency_keys SET response_status = $1, response_body = $2, response_location = $3 "
    "WHERE idempotency_key = $4 AND owner_token = $5 RETURNING idempotency_key";

constexpr const char* kReleaseSql =
    "DELETE FROM idempotency_keys WHERE idempotency_key = $1 AND owner_token = $2 AND response_status IS NULL";

// A bounded batch: one huge DELETE could outlast statement_timeout_ms on PostgreSQL (and then
// never finish) or hold SQLite's only write lock for every other POST.
constexpr std::size_t kPurgeBatch = 1000;
const std::string kPurgeSql =
    "DELETE FROM idempotency_keys WHERE idempotency_key IN (SELECT idempotency_key FROM idempotency_keys "
    "WHERE expires_at <= $1 AND (response_status IS NOT NULL OR locked_until <= $2) LIMIT " +
    std::to_string(kPurgeBatch) + ") RETURNING idempotency_key";

/// The statements of one connection, prepared once; their parameters are bound to the members.
struct IdempotencyStatements {
  explicit IdempotencyStatements(Poco::Data::Session& session)
      : insert(session), takeOver(session), select(session), complete(session), release(session), purge(session) {
    insert << kInsertSql, use(claim.key), use(claim.requestHash), use(claim.ownerToken), use(claim.lockedUntil),
        use(claim.expiresAt), into(touched);
    takeOver << kTakeOverSql, use(claim.requestHash), use(claim.ownerToken), use(claim.lockedUntil),
        use(claim.expiresAt), use(claim.key), use(claim.now), use(claim.now), into(touched);
    select << kSelectSql, use(claim.key), into(hashes), into(statuses), into(bodies), into(locations);
    complete << kCompleteSql, use(response.status), use(response.body), use(response.location), use(claim.key),
        use(claim.ownerToken), into(touched);
    release << kReleaseSql, use(claim.key), use(claim.ownerToken);
    purge << kPurgeSql, use(claim.now), use(claim.now), into(touched);
  }

  /// Runs a statement whose RETURNING tells whether it touched the key.
  bool touches(Poco::Data::Statement& statement, const KeyClaim& values) {
    claim = values;
    touched.clear();
    statement.execute();
    return !touched.empty();
  }

  KeyClaim claim;
  StoredResponse response;
  std::vector<std::string> touched;
  std::vector<std::string> hashes;
  std::vector<Poco::Nullable<int>> statuses;
  std::vector<Poco::Nullable<std::string>> bodies, locations;
  Poco::Data::Statement insert, takeOver, select, complete, release, purge;
};

}  // namespace

bool IdempotencyRepository::claim(const KeyClaim& claim) {
  return storage_.withSession([&](svc::SessionLease& lease) {
    auto& statements = lease.prepared<IdempotencyStatements>();
    return statements.touches(statements.insert, claim) || statements.touches(statements.takeOver, claim);
  });
}

std::optional<IdempotencyRecord> IdempotencyRepository::find(const std::string& key, svc::Deadline deadline) {
  return storage_.withSessionUntil(deadline, [&](svc::SessionLease& lease) -> std::optional<IdempotencyRecord> {
    auto& statements = lease.prepared<IdempotencyStatements>();
    statements.claim.key = key;
    statements.hashes.clear();
    statements.statuses.clear();
    statements.bodies.clear();
    statements.locations.clear();
    statements.select.execute();
    if (statements.hashes.empty()) return std::nullopt;
    IdempotencyRecord record{.requestHash = statements.hashes[0], .response = std::nullopt};
    if (!statements.statuses[0].isNull()) {
      record.response = StoredResponse{.status = statements.statuses[0].value(),
                                       .body = statements.bodies[0].value(),
                                       .location = statements.locations[0].value()};
    }
    return record;
  });
}

std::optional<StoredResponse> IdempotencyRepository::createOrderAndComplete(
    const KeyClaim& claim, const NewOrder& order, const std::function<StoredResponse(std::int64_t)>& responseFor) {
  return storage_.withSession([&](svc::SessionLease& lease) -> std::optional<StoredResponse> {
    lease.session().begin();
    const StoredResponse response = responseFor(insertOrder(lease, newOrderRow(order, kStatusCreated)));
    auto& statements = lease.prepared<IdempotencyStatements>();
    statements.response = response;
    if (!statements.touches(statements.complete, claim)) {
      lease.session().rollback();
      return std::nullopt;
    }
    lease.session().commit();
    return response;
  });
}

std::optional<std::optional<IdempotencyRecord>> IdempotencyRepository::findAfterEnd(const svc::WorkInterrupted& failure,
                                                                                    const std::string& key,
                                                                                    svc::Deadline deadline) {
  return storage_.afterEnd(failure, deadline, [&] { return find(key, deadline); });
}

void IdempotencyRepository::release(const KeyClaim& claim, svc::Deadline deadline) {
  storage_.withSessionUntil(deadline, [&](svc::SessionLease& lease) {
    auto& statements = lease.prepared<IdempotencyStatements>();
    statements.claim = claim;
    statements.release.execute();
  });
}

void IdempotencyRepository::purgeExpired(svc::EpochMicros now) {
  std::size_t purged = kPurgeBatch;
  while (purged == kPurgeBatch) {
    purged = storage_.withSession([&](svc::SessionLease& lease) {
      auto& statements = lease.prepared<IdempotencyStatements>();
      statements.touches(statements.purge, KeyClaim{.now = now});
      return statements.touched.size();
    });
  }
}

}  // namespace orders
