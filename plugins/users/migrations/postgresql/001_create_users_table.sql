-- The users table of the User Service. Idempotent, so that it can also be a
-- docker-entrypoint-initdb.d script. email is kept as the client wrote it; email_lower, the same
-- address in lower case (written by the service), is UNIQUE: two users cannot share an address
-- whatever its case, even when their POSTs run at the same time.
CREATE TABLE IF NOT EXISTS users (
    id          BIGSERIAL    PRIMARY KEY,
    email       VARCHAR(254) NOT NULL CHECK (length(email) > 0),
    email_lower VARCHAR(254) NOT NULL,
    name        VARCHAR(200) NOT NULL CHECK (length(name) > 0),
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower_key ON users (email_lower);
