-- The keyring (tenants/keyring.go): per-tenant key-encryption keys wrapped by
-- the master key (which never enters the database), per-record data keys
-- wrapped by the tenant key, and blind-index entries for exact-match search
-- on encrypted fields. All tenant-owned.

-- +goose Up
CREATE TABLE tenant_keys (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    wrapped       bytea NOT NULL,
    master_key_id text NOT NULL,
    created_at    timestamptz NOT NULL,
    rotated_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE data_keys (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    wrapped      bytea,            -- NULL once destroyed (crypto-shredding)
    created_at   timestamptz NOT NULL,
    destroyed_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);

CREATE TABLE blind_index (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    data_key_id uuid NOT NULL,
    table_name  text NOT NULL,
    record_id   uuid NOT NULL,
    field       text NOT NULL,
    digest      bytea NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, table_name, record_id, field)
);
CREATE INDEX blind_index_lookup ON blind_index (tenant_id, table_name, field, digest);
CREATE INDEX blind_index_key ON blind_index (tenant_id, data_key_id);

ALTER TABLE tenant_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_keys
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON data_keys
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE blind_index ENABLE ROW LEVEL SECURITY;
ALTER TABLE blind_index FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON blind_index
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE blind_index;
DROP TABLE data_keys;
DROP TABLE tenant_keys;
