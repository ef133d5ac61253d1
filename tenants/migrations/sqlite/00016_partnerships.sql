-- Partnerships between organisations (tenants/handoffs/partnerships.go);
-- see the PostgreSQL migration of the same number: one mirrored row in
-- each organisation's tenant, the same id. SQLite: the GORM tenant
-- callbacks are the isolation layer (tenants/callbacks.go).
--
-- The audit log learns the actor kind 'partner' (tenants.ActorPartner).
-- SQLite cannot change a CHECK constraint in place, so audit_log is
-- rebuilt with the wider one: every row copied as it is (the chain's
-- hashes cover the values, not the storage), inside this migration's
-- transaction. Nothing refers to audit_log.

-- +goose Up
CREATE TABLE partnerships (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    id                 TEXT NOT NULL,
    purpose            TEXT NOT NULL CHECK (purpose IN ('handoffs', 'statistics')),
    from_tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    to_tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    partner_tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    groups             TEXT NOT NULL DEFAULT '' CHECK (groups NOT GLOB '*[^a-z,]*'),
    documents          BOOLEAN NOT NULL DEFAULT 0,
    agreement_ref      TEXT NOT NULL CHECK (length(agreement_ref) BETWEEN 1 AND 200),
    stall_days         INTEGER NOT NULL CHECK (stall_days BETWEEN 1 AND 90),
    statistics_back    BOOLEAN NOT NULL DEFAULT 0,
    state              TEXT NOT NULL CHECK (state IN ('proposed', 'active', 'declined', 'suspended', 'ended')),
    proposed_by_tenant TEXT NOT NULL REFERENCES tenants (id),
    proposed_by_member TEXT REFERENCES memberships (id) ON DELETE SET NULL,
    proposed_at        DATETIME NOT NULL,
    decided_at         DATETIME,
    changed_at         DATETIME NOT NULL,
    state_reason       TEXT NOT NULL DEFAULT '' CHECK (length(state_reason) <= 2000),
    version            INTEGER NOT NULL CHECK (version > 0),
    PRIMARY KEY (tenant_id, id),
    CHECK (from_tenant_id <> to_tenant_id),
    CHECK (tenant_id IN (from_tenant_id, to_tenant_id)),
    CHECK (partner_tenant_id IN (from_tenant_id, to_tenant_id) AND partner_tenant_id <> tenant_id),
    CHECK (proposed_by_tenant IN (from_tenant_id, to_tenant_id)),
    CHECK (proposed_by_member IS NULL OR proposed_by_tenant = tenant_id),
    CHECK (purpose = 'handoffs' OR (groups = '' AND NOT documents AND NOT statistics_back)),
    CHECK ((state = 'proposed') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX partnerships_live ON partnerships (tenant_id, purpose, from_tenant_id, to_tenant_id)
    WHERE state IN ('proposed', 'active', 'suspended');
CREATE INDEX partnerships_partner ON partnerships (tenant_id, partner_tenant_id, state);
CREATE INDEX partnerships_changed ON partnerships (tenant_id, changed_at DESC);

CREATE TABLE audit_log_wider (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    occurred_at     DATETIME NOT NULL,
    actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('member', 'api_token', 'system', 'operator', 'partner')),
    actor_issuer    TEXT NOT NULL CHECK (length(actor_issuer) BETWEEN 1 AND 500),
    actor_subject   TEXT NOT NULL CHECK (length(actor_subject) BETWEEN 1 AND 500),
    actor_member_id TEXT,
    organisation    TEXT REFERENCES tenants (id),
    action          TEXT NOT NULL CHECK (length(action) BETWEEN 3 AND 100),
    record_type     TEXT NOT NULL CHECK (length(record_type) BETWEEN 1 AND 100),
    record_id       TEXT,
    field_groups    TEXT NOT NULL DEFAULT '',
    purpose         TEXT NOT NULL DEFAULT '' CHECK (length(purpose) <= 64),
    request_id      TEXT NOT NULL DEFAULT '' CHECK (length(request_id) <= 128),
    prev_hash       BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash            BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, seq)
);
INSERT INTO audit_log_wider SELECT tenant_id, id, seq, occurred_at, actor_kind, actor_issuer, actor_subject, actor_member_id,
    organisation, action, record_type, record_id, field_groups, purpose, request_id, prev_hash, hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_wider RENAME TO audit_log;
CREATE INDEX audit_log_record ON audit_log (tenant_id, record_type, record_id, seq);

-- +goose Down
-- Going down refuses while audit rows name a partner (the log is
-- append-only: they are never removed to make room).
CREATE TABLE audit_log_narrower (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    occurred_at     DATETIME NOT NULL,
    actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('member', 'api_token', 'system', 'operator')),
    actor_issuer    TEXT NOT NULL CHECK (length(actor_issuer) BETWEEN 1 AND 500),
    actor_subject   TEXT NOT NULL CHECK (length(actor_subject) BETWEEN 1 AND 500),
    actor_member_id TEXT,
    organisation    TEXT REFERENCES tenants (id),
    action          TEXT NOT NULL CHECK (length(action) BETWEEN 3 AND 100),
    record_type     TEXT NOT NULL CHECK (length(record_type) BETWEEN 1 AND 100),
    record_id       TEXT,
    field_groups    TEXT NOT NULL DEFAULT '',
    purpose         TEXT NOT NULL DEFAULT '' CHECK (length(purpose) <= 64),
    request_id      TEXT NOT NULL DEFAULT '' CHECK (length(request_id) <= 128),
    prev_hash       BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash            BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, seq)
);
INSERT INTO audit_log_narrower SELECT tenant_id, id, seq, occurred_at, actor_kind, actor_issuer, actor_subject, actor_member_id,
    organisation, action, record_type, record_id, field_groups, purpose, request_id, prev_hash, hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_narrower RENAME TO audit_log;
CREATE INDEX audit_log_record ON audit_log (tenant_id, record_type, record_id, seq);
DROP TABLE partnerships;
