-- The services of a case and its support plan (tenants/care); see the
-- PostgreSQL migration of the same number. SQLite: the GORM tenant
-- callbacks are the isolation layer (tenants/callbacks.go).

-- +goose Up
CREATE TABLE care_entries (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    data_key_id TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('assessment', 'session', 'visit', 'referral', 'hiv_test', 'sti_test',
                                              'lawsuit_wish', 'proceeding', 'lawyer', 'rights_training',
                                              'literacy', 'enrolment', 'training')),
    occurred_on TEXT NOT NULL CHECK (occurred_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    details     BLOB,
    version     INTEGER NOT NULL CHECK (version > 0),
    created_by  TEXT REFERENCES memberships (id),
    created_at  DATETIME NOT NULL,
    updated_by  TEXT REFERENCES memberships (id),
    updated_at  DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id)
);
CREATE INDEX care_entries_case ON care_entries (tenant_id, case_id, kind, occurred_on DESC, id DESC);
-- The psychological path starts with one initial assessment per case.
CREATE UNIQUE INDEX care_entries_assessment ON care_entries (tenant_id, case_id) WHERE kind = 'assessment';

-- Support plans (HTCDS spl_*): the type from the standard's list, the
-- objectives and action plan encrypted, the planned and actual end, and
-- the status its latest progress note gave it.
CREATE TABLE support_plans (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    data_key_id    TEXT NOT NULL,
    plan_type      TEXT NOT NULL CHECK (length(plan_type) BETWEEN 1 AND 100),
    objectives     BLOB,
    action_plan    BLOB,
    planned_end_on TEXT CHECK (planned_end_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    actual_end_on  TEXT CHECK (actual_end_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    status         TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'done')),
    version        INTEGER NOT NULL CHECK (version > 0),
    created_by     TEXT REFERENCES memberships (id),
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id)
);
CREATE INDEX support_plans_case ON support_plans (tenant_id, case_id, created_at);

-- A plan's dated progress notes, each with the status it leaves the plan in.
CREATE TABLE support_plan_progress (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    plan_id     TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    data_key_id TEXT NOT NULL,
    noted_on    TEXT NOT NULL CHECK (noted_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    status      TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'done')),
    note        BLOB,
    recorded_by TEXT REFERENCES memberships (id),
    recorded_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, plan_id) REFERENCES support_plans (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id)
);
CREATE INDEX support_plan_progress_plan ON support_plan_progress (tenant_id, plan_id, noted_on, recorded_at);

-- Life skills and group activities (yoga, dance, crafts, outings, civics,
-- gender...): several cases attend one. The topic is encrypted with the
-- activity's own data key; attendance rows hold ids only.
CREATE TABLE care_activities (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    data_key_id   TEXT NOT NULL,
    activity_type TEXT NOT NULL CHECK (activity_type IN ('life_skills', 'yoga', 'dance', 'crafts', 'outing', 'civics',
                                                         'gender', 'sport', 'other')),
    held_on       TEXT NOT NULL CHECK (held_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    topic         BLOB,
    created_by    TEXT REFERENCES memberships (id),
    created_at    DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id)
);
CREATE INDEX care_activities_held ON care_activities (tenant_id, held_on DESC, id DESC);

CREATE TABLE care_attendance (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    activity_id TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    recorded_by TEXT REFERENCES memberships (id),
    recorded_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, activity_id, case_id),
    FOREIGN KEY (tenant_id, activity_id) REFERENCES care_activities (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
);
CREATE INDEX care_attendance_case ON care_attendance (tenant_id, case_id);

-- +goose Down
DROP TABLE care_attendance;
DROP TABLE care_activities;
DROP TABLE support_plan_progress;
DROP TABLE support_plans;
DROP TABLE care_entries;
