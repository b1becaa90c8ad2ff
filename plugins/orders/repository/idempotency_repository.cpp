#include "repository/idempotency_repository.h"

#include <charconv>
#include <stdexcept>
#include <string>
#include <tuple>

#include "repository/order_repository.h"
#include "svc/query.h"

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

// The response columns are for instances of the previous release during a rolling upgrade: they
// read a completed key as response_status, response_body and response_location (all non-NULL), and
// replay it or, without response_status, take it over once its lock ran out.
constexpr const char* kCompleteSql =
    "UPDATE idempotency_keys SET order_id = $1, response_status = 201, "
    "response_body = '{\"order_id\":' || CAST($2 AS TEXT) || ',\"status\":\"created\"}', "
    "response_location = created_via || '/' || CAST($3 AS TEXT) "
    "WHERE idempotency_key = $4 AND owner_token = $5";

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

using Int64 = Poco::Int64;
using Key = std::tuple<std::string>;

/// The statements of one connection, prepared once. A claim's statements return the key they touched.
struct IdempotencyStatements {
  explicit IdempotencyStatements(Poco::Data::Session& session)
      : now(databaseNow(session.connector())),
        insert(session, insertSql(now)),
        takeOver(session, takeOverSql(now)),
        complete(session, kCompleteSql),
        select(session, kSelectSql),
        purge(session, purgeSql(now)) {}

  bool claims(const KeyClaim& claim) {
    return !insert.run(claim.key, claim.requestHash, claim.ownerToken, claim.createdVia, claim.lockMicros,
                       claim.lifetimeMicros).empty() ||
           !takeOver.run(claim.requestHash, claim.ownerToken, claim.createdVia, claim.lockMicros, claim.lifetimeMicros,
                         claim.key).empty();
  }

  std::optional<IdempotencyRecord> find(const std::string& key) {
    const auto rows = select.run(key);
    if (rows.empty()) return std::nullopt;
    auto [hash, owner, orderId, createdVia, status, location] = rows.at(0);
    IdempotencyRecord record{.requestHash = std::move(hash), .ownerToken = std::move(owner), .order = std::nullopt};
    if (orderId) {
      record.order = KeyedOrder{.orderId = *orderId, .createdVia = createdVia.value_or("")};
    } else if (status && location) {
      record.order = orderOfStoredLocation(*location);
    }
    return record;
  }

  const std::string now;  // the database's clock, as this backend spells it
  svc::Query<std::tuple<std::string, std::string, std::string, std::string, Int64, Int64>, Key> insert;
  svc::Query<std::tuple<std::string, std::string, std::string, Int64, Int64, std::string>, Key> takeOver;
  svc::Query<std::tuple<Int64, Int64, Int64, std::string, std::string>, std::tuple<>> complete;
  svc::Query<Key, std::tuple<std::string, std::string, std::optional<Int64>, std::optional<std::string>,
                             std::optional<int>, std::optional<std::string>>>
      select;
  svc::Query<std::tuple<>, Key> purge;
};

}  // namespace

CreationAttempt IdempotencyRepository::createOnce(const KeyClaim& claim, const NewOrder& order) {
  return storage_.withSession([&](svc::SessionLease& lease) -> CreationAttempt {
    auto& statements = lease.prepared<IdempotencyStatements>();
    lease.session().begin();
    if (!statements.claims(claim)) {
      CreationAttempt existing{.createdId = std::nullopt, .existing = statements.find(claim.key)};
      lease.session().rollback();
      return existing;
    }
    const std::int64_t orderId = insertOrder(lease, newOrderRow(order, kStatusCreated));
    statements.complete.run(orderId, orderId, orderId, claim.key, claim.ownerToken);
    lease.session().commit();
    return CreationAttempt{.createdId = orderId, .existing = std::nullopt};
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
      return lease.prepared<IdempotencyStatements>().purge.run().size();
    });
  }
}

}  // namespace orders
