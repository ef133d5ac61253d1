-- Sign-in: attempts in progress and browser sessions (tenants/sessions.go,
-- api/signin.go). Both tables are global (tenants.GlobalTables): they are
-- read before the organisation is known, from a cookie alone. They hold ids,
-- hashes and random values only, nothing personal:
--
-- login_attempts is one sign-in between GET /login and /auth/callback,
-- keyed by the SHA-256 of the random id in the browser's login cookie; it
-- lives ten minutes and is deleted when the callback takes it (single use).
--
-- sessions is one signed-in browser, keyed by the SHA-256 of the session id
-- in its cookie (the id itself is never stored). id_token is the ID token
-- kept for the provider's logout (id_token_hint), sealed with AES-256-GCM
-- under a key derived from the session id: without the browser's cookie it
-- cannot be read. The idle timeout is measured from last_seen_at, the
-- absolute one is expires_at.

-- +goose Up
CREATE TABLE login_attempts (
    id_hash       bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state         text NOT NULL CHECK (length(state) BETWEEN 32 AND 128),
    nonce         text NOT NULL CHECK (length(nonce) BETWEEN 32 AND 128),
    code_verifier text NOT NULL CHECK (length(code_verifier) BETWEEN 43 AND 128),
    return_to     text NOT NULL DEFAULT '/' CHECK (return_to LIKE '/%' AND length(return_to) <= 2000),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX login_attempts_expiry ON login_attempts (expires_at);

CREATE TABLE sessions (
    id_hash       bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    membership_id uuid NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    csrf_token    text NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 128),
    id_token      bytea,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_membership ON sessions (membership_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE login_attempts;
