-- Platform operators' browser sign-in (see the PostgreSQL migration of the
-- same number). SQLite cannot drop a NOT NULL constraint: both tables are
-- rebuilt with the rows they hold (nothing references them).

-- +goose Up
CREATE TABLE login_attempts_new (
    id_hash       BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    tenant_id     TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    operator      INTEGER NOT NULL DEFAULT 0 CHECK (operator IN (0, 1)),
    state         TEXT NOT NULL CHECK (length(state) BETWEEN 32 AND 128),
    nonce         TEXT NOT NULL CHECK (length(nonce) BETWEEN 32 AND 128),
    code_verifier TEXT NOT NULL CHECK (length(code_verifier) BETWEEN 43 AND 128),
    return_to     TEXT NOT NULL DEFAULT '/' CHECK (return_to LIKE '/%' AND length(return_to) <= 2000),
    created_at    DATETIME NOT NULL,
    expires_at    DATETIME NOT NULL,
    CHECK ((operator = 1 AND tenant_id IS NULL) OR (operator = 0 AND tenant_id IS NOT NULL))
);
INSERT INTO login_attempts_new (id_hash, tenant_id, operator, state, nonce, code_verifier, return_to, created_at, expires_at)
    SELECT id_hash, tenant_id, 0, state, nonce, code_verifier, return_to, created_at, expires_at FROM login_attempts;
DROP TABLE login_attempts;
ALTER TABLE login_attempts_new RENAME TO login_attempts;
CREATE INDEX login_attempts_expiry ON login_attempts (expires_at);

CREATE TABLE sessions_new (
    id_hash       BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    tenant_id     TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    membership_id TEXT REFERENCES memberships (id) ON DELETE CASCADE,
    identity_id   TEXT REFERENCES identities (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 128),
    id_token      BLOB,
    created_at    DATETIME NOT NULL,
    last_seen_at  DATETIME NOT NULL,
    expires_at    DATETIME NOT NULL,
    CHECK ((tenant_id IS NOT NULL AND membership_id IS NOT NULL AND identity_id IS NULL)
        OR (tenant_id IS NULL AND membership_id IS NULL AND identity_id IS NOT NULL))
);
INSERT INTO sessions_new (id_hash, tenant_id, membership_id, csrf_token, id_token, created_at, last_seen_at, expires_at)
    SELECT id_hash, tenant_id, membership_id, csrf_token, id_token, created_at, last_seen_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_membership ON sessions (membership_id);
CREATE INDEX sessions_identity ON sessions (identity_id) WHERE identity_id IS NOT NULL;
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- +goose Down
CREATE TABLE sessions_old (
    id_hash       BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    membership_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 128),
    id_token      BLOB,
    created_at    DATETIME NOT NULL,
    last_seen_at  DATETIME NOT NULL,
    expires_at    DATETIME NOT NULL
);
INSERT INTO sessions_old SELECT id_hash, tenant_id, membership_id, csrf_token, id_token, created_at, last_seen_at, expires_at
    FROM sessions WHERE identity_id IS NULL;
DROP TABLE sessions;
ALTER TABLE sessions_old RENAME TO sessions;
CREATE INDEX sessions_membership ON sessions (membership_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

CREATE TABLE login_attempts_old (
    id_hash       BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state         TEXT NOT NULL CHECK (length(state) BETWEEN 32 AND 128),
    nonce         TEXT NOT NULL CHECK (length(nonce) BETWEEN 32 AND 128),
    code_verifier TEXT NOT NULL CHECK (length(code_verifier) BETWEEN 43 AND 128),
    return_to     TEXT NOT NULL DEFAULT '/' CHECK (return_to LIKE '/%' AND length(return_to) <= 2000),
    created_at    DATETIME NOT NULL,
    expires_at    DATETIME NOT NULL
);
INSERT INTO login_attempts_old SELECT id_hash, tenant_id, state, nonce, code_verifier, return_to, created_at, expires_at
    FROM login_attempts WHERE operator = 0;
DROP TABLE login_attempts;
ALTER TABLE login_attempts_old RENAME TO login_attempts;
CREATE INDEX login_attempts_expiry ON login_attempts (expires_at);
