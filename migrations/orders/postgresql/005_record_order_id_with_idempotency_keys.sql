-- A completed Idempotency-Key records the order it created (order_id) and the collection path its
-- first request used (created_via), from which the service renders a replay; it no longer stores
-- a response. Keys completed by earlier releases get both from their stored response: order_id
-- from the body {"order_id":N,...}, else from the Location .../N; created_via from that Location.
-- response_status stays the mark of a completed key (201), for instances of the previous release
-- during a rolling upgrade. Idempotent, so it serves both as a docker-entrypoint-initdb.d script
-- and as migration 5.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS order_id BIGINT;
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS created_via TEXT;
UPDATE idempotency_keys
   SET order_id = COALESCE(substring(response_body FROM '"order_id":([0-9]+)')::BIGINT,
                           substring(response_location FROM '/([0-9]+)$')::BIGINT),
       created_via = substring(response_location FROM '^(.*)/[0-9]+$')
 WHERE response_status IS NOT NULL AND order_id IS NULL;
