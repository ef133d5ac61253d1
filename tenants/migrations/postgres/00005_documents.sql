-- Documents (tenants/documents.go): the files of a case. The content lives in
-- the document bucket (HOMEWARD_BLOB_URL), encrypted with the case's data key;
-- this row says what it is. The file name is personal data and is encrypted
-- (tenants.Secret); blob_key is opaque (TENANT/DOCUMENT). A deleted document
-- keeps its row (deleted_at set, file name dropped) until PurgeDocuments has
-- removed its content. Tenant-owned: tenant_id first in the primary key,
-- ENABLE and FORCE ROW LEVEL SECURITY, and the tenant_isolation policy.

-- +goose Up
CREATE TABLE documents (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    data_key_id  uuid NOT NULL,
    field_group  text NOT NULL CHECK (field_group IN ('core', 'identity', 'family', 'medical', 'psychological', 'legal')),
    filename     bytea,
    content_type text NOT NULL CHECK (length(content_type) BETWEEN 3 AND 200),
    size         bigint NOT NULL CHECK (size > 0),
    blob_key     text NOT NULL,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    deleted_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, blob_key),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (deleted_at IS NOT NULL OR filename IS NOT NULL)
);
CREATE INDEX documents_case ON documents (tenant_id, data_key_id);
CREATE INDEX documents_deleted ON documents (tenant_id) WHERE deleted_at IS NOT NULL;
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON documents
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE documents;
