-- A completed Idempotency-Key records the order it created (order_id) and the collection path its
-- first request used (created_via): the same columns and backfill as PostgreSQL's. order_id from
-- the stored body {"order_id":N,...} (CAST reads the digits after the member name), else from the
-- Location .../N; created_via is that Location without its last segment. SQLite has no ADD
-- COLUMN IF NOT EXISTS; the service applies each migration once (schema_migrations).
ALTER TABLE idempotency_keys ADD COLUMN order_id INTEGER;
ALTER TABLE idempotency_keys ADD COLUMN created_via TEXT;
UPDATE idempotency_keys
   SET order_id = CASE
         WHEN instr(response_body, '"order_id":') > 0
           THEN CAST(substr(response_body, instr(response_body, '"order_id":') + 11) AS INTEGER)
         ELSE CAST(substr(response_location, length(rtrim(response_location, '0123456789')) + 1) AS INTEGER)
       END,
       created_via = substr(rtrim(response_location, '0123456789'), 1,
                            length(rtrim(response_location, '0123456789')) - 1)
 WHERE response_status IS NOT NULL AND order_id IS NULL;
