-- Shelters and admission (tenants/shelters); see the PostgreSQL migration
-- of the same number. SQLite: the GORM tenant callbacks are the isolation
-- layer (tenants/callbacks.go).

-- +goose Up
CREATE TABLE shelters (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    province   TEXT NOT NULL CHECK (length(province) <= 100),
    district   TEXT NOT NULL CHECK (length(district) <= 100),
    capacity   INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 500),
    active     BOOLEAN NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE case_admissions (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    case_id            TEXT NOT NULL,
    referral_source    TEXT CHECK (referral_source IN ('bar_outreach', 'partner_handoff', 'police', 'family', 'other')),
    girl_accepted_on   TEXT CHECK (girl_accepted_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    girl_recorded_by   TEXT REFERENCES memberships (id),
    girl_recorded_at   DATETIME,
    family_accepted_by TEXT CHECK (family_accepted_by IN ('family', 'guardian')),
    family_accepted_on TEXT CHECK (family_accepted_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    family_recorded_by TEXT REFERENCES memberships (id),
    family_recorded_at DATETIME,
    waiting_shelter_id TEXT,
    waiting_since      DATETIME,
    PRIMARY KEY (tenant_id, case_id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, waiting_shelter_id) REFERENCES shelters (tenant_id, id),
    CHECK ((girl_accepted_on IS NULL) = (girl_recorded_at IS NULL)),
    CHECK ((family_accepted_on IS NULL) = (family_recorded_at IS NULL)
           AND (family_accepted_on IS NULL) = (family_accepted_by IS NULL)),
    CHECK ((waiting_shelter_id IS NULL) = (waiting_since IS NULL)),
    CHECK (waiting_shelter_id IS NULL OR referral_source IS NOT NULL)
);
CREATE INDEX case_admissions_waiting ON case_admissions (tenant_id, waiting_shelter_id, waiting_since, case_id)
    WHERE waiting_shelter_id IS NOT NULL;

CREATE TABLE shelter_placements (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    case_id    TEXT NOT NULL,
    shelter_id TEXT NOT NULL,
    arrival    TEXT NOT NULL CHECK (arrival IN ('admission', 'transfer')),
    placed_on  TEXT NOT NULL CHECK (placed_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    placed_by  TEXT REFERENCES memberships (id),
    placed_at  DATETIME NOT NULL,
    ended_on   TEXT CHECK (ended_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    end_reason TEXT CHECK (end_reason IN ('transfer', 'reintegrated', 'referred', 'left_voluntarily', 'other')),
    ended_by   TEXT REFERENCES memberships (id),
    ended_at   DATETIME,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, shelter_id) REFERENCES shelters (tenant_id, id),
    CHECK ((ended_on IS NULL) = (end_reason IS NULL) AND (ended_on IS NULL) = (ended_at IS NULL)),
    CHECK (ended_on IS NULL OR ended_on >= placed_on)
);
CREATE UNIQUE INDEX shelter_placements_open ON shelter_placements (tenant_id, case_id) WHERE ended_on IS NULL;
CREATE INDEX shelter_placements_shelter ON shelter_placements (tenant_id, shelter_id) WHERE ended_on IS NULL;
CREATE INDEX shelter_placements_case ON shelter_placements (tenant_id, case_id, placed_at);

-- +goose Down
DROP TABLE shelter_placements;
DROP TABLE case_admissions;
DROP TABLE shelters;
