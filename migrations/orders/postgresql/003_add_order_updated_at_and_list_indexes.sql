-- updated_at is set when an order changes (cancel); NULL while it never has, and then the API
-- returns created_at. The indexes serve GET /orders, newest first, by user or by status.
-- Idempotent, so it serves both as a docker-entrypoint-initdb.d script and as migration 3.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ;
CREATE INDEX IF NOT EXISTS orders_user_id_id_idx ON orders (user_id, id DESC);
CREATE INDEX IF NOT EXISTS orders_status_id_idx ON orders (status, id DESC);
