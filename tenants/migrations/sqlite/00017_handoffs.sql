-- Repatriation handoffs (tenants/handoffs); see the PostgreSQL migration of
-- the same number: mirrored rows, one in each organisation's tenant with
-- the same id, free text encrypted per side under the handoff's data key.
-- SQLite: the GORM tenant callbacks are the isolation layer
-- (tenants/callbacks.go).

-- +goose Up
CREATE TABLE handoff_numbers (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    last_number INTEGER NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (tenant_id)
);

CREATE TABLE handoffs (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    id                 TEXT NOT NULL,
    data_key_id        TEXT NOT NULL,
    number             INTEGER NOT NULL CHECK (number > 0),
    side               TEXT NOT NULL CHECK (side IN ('sender', 'receiver')),
    partner_tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    partnership_id     TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('awaiting_override', 'override_refused', 'sent', 'accepted',
                                                      'declined', 'withdrawn', 'completed')),
    stage              TEXT CHECK (stage IN ('identification', 'interview', 'tracing_request', 'tracing_result',
                                             'travel_documents', 'return_plan', 'handover', 'transit_centre',
                                             'admission', 'feedback')),
    confirmed          BOOLEAN NOT NULL DEFAULT 0,
    case_id            TEXT,
    fields             TEXT NOT NULL DEFAULT '' CHECK (fields NOT GLOB '*[^A-Za-z0-9_,]*'),
    groups             TEXT NOT NULL DEFAULT '' CHECK (groups NOT GLOB '*[^a-z_,]*'),
    documents          TEXT NOT NULL DEFAULT '',
    basis              TEXT NOT NULL CHECK (basis IN ('consent', 'override')),
    stall_days         INTEGER NOT NULL CHECK (stall_days BETWEEN 1 AND 90),
    documents_allowed  BOOLEAN NOT NULL DEFAULT 0,
    sharing_stopped_at DATETIME,
    started_by         TEXT REFERENCES memberships (id),
    created_at         DATETIME NOT NULL,
    sent_at            DATETIME,
    decided_at         DATETIME,
    withdrawn_at       DATETIME,
    decline_reason     BLOB,
    withdraw_reason    BLOB,
    stage_changed_at   DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    version            INTEGER NOT NULL CHECK (version > 0),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, partnership_id) REFERENCES partnerships (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id),
    CHECK (side = 'sender' OR started_by IS NULL),
    CHECK (side = 'sender' OR case_id IS NOT NULL OR state <> 'accepted')
);
CREATE UNIQUE INDEX handoffs_sender_number ON handoffs (tenant_id, number) WHERE side = 'sender';
CREATE UNIQUE INDEX handoffs_receiver_number ON handoffs (tenant_id, partner_tenant_id, number) WHERE side = 'receiver';
CREATE INDEX handoffs_changed ON handoffs (tenant_id, updated_at DESC, id DESC);
CREATE INDEX handoffs_case ON handoffs (tenant_id, case_id);
CREATE INDEX handoffs_open ON handoffs (tenant_id, stage_changed_at) WHERE state IN ('sent', 'accepted');

CREATE TABLE handoff_overrides (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    id                TEXT NOT NULL,
    data_key_id       TEXT NOT NULL,
    reason            BLOB,
    requested_by      TEXT REFERENCES memberships (id),
    requester_kind    TEXT NOT NULL,
    requester_issuer  TEXT NOT NULL,
    requester_subject TEXT NOT NULL,
    requested_at      DATETIME NOT NULL,
    decided_by        TEXT REFERENCES memberships (id),
    decided_at        DATETIME,
    approved          BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, id) REFERENCES handoffs (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id)
);

CREATE TABLE handoff_shares (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    data_key_id TEXT NOT NULL,
    content     BLOB,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, id) REFERENCES handoffs (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id)
);

CREATE TABLE handoff_documents (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    document_id TEXT NOT NULL,
    handoff_id  TEXT NOT NULL,
    field_group TEXT NOT NULL CHECK (field_group IN ('identity', 'family', 'medical', 'legal')),
    stage       TEXT,
    message_id  TEXT,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, document_id),
    FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id)
);
CREATE INDEX handoff_documents_handoff ON handoff_documents (tenant_id, handoff_id, created_at);

CREATE TABLE handoff_stage_entries (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    handoff_id  TEXT NOT NULL,
    data_key_id TEXT NOT NULL,
    stage       TEXT NOT NULL CHECK (stage IN ('identification', 'interview', 'tracing_request', 'tracing_result',
                                               'travel_documents', 'return_plan', 'handover', 'transit_centre',
                                               'admission', 'feedback')),
    action      TEXT NOT NULL CHECK (action IN ('done', 'confirm', 'reopen')),
    on_date     TEXT NOT NULL CHECK (on_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    note        BLOB,
    reason      BLOB,
    by_side     TEXT NOT NULL CHECK (by_side IN ('sender', 'receiver')),
    recorded_by TEXT REFERENCES memberships (id),
    recorded_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = handoff_id)
);
CREATE INDEX handoff_stage_entries_handoff ON handoff_stage_entries (tenant_id, handoff_id, recorded_at, id);

CREATE TABLE handoff_messages (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    handoff_id  TEXT NOT NULL,
    data_key_id TEXT NOT NULL,
    from_side   TEXT NOT NULL CHECK (from_side IN ('sender', 'receiver')),
    author_id   TEXT REFERENCES memberships (id),
    text        BLOB,
    document_id TEXT,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = handoff_id)
);
CREATE INDEX handoff_messages_handoff ON handoff_messages (tenant_id, handoff_id, id);

CREATE TABLE handoff_feedback (
    tenant_id           TEXT NOT NULL REFERENCES tenants (id),
    id                  TEXT NOT NULL,
    handoff_id          TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('in_shelter', 'reintegrated', 'closed', 'lost_contact')),
    on_date             TEXT NOT NULL CHECK (on_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    follow_up_continues BOOLEAN NOT NULL,
    automatic           BOOLEAN NOT NULL,
    period              INTEGER CHECK (period > 0),
    recorded_by         TEXT REFERENCES memberships (id),
    created_at          DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, handoff_id, period),
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id),
    CHECK (automatic = (period IS NOT NULL))
);
CREATE INDEX handoff_feedback_handoff ON handoff_feedback (tenant_id, handoff_id, created_at DESC);

CREATE TABLE handoff_reminders (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    id               TEXT NOT NULL,
    handoff_id       TEXT NOT NULL,
    stage            TEXT NOT NULL,
    stage_changed_at DATETIME NOT NULL,
    recipients       INTEGER NOT NULL CHECK (recipients >= 0),
    created_at       DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, handoff_id, stage, stage_changed_at),
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id)
);

-- +goose Down
DROP TABLE handoff_reminders;
DROP TABLE handoff_feedback;
DROP TABLE handoff_messages;
DROP TABLE handoff_stage_entries;
DROP TABLE handoff_documents;
DROP TABLE handoff_shares;
DROP TABLE handoff_overrides;
DROP TABLE handoffs;
DROP TABLE handoff_numbers;
