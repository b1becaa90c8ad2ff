#pragma once

// Every SQL statement of the orders plugin, named, in one place. Where PostgreSQL and SQLite
// need different SQL (arrays, the clock), a statement has a text for each.
#include "svc/storage.h"

namespace orders::sql {

// The columns every read of an order returns; updated_at falls back to created_at for an order
// that never changed.
#define ORDERS_COLUMNS "id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at)"

// --- orders ---------------------------------------------------------------------------------

/// Orders of one batch: $1..$4 are arrays of equal length (user ids, product ids, quantities,
/// request tokens), $5 their status. Returns each new id with its request token.
inline constexpr svc::Sql kInsertOrders{
    "insert_orders",
    {"postgresql",
     "INSERT INTO orders (user_id, product_id, quantity, request_token, status) "
     "SELECT batch.user_id, batch.product_id, batch.quantity, batch.request_token, $5 "
     "FROM unnest($1::int[], $2::int[], $3::int[], $4::bigint[]) AS batch(user_id, product_id, quantity, request_token) "
     "RETURNING id, request_token"},
    {"sqlite",
     "INSERT INTO orders (user_id, product_id, quantity, request_token, status) "
     "SELECT u.value, p.value, q.value, t.value, $5 FROM json_each($1) AS u "
     "JOIN json_each($2) AS p ON p.key = u.key JOIN json_each($3) AS q ON q.key = u.key "
     "JOIN json_each($4) AS t ON t.key = u.key "
     "RETURNING id, request_token"}};

/// The orders of a batch of ids ($1, an array), in no particular order.
inline constexpr svc::Sql kFindOrders{
    "find_orders",
    {"postgresql", "SELECT " ORDERS_COLUMNS " FROM orders WHERE id = ANY($1::bigint[])"},
    {"sqlite", "SELECT " ORDERS_COLUMNS " FROM orders WHERE id IN (SELECT value FROM json_each($1))"}};

/// The ids of the orders written with the request tokens $1 (an array): what a batch whose
/// connection was lost stored.
inline constexpr svc::Sql kFindOrdersByRequestToken{
    "find_orders_by_request_token",
    {"postgresql", "SELECT id, request_token FROM orders WHERE request_token = ANY($1::bigint[])"},
    {"sqlite", "SELECT id, request_token FROM orders WHERE request_token IN (SELECT value FROM json_each($1))"}};

// A page of a listing, newest first: one statement for each combination of filters, so that each
// uses its index. The cursor ($n "id <") is always there (the largest id when the page is the first).
inline constexpr svc::Sql kListOrders{
    "list_orders", "SELECT " ORDERS_COLUMNS " FROM orders WHERE id < $1 ORDER BY id DESC LIMIT $2"};
inline constexpr svc::Sql kListOrdersOfUser{
    "list_orders_of_user",
    "SELECT " ORDERS_COLUMNS " FROM orders WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"};
inline constexpr svc::Sql kListOrdersInStatus{
    "list_orders_in_status",
    "SELECT " ORDERS_COLUMNS " FROM orders WHERE status = $1 AND id < $2 ORDER BY id DESC LIMIT $3"};
inline constexpr svc::Sql kListOrdersOfUserInStatus{
    "list_orders_of_user_in_status",
    "SELECT " ORDERS_COLUMNS " FROM orders WHERE user_id = $1 AND status = $2 AND id < $3 ORDER BY id DESC LIMIT $4"};

/// Sets order $3 from status $4 to $1, updated at $2; returns the order when it changed.
inline constexpr svc::Sql kCancelOrder{
    "cancel_order",
    "UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 RETURNING " ORDERS_COLUMNS};

#undef ORDERS_COLUMNS

// --- idempotency keys -------------------------------------------------------------------------
// Locks and expiry are epoch microseconds of the database's clock, never an instance's own.
#define POSTGRES_NOW "(extract(epoch from clock_timestamp()) * 1000000)::bigint"
#define SQLITE_NOW "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"

// ON CONFLICT DO NOTHING, not a caught unique violation: a failed statement would abort the
// PostgreSQL transaction. A key claimed by another transaction not yet committed makes this wait
// for it, and then do nothing if that one committed. $1 key, $2 request hash, $3 owner token,
// $4 lock and $5 lifetime in microseconds.
#define INSERT_KEY(now)                                                                              \
  "INSERT INTO idempotency_keys (idempotency_key, request_hash, owner_token, locked_until, expires_at) " \
  "VALUES ($1, $2, $3, " now " + $4, " now " + $5) "                                                   \
  "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key"
inline constexpr svc::Sql kInsertIdempotencyKey{
    "insert_idempotency_key", {"postgresql", INSERT_KEY(POSTGRES_NOW)}, {"sqlite", INSERT_KEY(SQLITE_NOW)}};
#undef INSERT_KEY

// One statement, so that two requests cannot both take the same key over. A key still being
// processed (response_status NULL: not completed) is taken over only once its lock runs out, even
// when it has outlived its lifetime. $1 key, $2 request hash, $3 owner token, $4 lock, $5 lifetime.
#define TAKE_OVER_KEY(now)                                                                             \
  "UPDATE idempotency_keys SET request_hash = $2, owner_token = $3, locked_until = " now " + $4, "     \
  "expires_at = " now " + $5, order_id = NULL, created_via = NULL, response_status = NULL, "           \
  "response_body = NULL, response_location = NULL WHERE idempotency_key = $1 AND "                    \
  "((response_status IS NOT NULL AND expires_at <= " now ") OR (response_status IS NULL AND locked_until <= " now \
  ")) RETURNING idempotency_key"
inline constexpr svc::Sql kTakeOverIdempotencyKey{
    "take_over_idempotency_key", {"postgresql", TAKE_OVER_KEY(POSTGRES_NOW)}, {"sqlite", TAKE_OVER_KEY(SQLITE_NOW)}};
#undef TAKE_OVER_KEY

/// Records order $1 with key $2 of owner $3. The response columns are for instances of earlier
/// releases during a rolling upgrade, which replay a completed key from them.
inline constexpr svc::Sql kCompleteIdempotencyKey{
    "complete_idempotency_key",
    "UPDATE idempotency_keys SET order_id = $1, response_status = 201, "
    "response_body = '{\"order_id\":' || CAST(CAST($1 AS BIGINT) AS TEXT) || ',\"status\":\"created\"}', "
    "response_location = '/orders/' || CAST(CAST($1 AS BIGINT) AS TEXT) WHERE idempotency_key = $2 AND owner_token = $3"};

inline constexpr svc::Sql kFindIdempotencyKey{
    "find_idempotency_key",
    "SELECT request_hash, owner_token, order_id, response_status, response_location FROM idempotency_keys "
    "WHERE idempotency_key = $1"};

// A bounded batch: one huge DELETE could outlast statement_timeout_ms on PostgreSQL (and then
// never finish) or hold SQLite's only write lock for every other POST.
inline constexpr std::size_t kPurgeBatch = 1000;
#define PURGE_KEYS(now)                                                                                        \
  "DELETE FROM idempotency_keys WHERE idempotency_key IN (SELECT idempotency_key FROM idempotency_keys "       \
  "WHERE expires_at <= " now " AND (response_status IS NOT NULL OR locked_until <= " now ") LIMIT 1000) " \
  "RETURNING idempotency_key"
inline constexpr svc::Sql kPurgeIdempotencyKeys{
    "purge_idempotency_keys", {"postgresql", PURGE_KEYS(POSTGRES_NOW)}, {"sqlite", PURGE_KEYS(SQLITE_NOW)}};
#undef PURGE_KEYS

#undef POSTGRES_NOW
#undef SQLITE_NOW

}  // namespace orders::sql
