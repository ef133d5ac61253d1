-- Shelters and admission (tenants/shelters). Every table is tenant-owned:
-- tenant_id first in the primary key, ENABLE and FORCE ROW LEVEL SECURITY,
-- and the tenant_isolation policy.
--
-- Nothing here is free text about a survivor: a shelter's name and place
-- name a house, not a girl (its street address is kept out), and an
-- admission is codes, dates and the members who recorded them. So nothing
-- is encrypted; an erased case keeps these rows as it keeps its own number
-- and dates, and counts in no occupancy or waiting list (tenants/shelters
-- reads only live cases).

-- +goose Up
CREATE TABLE shelters (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    id         uuid NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    province   text NOT NULL CHECK (length(province) <= 100),
    district   text NOT NULL CHECK (length(district) <= 100),
    capacity   integer NOT NULL CHECK (capacity BETWEEN 1 AND 500),
    active     boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE shelters ENABLE ROW LEVEL SECURITY;
ALTER TABLE shelters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shelters
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- A case's admission file, one row per case: how she was referred, her
-- acceptance and her family's or guardian's (each with its date and the
-- member who recorded it; recorded once), and, while she waits for a bed,
-- the shelter she waits for and since when (the waiting list, in order).
CREATE TABLE case_admissions (
    tenant_id          uuid NOT NULL REFERENCES tenants (id),
    case_id            uuid NOT NULL,
    referral_source    text CHECK (referral_source IN ('bar_outreach', 'partner_handoff', 'police', 'family', 'other')),
    girl_accepted_on   text CHECK (girl_accepted_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    girl_recorded_by   uuid REFERENCES memberships (id),
    girl_recorded_at   timestamptz,
    family_accepted_by text CHECK (family_accepted_by IN ('family', 'guardian')),
    family_accepted_on text CHECK (family_accepted_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    family_recorded_by uuid REFERENCES memberships (id),
    family_recorded_at timestamptz,
    waiting_shelter_id uuid,
    waiting_since      timestamptz,
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
ALTER TABLE case_admissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_admissions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON case_admissions
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Where a case has stayed: one row per stay in a shelter, from admission
-- or a transfer until a transfer or a discharge (with its reason). At most
-- one open stay per case; a shelter's occupancy is its open stays.
CREATE TABLE shelter_placements (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    id         uuid NOT NULL,
    case_id    uuid NOT NULL,
    shelter_id uuid NOT NULL,
    arrival    text NOT NULL CHECK (arrival IN ('admission', 'transfer')),
    placed_on  text NOT NULL CHECK (placed_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    placed_by  uuid REFERENCES memberships (id),
    placed_at  timestamptz NOT NULL,
    ended_on   text CHECK (ended_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    end_reason text CHECK (end_reason IN ('transfer', 'reintegrated', 'referred', 'left_voluntarily', 'other')),
    ended_by   uuid REFERENCES memberships (id),
    ended_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, shelter_id) REFERENCES shelters (tenant_id, id),
    CHECK ((ended_on IS NULL) = (end_reason IS NULL) AND (ended_on IS NULL) = (ended_at IS NULL)),
    CHECK (ended_on IS NULL OR ended_on >= placed_on)
);
CREATE UNIQUE INDEX shelter_placements_open ON shelter_placements (tenant_id, case_id) WHERE ended_on IS NULL;
CREATE INDEX shelter_placements_shelter ON shelter_placements (tenant_id, shelter_id) WHERE ended_on IS NULL;
CREATE INDEX shelter_placements_case ON shelter_placements (tenant_id, case_id, placed_at);
ALTER TABLE shelter_placements ENABLE ROW LEVEL SECURITY;
ALTER TABLE shelter_placements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shelter_placements
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE shelter_placements;
DROP TABLE case_admissions;
DROP TABLE shelters;
