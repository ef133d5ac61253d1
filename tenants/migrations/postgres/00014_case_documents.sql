-- Documents of a case (tenants/casedocs): which case a stored document
-- (00005, tenants/documents.go) belongs to and, optionally, which entry of
-- the case (a psychological session, a follow-up visit, a starter kit...)
-- it was added to. The document's part of the case is its field_group,
-- now any part of a case but the consent records: a field group, or one of
-- the survivor's path's parts (support, kit, followup). Tenant-owned:
-- tenant_id first in the primary key, ENABLE and FORCE ROW LEVEL
-- SECURITY, and the tenant_isolation policy. The link holds ids and codes
-- only; the file name stays encrypted in documents.

-- +goose Up
ALTER TABLE documents DROP CONSTRAINT documents_field_group_check;
ALTER TABLE documents ADD CONSTRAINT documents_field_group_check
    CHECK (field_group IN ('core', 'identity', 'family', 'medical', 'psychological', 'legal', 'support', 'kit', 'followup'));

CREATE TABLE case_documents (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    document_id uuid NOT NULL,
    case_id     uuid NOT NULL,
    entry_kind  text CHECK (entry_kind ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$' AND length(entry_kind) <= 100),
    entry_id    uuid,
    PRIMARY KEY (tenant_id, document_id),
    -- PurgeDocuments removes a deleted document's row: its link goes with it.
    FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    CHECK ((entry_kind IS NULL) = (entry_id IS NULL))
);
CREATE INDEX case_documents_case ON case_documents (tenant_id, case_id);
ALTER TABLE case_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON case_documents
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE case_documents;
ALTER TABLE documents DROP CONSTRAINT documents_field_group_check;
ALTER TABLE documents ADD CONSTRAINT documents_field_group_check
    CHECK (field_group IN ('core', 'identity', 'family', 'medical', 'psychological', 'legal'));
