-- Identities, memberships, API tokens (global) and each organisation's
-- identity provider (tenant-owned); see the PostgreSQL migration of the same
-- number. SQLite: the GORM tenant callbacks are the isolation layer
-- (tenants/callbacks.go).

-- +goose Up
CREATE TABLE identities (
    id         TEXT PRIMARY KEY,
    issuer     TEXT NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
    subject    TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    created_at DATETIME NOT NULL,
    UNIQUE (issuer, subject)
);

CREATE TABLE memberships (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    identity_id   TEXT NOT NULL REFERENCES identities (id),
    mapped_roles  TEXT NOT NULL DEFAULT '' CHECK (mapped_roles NOT GLOB '*[^a-z_,]*'),
    added_roles   TEXT NOT NULL DEFAULT '' CHECK (added_roles NOT GLOB '*[^a-z_,]*'),
    removed_roles TEXT NOT NULL DEFAULT '' CHECK (removed_roles NOT GLOB '*[^a-z_,]*'),
    disabled      INTEGER NOT NULL DEFAULT 0,
    locale        TEXT NOT NULL DEFAULT '' CHECK (locale IN ('', 'lo', 'th', 'ms', 'en', 'fr')),
    last_login_at DATETIME,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    UNIQUE (tenant_id, identity_id)
);
CREATE INDEX memberships_identity ON memberships (identity_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT REFERENCES tenants (id),
    created_by   TEXT REFERENCES memberships (id),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    roles        TEXT NOT NULL CHECK (roles <> '' AND roles NOT GLOB '*[^a-z_,]*'),
    token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix       TEXT NOT NULL CHECK (length(prefix) BETWEEN 4 AND 16),
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    revoked_at   DATETIME,
    last_used_at DATETIME,
    CHECK ((tenant_id IS NULL) = (roles = 'platform_operator')),
    CHECK (tenant_id IS NOT NULL OR created_by IS NULL)
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, id);

CREATE TABLE identity_providers (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    issuer        TEXT NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
    client_id     TEXT NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    client_secret BLOB,
    scopes        TEXT NOT NULL,
    groups_claim  TEXT NOT NULL CHECK (length(groups_claim) BETWEEN 1 AND 100),
    group_roles   TEXT NOT NULL,
    email_domains TEXT NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id)
);

-- +goose Down
DROP TABLE identity_providers;
DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE identities;
