-- Sign-in: attempts in progress and browser sessions (see the PostgreSQL
-- migration of the same number for what each column holds).

-- +goose Up
CREATE TABLE login_attempts (
    id_hash       BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state         TEXT NOT NULL CHECK (length(state) BETWEEN 32 AND 128),
    nonce         TEXT NOT NULL CHECK (length(nonce) BETWEEN 32 AND 128),
    code_verifier TEXT NOT NULL CHECK (length(code_verifier) BETWEEN 43 AND 128),
    return_to     TEXT NOT NULL DEFAULT '/' CHECK (return_to LIKE '/%' AND length(return_to) <= 2000),
    created_at    DATETIME NOT NULL,
    expires_at    DATETIME NOT NULL
);
CREATE INDEX login_attempts_expiry ON login_attempts (expires_at);

CREATE TABLE sessions (
    id_hash       BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    membership_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 128),
    id_token      BLOB,
    created_at    DATETIME NOT NULL,
    last_seen_at  DATETIME NOT NULL,
    expires_at    DATETIME NOT NULL
);
CREATE INDEX sessions_membership ON sessions (membership_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE login_attempts;
