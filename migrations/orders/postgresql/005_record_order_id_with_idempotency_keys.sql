-- A completed Idempotency-Key records the order it created (order_id) and the collection path its
-- first request used (created_via), from which the service renders a replay. Keys completed by
-- earlier releases keep them NULL and are read from their stored Location (".../N") instead: no
-- backfill, so that the migration takes its lock for a catalog change only, however many keys are
-- stored (an UPDATE of every key could outlast statement_timeout_ms and hold the table meanwhile).
-- Completed keys keep response_status = 201 (and a stored response) for instances of the previous
-- release during a rolling upgrade. Idempotent, so it serves both as a docker-entrypoint-initdb.d
-- script and as migration 5.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS order_id BIGINT;
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS created_via TEXT;
