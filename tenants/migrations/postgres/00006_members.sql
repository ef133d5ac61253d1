-- Identities, memberships, API tokens (global) and each organisation's
-- identity provider (tenant-owned). Code: tenants/identity.go,
-- tenants/members.go, tenants/tokens.go, tenants/idp.go.
--
-- The three global tables are on tenants.GlobalTables with their reasons:
-- they hold no case data, and each is read before an organisation is known
-- (at sign-in, when switching organisations, when a bearer token arrives).
-- With no row-level security on them, the domain code filters every read of
-- memberships and api_tokens by the organisation it acts for.
--
-- Roles are stored as a comma-separated list of role identifiers
-- (tenant_admin,case_manager); an empty string is no role.

-- +goose Up
-- A person as an identity provider knows them: (issuer, subject), never an
-- e-mail address. One identity may be a member of several organisations.
CREATE TABLE identities (
    id         uuid PRIMARY KEY,
    issuer     text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
    subject    text NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL,
    UNIQUE (issuer, subject)
);

-- An identity's membership of an organisation: the roles its provider
-- groups mapped to at the last sign-in, and the tenant admin's overrides.
CREATE TABLE memberships (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    identity_id   uuid NOT NULL REFERENCES identities (id),
    mapped_roles  text NOT NULL DEFAULT '' CHECK (mapped_roles ~ '^([a-z_]+(,[a-z_]+)*)?$'),
    added_roles   text NOT NULL DEFAULT '' CHECK (added_roles ~ '^([a-z_]+(,[a-z_]+)*)?$'),
    removed_roles text NOT NULL DEFAULT '' CHECK (removed_roles ~ '^([a-z_]+(,[a-z_]+)*)?$'),
    disabled      boolean NOT NULL DEFAULT false,
    locale        text NOT NULL DEFAULT '' CHECK (locale IN ('', 'lo', 'th', 'ms', 'en', 'fr')),
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (tenant_id, identity_id)
);
CREATE INDEX memberships_identity ON memberships (identity_id);

-- API tokens: only the SHA-256 of the token is kept. A plain (unsalted,
-- fast) hash is right here: the token is 256 random bits, so there is
-- nothing to guess and no dictionary to precompute; a slow password hash
-- would only slow every request. prefix is the token's first characters,
-- for people to tell their tokens apart. tenant_id is NULL for a platform
-- operator's token (roles exactly platform_operator). created_by is the
-- membership of the tenant admin who made it (NULL: an operator on the
-- command line).
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    tenant_id    uuid REFERENCES tenants (id),
    created_by   uuid REFERENCES memberships (id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    roles        text NOT NULL CHECK (roles ~ '^[a-z_]+(,[a-z_]+)*$'),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix       text NOT NULL CHECK (length(prefix) BETWEEN 4 AND 16),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CHECK ((tenant_id IS NULL) = (roles = 'platform_operator')),
    CHECK (tenant_id IS NOT NULL OR created_by IS NULL),
    CHECK (expires_at > created_at)
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, id);

-- The organisation's OpenID provider; tenant-owned. The client secret is
-- encrypted with the organisation's keys (tenants.Secret). group_roles is a
-- JSON object from provider group to role identifiers.
CREATE TABLE identity_providers (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    issuer        text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
    client_id     text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    client_secret bytea,
    scopes        text NOT NULL,
    groups_claim  text NOT NULL CHECK (length(groups_claim) BETWEEN 1 AND 100),
    group_roles   text NOT NULL,
    email_domains text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id)
);
ALTER TABLE identity_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON identity_providers
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE identity_providers;
DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE identities;
