-- The Phase 1 orders table for the embedded backend: the same columns as PostgreSQL's.
-- AUTOINCREMENT never reuses an id, as a PostgreSQL sequence does not; created_at is UTC
-- ISO 8601 text with milliseconds.
CREATE TABLE IF NOT EXISTS orders (
    id         INTEGER     PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER     NOT NULL CHECK (user_id > 0),
    product_id INTEGER     NOT NULL CHECK (product_id > 0),
    quantity   INTEGER     NOT NULL CHECK (quantity > 0),
    status     VARCHAR(50) NOT NULL DEFAULT 'created',
    created_at TEXT        NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
