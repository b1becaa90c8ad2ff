-- The Phase 1 orders table. Idempotent, so it serves both as a docker-entrypoint-initdb.d script
-- and as the service's migration 1 (docs/api.md, "Schema", explains the choices).
CREATE TABLE IF NOT EXISTS orders (
    id         BIGSERIAL   PRIMARY KEY,
    user_id    INTEGER     NOT NULL CHECK (user_id > 0),
    product_id INTEGER     NOT NULL CHECK (product_id > 0),
    quantity   INTEGER     NOT NULL CHECK (quantity > 0),
    status     VARCHAR(50) NOT NULL DEFAULT 'created',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
