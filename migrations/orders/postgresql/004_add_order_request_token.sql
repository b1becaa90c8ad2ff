-- request_token: a random number written with each order, so that after a failure that hid
-- whether the INSERT was committed (the connection broke around it), the service can look for
-- the order instead of guessing (docs/api.md, "When the outcome is unknown"). NULL for orders
-- created before. Idempotent, so it serves both as a docker-entrypoint-initdb.d script and as
-- migration 4.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS request_token BIGINT;
CREATE INDEX IF NOT EXISTS orders_request_token_idx ON orders (request_token);
