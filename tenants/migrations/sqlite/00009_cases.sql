-- Case files (tenants/cases); see the PostgreSQL migration of the same
-- number. SQLite: the GORM tenant callbacks are the isolation layer
-- (tenants/callbacks.go).

-- +goose Up
CREATE TABLE case_numbers (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    last_number INTEGER NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (tenant_id)
);

CREATE TABLE cases (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    id                 TEXT NOT NULL,
    data_key_id        TEXT NOT NULL,
    number             INTEGER NOT NULL CHECK (number > 0),
    stage              TEXT NOT NULL CHECK (stage IN ('intake', 'shelter', 'reintegrated', 'closed', 'referred')),
    version            INTEGER NOT NULL CHECK (version > 0),
    owner_member_id    TEXT REFERENCES memberships (id),
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    last_activity_at   DATETIME NOT NULL,
    closed_at          DATETIME,
    erased_at          DATETIME,
    anonymised_at      DATETIME,
    first_name         BLOB,
    second_name        BLOB,
    full_name          BLOB,
    birthdate          BLOB,
    core_data          BLOB,
    identity_data      BLOB,
    family_data        BLOB,
    medical_data       BLOB,
    psychological_data BLOB,
    legal_data         BLOB,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id),
    CHECK ((closed_at IS NOT NULL) = (stage IN ('closed', 'referred'))),
    CHECK (CASE WHEN erased_at IS NULL AND anonymised_at IS NULL THEN core_data IS NOT NULL
           ELSE first_name IS NULL AND second_name IS NULL AND full_name IS NULL AND birthdate IS NULL
                AND core_data IS NULL AND identity_data IS NULL AND family_data IS NULL AND medical_data IS NULL
                AND psychological_data IS NULL AND legal_data IS NULL AND owner_member_id IS NULL END)
);
CREATE INDEX cases_activity ON cases (tenant_id, last_activity_at DESC, id DESC)
    WHERE erased_at IS NULL AND anonymised_at IS NULL;
CREATE INDEX cases_stage ON cases (tenant_id, stage, last_activity_at DESC, id DESC)
    WHERE erased_at IS NULL AND anonymised_at IS NULL;
CREATE INDEX cases_owner ON cases (tenant_id, owner_member_id);
CREATE INDEX cases_closed ON cases (tenant_id, closed_at)
    WHERE closed_at IS NOT NULL AND erased_at IS NULL AND anonymised_at IS NULL;

CREATE TABLE case_assignments (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    case_id   TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES memberships (id),
    PRIMARY KEY (tenant_id, case_id, member_id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
);
CREATE INDEX case_assignments_member ON case_assignments (tenant_id, member_id);

CREATE TABLE case_consents (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    id                TEXT NOT NULL,
    case_id           TEXT NOT NULL,
    data_key_id       TEXT NOT NULL,
    purpose           TEXT NOT NULL CHECK (purpose IN ('services', 'sharing', 'family_tracing', 'statistics',
                                                       'health_sharing', 'hiv_sti_testing')),
    given_by          TEXT NOT NULL CHECK (given_by IN ('girl', 'family', 'guardian')),
    given_on          TEXT NOT NULL CHECK (given_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    basis             TEXT NOT NULL CHECK (basis IN ('signed_form', 'recorded_verbal')),
    recorded_by       TEXT REFERENCES memberships (id),
    recorded_at       DATETIME NOT NULL,
    withdrawn_at      DATETIME,
    withdrawn_by      TEXT REFERENCES memberships (id),
    withdrawal_reason BLOB,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id),
    CHECK (withdrawn_at IS NOT NULL OR (withdrawn_by IS NULL AND withdrawal_reason IS NULL))
);
CREATE INDEX case_consents_case ON case_consents (tenant_id, case_id, purpose) WHERE withdrawn_at IS NULL;
CREATE INDEX case_consents_history ON case_consents (tenant_id, case_id, recorded_at DESC);

CREATE TABLE case_comments (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    id               TEXT NOT NULL,
    case_id          TEXT NOT NULL,
    data_key_id      TEXT NOT NULL,
    author_member_id TEXT REFERENCES memberships (id),
    body             BLOB,
    created_at       DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id)
);
CREATE INDEX case_comments_case ON case_comments (tenant_id, case_id, created_at, id);

CREATE TABLE case_erasures (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    id                TEXT NOT NULL,
    case_id           TEXT NOT NULL,
    data_key_id       TEXT NOT NULL,
    reason            TEXT NOT NULL CHECK (reason IN ('consent_withdrawn', 'data_subject_request', 'created_in_error',
                                                      'duplicate', 'other')),
    note              BLOB,
    state             TEXT NOT NULL CHECK (state IN ('requested', 'approved', 'cancelled')),
    requested_by      TEXT REFERENCES memberships (id),
    requester_issuer  TEXT NOT NULL CHECK (length(requester_issuer) BETWEEN 1 AND 500),
    requester_subject TEXT NOT NULL CHECK (length(requester_subject) BETWEEN 1 AND 500),
    requested_at      DATETIME NOT NULL,
    decided_by        TEXT REFERENCES memberships (id),
    decided_at        DATETIME,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    CHECK (data_key_id = case_id),
    CHECK ((state = 'requested') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX case_erasures_open ON case_erasures (tenant_id, case_id) WHERE state = 'requested';

-- +goose Down
DROP TABLE case_erasures;
DROP TABLE case_comments;
DROP TABLE case_consents;
DROP TABLE case_assignments;
DROP TABLE cases;
DROP TABLE case_numbers;
