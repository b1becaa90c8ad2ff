-- Idempotency-Key of POST /orders: the same columns as PostgreSQL's (times in epoch microseconds).
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
