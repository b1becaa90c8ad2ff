-- updated_at: UTC ISO 8601 text with milliseconds like created_at, NULL until the order changes.
-- SQLite has no ADD COLUMN IF NOT EXISTS; the service applies each migration once
-- (plugin_migrations), and no init script runs this file.
ALTER TABLE orders ADD COLUMN updated_at TEXT;
CREATE INDEX IF NOT EXISTS orders_user_id_id_idx ON orders (user_id, id DESC);
CREATE INDEX IF NOT EXISTS orders_status_id_idx ON orders (status, id DESC);
