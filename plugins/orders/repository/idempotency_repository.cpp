#include "repository/idempotency_repository.h"

#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include "repository/order_repository.h"

using namespace Poco::Data::Keywords;

namespace orders {

namespace {

/// The database's clock in epoch microseconds, as each backend spells it: locks and expiry are
/// never compared with an instance's own clock, which may be off.
std::string databaseNow(const std::string& connector) {
  if (connector == "postgresql") return "(extract(epoch from clock_timestamp()) * 1000000)::bigint";
  if (connector == "sqlite") return "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)";
  throw std::invalid_argument("no database clock known for the " + connector + " backend");
}

// ON CONFLICT DO NOTHING (not a caught unique violation): a failed statement would abort the
// PostgreSQL transaction. A key claimed by another transaction not yet committed makes this wait
// for it, and then do nothing if that one committed.
std::string insertSql(const std::string& now) {
  return "INSERT INTO idempotency_keys (idempotency_key, request_hash, owner_token, created_via, locked_until, "
         "expires_at) VALUES ($1, $2, $3, $4, " + now + " + $5, " + now + " + $6) "
         "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key";
}

// One statement, so that two requests cannot both take the same key over. A key still being
// processed (response_status NULL: not completed) is taken over only once its lock runs out,
// even when it has outlived its lifetime.
std::string takeOverSql(const std::string& now) {
  return "UPDATE idempotency_keys SET request_hash = $1, owner_token = $2, created_via = $3, locked_until = " + now +
         " + $4, expires_at = " + now + " + $5, order_id = NULL, "
         "response_status = NULL, response_body = NULL, response_location = NULL "
         "WHERE idempotency_key = $6 AND ((response_status IS NOT NULL AND expires_at <= " + now + ") "
         "OR (response_status IS NULL AND locked_until <= " + now + ")) RETURNING idempotency_key";
}

// response_status = 201 marks the key completed for instances of the previous release (a rolling
// upgrade), which would otherwise take it over once its lock ran out.
constexpr const char* kCompleteSql =
    "UPDATE idempotency_keys SET order_id = $1, response_status = 201 WHERE idempotency_key = $2 AND owner_token = $3";

constexpr const char* kSelectSql =
    "SELECT request_hash, owner_token, order_id, created_via, response_status, response_location "
    "FROM idempotency_keys WHERE idempotency_key = $1";

// A bounded batch: one huge DELETE could outlast statement_timeout_ms on PostgreSQL (and then
// never finish) or hold SQLite's only write lock for every other POST.
constexpr std::size_t kPurgeBatch = 1000;
std::string purgeSql(const std::string& now) {
  return "DELETE FROM idempotency_keys WHERE idempotency_key IN (SELECT idempotency_key FROM idempotency_keys "
         "WHERE expires_at <= " + now + " AND (response_status IS NOT NULL OR locked_until <= " + now + ") LIMIT " +
         std::to_string(kPurgeBatch) + ") RETURNING idempotency_key";
}

/// The order of a key completed by the previous release after migration 005 ran (during a
/// rolling upgrade): only its stored Location ("<collection>/<id>") names it.
std::optional<KeyedOrder> orderOfStoredLocation(const std::string& location) {
  const std::size_t slash = location.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  std::int64_t id = 0;
  const char* end = location.data() + location.size();
  const auto [ptr, error] = std::from_chars(location.data() + slash + 1, end, id);
  if (error != std::errc() || ptr != end) return std::nullopt;
  return KeyedOrder{.orderId = id, .createdVia = location.substr(0, slash)};
}

/// The statements of one connection, prepared once; their parameters are bound to the members.
struct IdempotencyStatements {
  explicit IdempotencyStatements(Poco::Data::Session& session)
      : insert(session), takeOver(session), complete(session), select(session), purge(session) {
    const std::string now = databaseNow(session.connector());
    insert << insertSql(now), use(claim.key), use(claim.requestHash), use(claim.ownerToken), use(claim.createdVia),
        use(claim.lockMicros), use(claim.lifetimeMicros), into(touched);
    takeOver << takeOverSql(now), use(claim.requestHash), use(claim.ownerToken), use(claim.createdVia),
        use(claim.lockMicros), use(claim.lifetimeMicros), use(claim.key), into(touched);
    complete << kCompleteSql, use(orderId), use(claim.key), use(claim.ownerToken);
    select << kSelectSql, use(claim.key), into(hashes), into(owners), into(orderIds), into(createdVias), into(statuses),
        into(locations);
    purge << purgeSql(now), into(touched);
  }

  /// Runs a statement whose RETURNING tells whether it touched a key.
  bool touches(Poco::Data::Statement& statement) {
    touched.clear();
    statement.execute();
    return !touched.empty();
  }

  std::optional<IdempotencyRecord> find(const std::string& key) {
    claim.key = key;
    hashes.clear();
    owners.clear();
    orderIds.clear();
    createdVias.clear();
    statuses.clear();
    locations.clear();
    select.execute();
    if (hashes.empty()) return std::nullopt;
    IdempotencyRecord record{.requestHash = hashes[0], .ownerToken = owners[0], .order = std::nullopt};
    if (!orderIds[0].isNull()) {
      record.order = KeyedOrder{.orderId = orderIds[0].value(),
                                .createdVia = createdVias[0].isNull() ? "" : createdVias[0].value()};
    } else if (!statuses[0].isNull() && !locations[0].isNull()) {
      record.order = orderOfStoredLocation(locations[0].value());
    }
    return record;
  }

  KeyClaim claim;
  Poco::Int64 orderId = 0;
  std::vector<std::string> touched;
  std::vector<std::string> hashes, owners;
  std::vector<Poco::Nullable<Poco::Int64>> orderIds;
  std::vector<Poco::Nullable<std::string>> createdVias, locations;
  std::vector<Poco::Nullable<int>> statuses;
  Poco::Data::Statement insert, takeOver, complete, select, purge;
};

}  // namespace

CreationAttempt IdempotencyRepository::createOnce(const KeyClaim& claim, const NewOrder& order) {
  return storage_.withSession([&](svc::SessionLease& lease) -> CreationAttempt {
    auto& statements = lease.prepared<IdempotencyStatements>();
    lease.session().begin();
    statements.claim = claim;
    if (!statements.touches(statements.insert) && !statements.touches(statements.takeOver)) {
      CreationAttempt existing{.createdId = std::nullopt, .existing = statements.find(claim.key)};
      lease.session().rollback();
      return existing;
    }
    statements.orderId = insertOrder(lease, newOrderRow(order, kStatusCreated));
    statements.claim = claim;
    statements.complete.execute();
    lease.session().commit();
    return CreationAttempt{.createdId = statements.orderId, .existing = std::nullopt};
  });
}

std::optional<IdempotencyRecord> IdempotencyRepository::find(const std::string& key, svc::Deadline deadline) {
  return storage_.withSessionUntil(deadline, [&](svc::SessionLease& lease) {
    return lease.prepared<IdempotencyStatements>().find(key);
  });
}

std::optional<std::optional<IdempotencyRecord>> IdempotencyRepository::findAfterEnd(const svc::WorkInterrupted& failure,
                                                                                    const std::string& key,
                                                                                    svc::Deadline deadline) {
  return storage_.afterEnd(failure, deadline, [&] { return find(key, deadline); });
}

void IdempotencyRepository::purgeExpired() {
  std::size_t purged = kPurgeBatch;
  while (purged == kPurgeBatch) {
    purged = storage_.withSession([&](svc::SessionLease& lease) {
      auto& statements = lease.prepared<IdempotencyStatements>();
      statements.touches(statements.purge);
      return statements.touched.size();
    });
  }
}

}  // namespace orders
