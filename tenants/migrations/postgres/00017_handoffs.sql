-- Repatriation handoffs (tenants/handoffs). Nothing here is global: a
-- handoff, its stage entries, its thread and its feedback are MIRRORED, one
-- row in the sender's tenant and one in the receiver's with the same id,
-- written in one transaction through tenants.Store.AcrossTenants. Every
-- table is tenant-owned: tenant_id first in the primary key and in every
-- foreign key and index, ENABLE and FORCE ROW LEVEL SECURITY, and the
-- tenant_isolation policy.
--
-- Free text (notes, messages, reasons) and the shared copy are bytea
-- columns encrypted (tenants.Secret) under a data key of THAT tenant whose
-- id is the handoff's (data_key_id = handoff id): each side's copy is
-- under its own keys, and each side can shred its own (the receiver's is
-- shredded when the sender withdraws before acceptance). The clear columns
-- hold ids, codes, field names (never values), dates and counters. A
-- member id is recorded only on its own side; the other side sees by_side,
-- and its audit rows name the partner organisation (actor kind partner,
-- 00016), never a member of it.

-- +goose Up

-- The last handoff number of a sending organisation (H-00001, ...): the
-- row is locked by the insert that takes a number, so concurrent starts
-- take consecutive, distinct numbers (like case_numbers).
CREATE TABLE handoff_numbers (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    last_number bigint NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (tenant_id)
);
ALTER TABLE handoff_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE handoff_numbers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handoff_numbers
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- A handoff as one side holds it. number is the sender's, the same on both
-- sides; side is this organisation's; case_id is this side's case (the
-- sender's the handoff came from; the receiver's created on acceptance),
-- never the other's. fields and groups list the chosen field names and
-- their groups (comma-separated names, no values). documents (sender only)
-- lists the sender's document ids chosen at the start, sent with it.
-- stall_days and documents_allowed are the partnership's terms when it
-- started. started_by is a member of the sender, on the sender's row only.
-- The receiver's row of a handoff withdrawn before acceptance keeps only
-- its state, reference and dates.
CREATE TABLE handoffs (
    tenant_id          uuid NOT NULL REFERENCES tenants (id),
    id                 uuid NOT NULL,
    data_key_id        uuid NOT NULL,
    number             bigint NOT NULL CHECK (number > 0),
    side               text NOT NULL CHECK (side IN ('sender', 'receiver')),
    partner_tenant_id  uuid NOT NULL REFERENCES tenants (id),
    partnership_id     uuid NOT NULL,
    state              text NOT NULL CHECK (state IN ('awaiting_override', 'override_refused', 'sent', 'accepted',
                                                      'declined', 'withdrawn', 'completed')),
    stage              text CHECK (stage IN ('identification', 'interview', 'tracing_request', 'tracing_result',
                                             'travel_documents', 'return_plan', 'handover', 'transit_centre',
                                             'admission', 'feedback')),
    confirmed          boolean NOT NULL DEFAULT false,
    case_id            uuid,
    fields             text NOT NULL DEFAULT '' CHECK (fields ~ '^([A-Za-z][A-Za-z0-9_]*(,[A-Za-z][A-Za-z0-9_]*)*)?$'),
    groups             text NOT NULL DEFAULT '' CHECK (groups ~ '^([a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*)?$'),
    documents          text NOT NULL DEFAULT '',
    basis              text NOT NULL CHECK (basis IN ('consent', 'override')),
    stall_days         integer NOT NULL CHECK (stall_days BETWEEN 1 AND 90),
    documents_allowed  boolean NOT NULL DEFAULT false,
    sharing_stopped_at timestamptz,
    started_by         uuid REFERENCES memberships (id),
    created_at         timestamptz NOT NULL,
    sent_at            timestamptz,
    decided_at         timestamptz,
    withdrawn_at       timestamptz,
    decline_reason     bytea,
    withdraw_reason    bytea,
    stage_changed_at   timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    version            bigint NOT NULL CHECK (version > 0),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, partnership_id) REFERENCES partnerships (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id),
    CHECK (side = 'sender' OR started_by IS NULL),
    CHECK (side = 'sender' OR case_id IS NOT NULL OR state <> 'accepted')
);
-- A sender numbers its handoffs; a receiver holds each sender's numbers once.
CREATE UNIQUE INDEX handoffs_sender_number ON handoffs (tenant_id, number) WHERE side = 'sender';
CREATE UNIQUE INDEX handoffs_receiver_number ON handoffs (tenant_id, partner_tenant_id, number) WHERE side = 'receiver';
CREATE INDEX handoffs_changed ON handoffs (tenant_id, updated_at DESC, id DESC);
CREATE INDEX handoffs_case ON handoffs (tenant_id, case_id);
CREATE INDEX handoffs_open ON handoffs (tenant_id, stage_changed_at) WHERE state IN ('sent', 'accepted');
ALTER TABLE handoffs ENABLE ROW LEVEL SECURITY;
ALTER TABLE handoffs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handoffs
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- A request to send without the sharing consent (sender only): the
-- written reason (encrypted), who asked (the identity too, for the
-- two-person rule) and the second person's decision. One per handoff.
CREATE TABLE handoff_overrides (
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    id                uuid NOT NULL,
    data_key_id       uuid NOT NULL,
    reason            bytea,
    requested_by      uuid REFERENCES memberships (id),
    requester_kind    text NOT NULL,
    requester_issuer  text NOT NULL,
    requester_subject text NOT NULL,
    requested_at      timestamptz NOT NULL,
    decided_by        uuid REFERENCES memberships (id),
    decided_at        timestamptz,
    approved          boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, id) REFERENCES handoffs (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id)
);
ALTER TABLE handoff_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE handoff_overrides FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handoff_overrides
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The shared copy (receiver only): the values of the chosen fields as one
-- encrypted JSON document under the receiver's handoff data key. Shredded
-- with that key when the sender withdraws before acceptance; removed when
-- the receiver declines.
CREATE TABLE handoff_shares (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    data_key_id uuid NOT NULL,
    content     bytea,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, id) REFERENCES handoffs (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id)
);
ALTER TABLE handoff_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE handoff_shares FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handoff_shares
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The documents this side received through a handoff: copies stored in
-- this side's document storage (00005) under its handoff data key, with
-- the group they belong to and what they came with (the start, a stage or
-- a message). The purge removes a deleted document's row: the link goes
-- with it.
CREATE TABLE handoff_documents (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    document_id uuid NOT NULL,
    handoff_id  uuid NOT NULL,
    field_group text NOT NULL CHECK (field_group IN ('identity', 'family', 'medical', 'legal')),
    stage       text,
    message_id  uuid,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, document_id),
    FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id)
);
CREATE INDEX handoff_documents_handoff ON handoff_documents (tenant_id, handoff_id, created_at);
ALTER TABLE handoff_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE handoff_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handoff_documents
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The timeline (mirrored): a stage recorded, confirmed or reopened, by
-- which side, on which day; the note and the reopening reason encrypted
-- per side (the sender's note reaches the receiver only while sharing
-- continues). recorded_by is a member of this side, only when this side
-- recorded it.
CREATE TABLE handoff_stage_entries (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    handoff_id  uuid NOT NULL,
    data_key_id uuid NOT NULL,
    stage       text NOT NULL CHECK (stage IN ('identification', 'interview', 'tracing_request', 'tracing_result',
                                               'travel_documents', 'return_plan', 'handover', 'transit_centre',
                                               'admission', 'feedback')),
    action      text NOT NULL CHECK (action IN ('done', 'confirm', 'reopen')),
    on_date     text NOT NULL CHECK (on_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    note        bytea,
    reason      bytea,
    by_side     text NOT NULL CHECK (by_side IN ('sender', 'receiver')),
    recorded_by uuid REFERENCES memberships (id),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = handoff_id)
);
CREATE INDEX handoff_stage_entries_handoff ON handoff_stage_entries (tenant_id, handoff_id, recorded_at, id);
ALTER TABLE handoff_stage_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE handoff_stage_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handoff_stage_entries
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The shared thread (mirrored): the text encrypted per side, and the
-- document it carried (this side's: its own, or the copy it received).
CREATE TABLE handoff_messages (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    handoff_id  uuid NOT NULL,
    data_key_id uuid NOT NULL,
    from_side   text NOT NULL CHECK (from_side IN ('sender', 'receiver')),
    author_id   uuid REFERENCES memberships (id),
    text        bytea,
    document_id uuid,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = handoff_id)
);
CREATE INDEX handoff_messages_handoff ON handoff_messages (tenant_id, handoff_id, id);
ALTER TABLE handoff_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE handoff_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handoff_messages
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Reintegration feedback from the receiver (mirrored): structured and
-- non-identifying, no free text. period is the automatic job's (the
-- FeedbackEveryMonths period after admission it covers): one per handoff
-- and period, so a job run twice writes once; NULL for feedback sent by
-- hand.
CREATE TABLE handoff_feedback (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,
    handoff_id          uuid NOT NULL,
    status              text NOT NULL CHECK (status IN ('in_shelter', 'reintegrated', 'closed', 'lost_contact')),
    on_date             text NOT NULL CHECK (on_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    follow_up_continues boolean NOT NULL,
    automatic           boolean NOT NULL,
    period              integer CHECK (period > 0),
    recorded_by         uuid REFERENCES memberships (id),
    created_at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, handoff_id, period),
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id),
    CHECK (automatic = (period IS NOT NULL))
);
CREATE INDEX handoff_feedback_handoff ON handoff_feedback (tenant_id, handoff_id, created_at DESC);
ALTER TABLE handoff_feedback ENABLE ROW LEVEL SECURITY;
ALTER TABLE handoff_feedback FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handoff_feedback
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The stall reminders this side sent: one per handoff, stage and the time
-- the stage last changed (a stall), written in the transaction that
-- queues its notices, so a reminder job run twice reminds once.
CREATE TABLE handoff_reminders (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    id               uuid NOT NULL,
    handoff_id       uuid NOT NULL,
    stage            text NOT NULL,
    stage_changed_at timestamptz NOT NULL,
    recipients       integer NOT NULL CHECK (recipients >= 0),
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, handoff_id, stage, stage_changed_at),
    FOREIGN KEY (tenant_id, handoff_id) REFERENCES handoffs (tenant_id, id)
);
ALTER TABLE handoff_reminders ENABLE ROW LEVEL SECURITY;
ALTER TABLE handoff_reminders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handoff_reminders
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

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
