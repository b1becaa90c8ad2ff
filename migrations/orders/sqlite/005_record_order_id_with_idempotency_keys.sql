-- A completed Idempotency-Key records the order it created (order_id) and the collection path its
-- first request used (created_via): the same columns as PostgreSQL's. Keys completed by earlier
-- releases keep them NULL and are read from their stored Location (".../N") instead: no backfill,
-- so that the migration costs the same on a table of millions of keys as on an empty one. SQLite
-- has no ADD COLUMN IF NOT EXISTS; the service applies each migration once (plugin_migrations).
ALTER TABLE idempotency_keys ADD COLUMN order_id INTEGER;
ALTER TABLE idempotency_keys ADD COLUMN created_via TEXT;
