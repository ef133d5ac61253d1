-- A member's contact address (tenants/contacts.go): where every mail to a
-- member goes (follow-up reminders, repatriation-handoff notices), and in
-- which language. Memberships hold no e-mail address (an identity is
-- (issuer, subject), never an address), so a member who wants mail gives
-- one here, for this organisation. It replaces the follow-up's own
-- followup_mail_addresses (00013), whose rows it takes over.
--
-- Tenant-owned: tenant_id first in the primary key, ENABLE and FORCE ROW
-- LEVEL SECURITY, and the tenant_isolation policy.
--
-- The copy: FORCE ROW LEVEL SECURITY binds the owner that runs migrate too,
-- and migrate sets no app.tenant_id, so a plain INSERT ... SELECT would see
-- no row (and a non-superuser owner would copy nothing). The old table is
-- released from FORCE first (its owner then reads every row), and the new
-- one is isolated only after the copy; both in this migration's
-- transaction, so no one ever sees either without its isolation.

-- +goose Up
CREATE TABLE member_contacts (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    member_id  uuid NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    address    text NOT NULL CHECK (length(address) BETWEEN 3 AND 254),
    language   text NOT NULL CHECK (language IN ('lo', 'th', 'ms', 'en', 'fr')),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);
ALTER TABLE followup_mail_addresses NO FORCE ROW LEVEL SECURITY;
INSERT INTO member_contacts (tenant_id, member_id, address, language, updated_at)
    SELECT tenant_id, member_id, address, language, updated_at FROM followup_mail_addresses;
DROP TABLE followup_mail_addresses;
ALTER TABLE member_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE member_contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON member_contacts
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
CREATE TABLE followup_mail_addresses (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    member_id  uuid NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    address    text NOT NULL CHECK (length(address) BETWEEN 3 AND 254),
    language   text NOT NULL CHECK (language IN ('lo', 'th', 'ms', 'en', 'fr')),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);
ALTER TABLE member_contacts NO FORCE ROW LEVEL SECURITY;
INSERT INTO followup_mail_addresses (tenant_id, member_id, address, language, updated_at)
    SELECT tenant_id, member_id, address, language, updated_at FROM member_contacts;
DROP TABLE member_contacts;
ALTER TABLE followup_mail_addresses ENABLE ROW LEVEL SECURITY;
ALTER TABLE followup_mail_addresses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON followup_mail_addresses
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
