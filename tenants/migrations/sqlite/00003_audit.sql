-- The audit log (tenants/audit.go); see the PostgreSQL migration of the same
-- number. SQLite has no roles: the GORM tenant callbacks are the isolation
-- layer and the keyed hash chain is what makes tampering visible.

-- +goose Up
CREATE TABLE audit_log (
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
CREATE INDEX audit_log_record ON audit_log (tenant_id, record_type, record_id, seq);

CREATE TABLE audit_heads (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    seq         INTEGER NOT NULL CHECK (seq >= 0),
    hash        BLOB NOT NULL CHECK (length(hash) = 32),
    anchor_seq  INTEGER NOT NULL DEFAULT 0 CHECK (anchor_seq >= 0 AND anchor_seq <= seq),
    anchor_hash BLOB NOT NULL CHECK (length(anchor_hash) = 32),
    anchor_at   DATETIME,
    anchor_mac  BLOB,
    updated_at  DATETIME NOT NULL,
    PRIMARY KEY (tenant_id)
);

-- +goose Down
DROP TABLE audit_heads;
DROP TABLE audit_log;
