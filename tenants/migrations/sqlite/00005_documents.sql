-- Documents (tenants/documents.go); see the PostgreSQL migration of the same
-- number. SQLite: the GORM tenant callbacks are the isolation layer
-- (tenants/callbacks.go).

-- +goose Up
CREATE TABLE documents (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    data_key_id  TEXT NOT NULL,
    field_group  TEXT NOT NULL CHECK (field_group IN ('core', 'identity', 'family', 'medical', 'psychological', 'legal')),
    filename     BLOB,
    content_type TEXT NOT NULL CHECK (length(content_type) BETWEEN 3 AND 200),
    size         INTEGER NOT NULL CHECK (size > 0),
    blob_key     TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    created_by   TEXT NOT NULL,
    deleted_at   DATETIME,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, blob_key),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (deleted_at IS NOT NULL OR filename IS NOT NULL)
);
CREATE INDEX documents_case ON documents (tenant_id, data_key_id);
CREATE INDEX documents_deleted ON documents (tenant_id) WHERE deleted_at IS NOT NULL;

-- +goose Down
DROP TABLE documents;
