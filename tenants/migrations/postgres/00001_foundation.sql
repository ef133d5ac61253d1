-- Foundation: the organisations, their settings, and the outbox.
-- Every tenant-owned table: tenant_id first in the primary key, ENABLE and
-- FORCE ROW LEVEL SECURITY, and the tenant_isolation policy (USING and WITH
-- CHECK). tenants.CheckSchema fails the build for any table that lacks them
-- and is not in tenants.GlobalTables.

-- +goose Up
CREATE TABLE tenants (
    id         uuid PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    country    text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    city       text NOT NULL DEFAULT '',
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    demo       boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE tenant_settings (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    id         uuid NOT NULL,
    key        text NOT NULL,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, key)
);
ALTER TABLE tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_settings
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The outbox holds ids only (see tenants.OutboxMessage); it is global so the
-- relay can claim work of every tenant.
CREATE TABLE outbox (
    id          uuid PRIMARY KEY,
    tenant_id   uuid REFERENCES tenants (id),
    kind        text NOT NULL,
    queue       text NOT NULL,
    payload     text NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'enqueued', 'done', 'dead')),
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    enqueued_at timestamptz,
    done_at     timestamptz,
    last_error  text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (created_at) WHERE status IN ('pending', 'enqueued');

-- +goose Down
DROP TABLE outbox;
DROP TABLE tenant_settings;
DROP TABLE tenants;
