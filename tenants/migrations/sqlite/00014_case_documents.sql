-- Documents of a case (tenants/casedocs); see the PostgreSQL migration of
-- the same number. SQLite: the GORM tenant callbacks are the isolation
-- layer (tenants/callbacks.go). SQLite cannot change a CHECK constraint, so
-- documents is rebuilt with the wider list of parts (nothing references it
-- yet).

-- +goose Up
CREATE TABLE documents_new (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    data_key_id  TEXT NOT NULL,
    field_group  TEXT NOT NULL CHECK (field_group IN ('core', 'identity', 'family', 'medical', 'psychological', 'legal',
                                                      'support', 'kit', 'followup')),
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
INSERT INTO documents_new SELECT tenant_id, id, data_key_id, field_group, filename, content_type, size, blob_key,
    created_at, created_by, deleted_at FROM documents;
DROP TABLE documents;
ALTER TABLE documents_new RENAME TO documents;
CREATE INDEX documents_case ON documents (tenant_id, data_key_id);
CREATE INDEX documents_deleted ON documents (tenant_id) WHERE deleted_at IS NOT NULL;

CREATE TABLE case_documents (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    document_id TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    entry_kind  TEXT CHECK (length(entry_kind) BETWEEN 1 AND 100),
    entry_id    TEXT,
    PRIMARY KEY (tenant_id, document_id),
    FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    CHECK ((entry_kind IS NULL) = (entry_id IS NULL))
);
CREATE INDEX case_documents_case ON case_documents (tenant_id, case_id);

-- +goose Down
-- documents keeps the wider list of parts: rebuilding it again gains nothing.
DROP TABLE case_documents;
