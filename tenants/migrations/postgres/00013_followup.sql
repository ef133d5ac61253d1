-- Reintegration and follow-up (tenants/followup). Every table is
-- tenant-owned: tenant_id first in the primary key, ENABLE and FORCE ROW
-- LEVEL SECURITY, and the tenant_isolation policy.
--
-- What is said about the survivor (the place she went to, notes, a visit's
-- findings and risk flags) is in bytea columns encrypted with the case's
-- data key (data_key_id = case_id; tenants.Secret), so erasing the case
-- shreds it. The clear columns hold ids, dates, codes and statuses.

-- +goose Up
-- A reintegration of a case: where she went (a code), when, and the
-- follow-up that runs from it until it ends (closed, or the case went back
-- to a shelter and was reintegrated again). One open reintegration per
-- case. schedule_at is set by the job that generates the visits, in the
-- transaction that inserts them: the schedule is made once.
CREATE TABLE reintegrations (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    case_id         uuid NOT NULL,
    data_key_id     uuid NOT NULL,
    destination     text NOT NULL CHECK (destination IN ('family', 'home_village', 'city')),
    reintegrated_on text NOT NULL CHECK (reintegrated_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    place           bytea,
    note            bytea,
    recorded_by     uuid REFERENCES memberships (id),
    recorded_at     timestamptz NOT NULL,
    schedule_at     timestamptz,
    ended_at        timestamptz,
    ended_by        uuid REFERENCES memberships (id),
    end_reason      text CHECK (end_reason IN ('closed', 'reintegrated_again')),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE UNIQUE INDEX reintegrations_open ON reintegrations (tenant_id, case_id) WHERE ended_at IS NULL;
CREATE INDEX reintegrations_case ON reintegrations (tenant_id, case_id, recorded_at DESC);
ALTER TABLE reintegrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE reintegrations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reintegrations
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The follow-up visits of a reintegration: planned on a due date, then
-- done (when, by whom, the findings), missed, or cancelled when the
-- follow-up ends. One visit per reintegration and due date: a schedule
-- written twice inserts nothing the second time.
CREATE TABLE followup_visits (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    id               uuid NOT NULL,
    case_id          uuid NOT NULL,
    reintegration_id uuid NOT NULL,
    data_key_id      uuid NOT NULL,
    seq              integer NOT NULL CHECK (seq > 0),
    due_on           text NOT NULL CHECK (due_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    status           text NOT NULL CHECK (status IN ('planned', 'done', 'missed', 'cancelled')),
    visited_on       text CHECK (visited_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    visited_by       uuid REFERENCES memberships (id),
    recorded_by      uuid REFERENCES memberships (id),
    recorded_at      timestamptz,
    living_situation bytea,
    business_income  bytea,
    schooling        bytea,
    risk_flags       bytea,
    training_wanted  bytea,
    notes            bytea,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, reintegration_id, due_on),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, reintegration_id) REFERENCES reintegrations (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id),
    CHECK ((status = 'done') = (visited_on IS NOT NULL))
);
CREATE INDEX followup_visits_case ON followup_visits (tenant_id, case_id, due_on);
-- The overdue and due lists, the reminders: planned visits by due date.
CREATE INDEX followup_visits_due ON followup_visits (tenant_id, due_on) WHERE status = 'planned';
ALTER TABLE followup_visits ENABLE ROW LEVEL SECURITY;
ALTER TABLE followup_visits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON followup_visits
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The reminders sent about a visit: one per visit and kind (due soon,
-- overdue), written in the transaction that queues its notifications and
-- mails, so a reminder job run twice reminds once.
CREATE TABLE followup_reminders (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    id         uuid NOT NULL,
    visit_id   uuid NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('due_soon', 'overdue')),
    recipients integer NOT NULL CHECK (recipients >= 0),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, visit_id, kind),
    FOREIGN KEY (tenant_id, visit_id) REFERENCES followup_visits (tenant_id, id)
);
ALTER TABLE followup_reminders ENABLE ROW LEVEL SECURITY;
ALTER TABLE followup_reminders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON followup_reminders
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Where a member wants follow-up reminders by mail, and in which language:
-- memberships hold no e-mail address (an identity is never one), so a
-- member who wants mail gives one here.
CREATE TABLE followup_mail_addresses (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    member_id  uuid NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    address    text NOT NULL CHECK (length(address) BETWEEN 3 AND 254),
    language   text NOT NULL CHECK (language IN ('lo', 'th', 'ms', 'en', 'fr')),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);
ALTER TABLE followup_mail_addresses ENABLE ROW LEVEL SECURITY;
ALTER TABLE followup_mail_addresses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON followup_mail_addresses
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE followup_mail_addresses;
DROP TABLE followup_reminders;
DROP TABLE followup_visits;
DROP TABLE reintegrations;
