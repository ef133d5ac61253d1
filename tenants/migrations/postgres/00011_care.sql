-- The services of a case and its support plan (tenants/care). Every table
-- is tenant-owned: tenant_id first in the primary key, ENABLE and FORCE ROW
-- LEVEL SECURITY, and the tenant_isolation policy.
--
-- What a service entry says (notes, results, names of schools, lawyers and
-- places) is one JSON document per entry, encrypted with the case's data
-- key (data_key_id = case_id; tenants.Secret), as are a support plan's
-- objectives and action plan and its progress notes: erasing the case
-- shreds them too. The clear columns hold ids, kinds, dates and statuses.
-- An entry's kind decides its part of the case, and so who may see it
-- (care.Kinds): psychological, medical, legal, or support.

-- +goose Up
CREATE TABLE care_entries (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    case_id     uuid NOT NULL,
    data_key_id uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('assessment', 'session', 'visit', 'referral', 'hiv_test', 'sti_test',
                                              'lawsuit_wish', 'proceeding', 'lawyer', 'rights_training',
                                              'literacy', 'enrolment', 'training')),
    occurred_on text NOT NULL CHECK (occurred_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    details     bytea,
    version     bigint NOT NULL CHECK (version > 0),
    created_by  uuid REFERENCES memberships (id),
    created_at  timestamptz NOT NULL,
    updated_by  uuid REFERENCES memberships (id),
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id)
);
CREATE INDEX care_entries_case ON care_entries (tenant_id, case_id, kind, occurred_on DESC, id DESC);
-- The psychological path starts with one initial assessment per case.
CREATE UNIQUE INDEX care_entries_assessment ON care_entries (tenant_id, case_id) WHERE kind = 'assessment';
ALTER TABLE care_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE care_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON care_entries
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Support plans (HTCDS spl_*): the type from the standard's list, the
-- objectives and action plan encrypted, the planned and actual end, and
-- the status its latest progress note gave it.
CREATE TABLE support_plans (
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    id             uuid NOT NULL,
    case_id        uuid NOT NULL,
    data_key_id    uuid NOT NULL,
    plan_type      text NOT NULL CHECK (length(plan_type) BETWEEN 1 AND 100),
    objectives     bytea,
    action_plan    bytea,
    planned_end_on text CHECK (planned_end_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    actual_end_on  text CHECK (actual_end_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    status         text NOT NULL CHECK (status IN ('not_started', 'in_progress', 'done')),
    version        bigint NOT NULL CHECK (version > 0),
    created_by     uuid REFERENCES memberships (id),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id)
);
CREATE INDEX support_plans_case ON support_plans (tenant_id, case_id, created_at);
ALTER TABLE support_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_plans FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON support_plans
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- A plan's dated progress notes, each with the status it leaves the plan in.
CREATE TABLE support_plan_progress (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    plan_id     uuid NOT NULL,
    case_id     uuid NOT NULL,
    data_key_id uuid NOT NULL,
    noted_on    text NOT NULL CHECK (noted_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    status      text NOT NULL CHECK (status IN ('not_started', 'in_progress', 'done')),
    note        bytea,
    recorded_by uuid REFERENCES memberships (id),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, plan_id) REFERENCES support_plans (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id)
);
CREATE INDEX support_plan_progress_plan ON support_plan_progress (tenant_id, plan_id, noted_on, recorded_at);
ALTER TABLE support_plan_progress ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_plan_progress FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON support_plan_progress
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Life skills and group activities (yoga, dance, crafts, outings, civics,
-- gender...): several cases attend one. The topic is encrypted with the
-- activity's own data key; attendance rows hold ids only.
CREATE TABLE care_activities (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    data_key_id   uuid NOT NULL,
    activity_type text NOT NULL CHECK (activity_type IN ('life_skills', 'yoga', 'dance', 'crafts', 'outing', 'civics',
                                                         'gender', 'sport', 'other')),
    held_on       text NOT NULL CHECK (held_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    topic         bytea,
    created_by    uuid REFERENCES memberships (id),
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id)
);
CREATE INDEX care_activities_held ON care_activities (tenant_id, held_on DESC, id DESC);
ALTER TABLE care_activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE care_activities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON care_activities
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

CREATE TABLE care_attendance (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    activity_id uuid NOT NULL,
    case_id     uuid NOT NULL,
    recorded_by uuid REFERENCES memberships (id),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, activity_id, case_id),
    FOREIGN KEY (tenant_id, activity_id) REFERENCES care_activities (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
);
CREATE INDEX care_attendance_case ON care_attendance (tenant_id, case_id);
ALTER TABLE care_attendance ENABLE ROW LEVEL SECURITY;
ALTER TABLE care_attendance FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON care_attendance
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE care_attendance;
DROP TABLE care_activities;
DROP TABLE support_plan_progress;
DROP TABLE support_plans;
DROP TABLE care_entries;
