-- Idempotency-Key of POST /orders: one row per key, claimed before the order is created and
-- completed with the stored response in the order's transaction (docs/api.md, "Idempotent
-- creation"). Times are epoch microseconds, so that both backends compare them the same way.
-- Idempotent, so it serves both as a docker-entrypoint-initdb.d script and as migration 2.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    idempotency_key   VARCHAR(255) PRIMARY KEY,
    request_hash      VARCHAR(64)  NOT NULL,
    owner_token       VARCHAR(64)  NOT NULL,
    locked_until      BIGINT       NOT NULL,
    expires_at        BIGINT       NOT NULL,
    response_status   INTEGER,
    response_body     TEXT,
    response_location TEXT
);
CREATE INDEX IF NOT EXISTS idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
