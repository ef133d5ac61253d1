-- A member's contact address (tenants/contacts.go); see the PostgreSQL
-- migration of the same number. It replaces followup_mail_addresses
-- (00013), whose rows it takes over. SQLite: the GORM tenant callbacks
-- are the isolation layer (tenants/callbacks.go).

-- +goose Up
CREATE TABLE member_contacts (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    member_id  TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    address    TEXT NOT NULL CHECK (length(address) BETWEEN 3 AND 254),
    language   TEXT NOT NULL CHECK (language IN ('lo', 'th', 'ms', 'en', 'fr')),
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);
INSERT INTO member_contacts (tenant_id, member_id, address, language, updated_at)
    SELECT tenant_id, member_id, address, language, updated_at FROM followup_mail_addresses;
DROP TABLE followup_mail_addresses;

-- +goose Down
CREATE TABLE followup_mail_addresses (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    member_id  TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    address    TEXT NOT NULL CHECK (length(address) BETWEEN 3 AND 254),
    language   TEXT NOT NULL CHECK (language IN ('lo', 'th', 'ms', 'en', 'fr')),
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);
INSERT INTO followup_mail_addresses (tenant_id, member_id, address, language, updated_at)
    SELECT tenant_id, member_id, address, language, updated_at FROM member_contacts;
DROP TABLE member_contacts;
