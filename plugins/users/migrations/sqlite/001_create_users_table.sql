-- The users table of the User Service for the embedded backend: the same columns as PostgreSQL's.
-- email is kept as the client wrote it; email_lower, the same address in lower case (written by
-- the service), is UNIQUE: two users cannot share an address whatever its case. SQLite ignores
-- VARCHAR lengths: the CHECKs hold them. created_at is UTC ISO 8601 text with milliseconds.
CREATE TABLE IF NOT EXISTS users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    email       TEXT    NOT NULL CHECK (length(email) BETWEEN 1 AND 254),
    email_lower TEXT    NOT NULL CHECK (length(email_lower) BETWEEN 1 AND 254),
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower_key ON users (email_lower);
