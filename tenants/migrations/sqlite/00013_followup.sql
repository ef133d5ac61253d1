-- Reintegration and follow-up (tenants/followup); see the PostgreSQL
-- migration of the same number. SQLite: the GORM tenant callbacks are the
-- isolation layer (tenants/callbacks.go).

-- +goose Up
CREATE TABLE reintegrations (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    case_id         TEXT NOT NULL,
    data_key_id     TEXT NOT NULL,
    destination     TEXT NOT NULL CHECK (destination IN ('family', 'home_village', 'city')),
    reintegrated_on TEXT NOT NULL CHECK (reintegrated_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    place           BLOB,
    note            BLOB,
    recorded_by     TEXT REFERENCES memberships (id),
    recorded_at     DATETIME NOT NULL,
    schedule_at     DATETIME,
    ended_at        DATETIME,
    ended_by        TEXT REFERENCES memberships (id),
    end_reason      TEXT CHECK (end_reason IN ('closed', 'reintegrated_again')),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE UNIQUE INDEX reintegrations_open ON reintegrations (tenant_id, case_id) WHERE ended_at IS NULL;
CREATE INDEX reintegrations_case ON reintegrations (tenant_id, case_id, recorded_at DESC);

CREATE TABLE followup_visits (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    id               TEXT NOT NULL,
    case_id          TEXT NOT NULL,
    reintegration_id TEXT NOT NULL,
    data_key_id      TEXT NOT NULL,
    seq              INTEGER NOT NULL CHECK (seq > 0),
    due_on           TEXT NOT NULL CHECK (due_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    status           TEXT NOT NULL CHECK (status IN ('planned', 'done', 'missed', 'cancelled')),
    visited_on       TEXT CHECK (visited_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    visited_by       TEXT REFERENCES memberships (id),
    recorded_by      TEXT REFERENCES memberships (id),
    recorded_at      DATETIME,
    living_situation BLOB,
    business_income  BLOB,
    schooling        BLOB,
    risk_flags       BLOB,
    training_wanted  BLOB,
    notes            BLOB,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, reintegration_id, due_on),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, reintegration_id) REFERENCES reintegrations (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id),
    CHECK ((status = 'done') = (visited_on IS NOT NULL))
);
CREATE INDEX followup_visits_case ON followup_visits (tenant_id, case_id, due_on);
CREATE INDEX followup_visits_due ON followup_visits (tenant_id, due_on) WHERE status = 'planned';

CREATE TABLE followup_reminders (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    visit_id   TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('due_soon', 'overdue')),
    recipients INTEGER NOT NULL CHECK (recipients >= 0),
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, visit_id, kind),
    FOREIGN KEY (tenant_id, visit_id) REFERENCES followup_visits (tenant_id, id)
);

CREATE TABLE followup_mail_addresses (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    member_id  TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    address    TEXT NOT NULL CHECK (length(address) BETWEEN 3 AND 254),
    language   TEXT NOT NULL CHECK (language IN ('lo', 'th', 'ms', 'en', 'fr')),
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);

-- +goose Down
DROP TABLE followup_mail_addresses;
DROP TABLE followup_reminders;
DROP TABLE followup_visits;
DROP TABLE reintegrations;
