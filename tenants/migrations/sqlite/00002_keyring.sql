-- The keyring (tenants/keyring.go); see the PostgreSQL migration.

-- +goose Up
CREATE TABLE tenant_keys (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    wrapped       BLOB NOT NULL,
    master_key_id TEXT NOT NULL,
    created_at    DATETIME NOT NULL,
    rotated_at    DATETIME,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE data_keys (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    wrapped      BLOB,
    created_at   DATETIME NOT NULL,
    destroyed_at DATETIME,
    PRIMARY KEY (tenant_id, id),
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);

CREATE TABLE blind_index (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    data_key_id TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    digest      BLOB NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, table_name, record_id, field)
);
CREATE INDEX blind_index_lookup ON blind_index (tenant_id, table_name, field, digest);
CREATE INDEX blind_index_key ON blind_index (tenant_id, data_key_id);

-- +goose Down
DROP TABLE blind_index;
DROP TABLE data_keys;
DROP TABLE tenant_keys;
