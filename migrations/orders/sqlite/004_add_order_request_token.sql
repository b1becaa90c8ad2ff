-- request_token: a random number written with each order, so that after a failure that hid
-- whether the INSERT was committed, the service can look for the order instead of guessing
-- (docs/api.md, "When the outcome is unknown"). NULL for orders created before. SQLite has no
-- ADD COLUMN IF NOT EXISTS; the service applies each migration once (plugin_migrations).
ALTER TABLE orders ADD COLUMN request_token INTEGER;
CREATE INDEX IF NOT EXISTS orders_request_token_idx ON orders (request_token);
