-- The micro-enterprise starter kit (tenants/kits); see the PostgreSQL
-- migration of the same number. SQLite: the GORM tenant callbacks are the
-- isolation layer (tenants/callbacks.go).

-- +goose Up
CREATE TABLE kits (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    id                 TEXT NOT NULL,
    case_id            TEXT NOT NULL,
    data_key_id        TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('requested', 'approved', 'rejected', 'disbursed', 'handed_over')),
    business_plan      BLOB,
    total_usd_cents    INTEGER NOT NULL CHECK (total_usd_cents >= 0),
    limit_usd_cents    INTEGER NOT NULL CHECK (limit_usd_cents > 0),
    requested_by       TEXT REFERENCES memberships (id),
    requester_issuer   TEXT NOT NULL CHECK (length(requester_issuer) BETWEEN 1 AND 500),
    requester_subject  TEXT NOT NULL CHECK (length(requester_subject) BETWEEN 1 AND 500),
    requested_at       DATETIME NOT NULL,
    decided_by         TEXT REFERENCES memberships (id),
    decided_at         DATETIME,
    rejection_reason   BLOB,
    disbursed_on       TEXT CHECK (disbursed_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    disbursed_by       TEXT REFERENCES memberships (id),
    disbursed_at       DATETIME,
    spent_usd_cents    INTEGER CHECK (spent_usd_cents >= 0),
    handed_over_on     TEXT CHECK (handed_over_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    handover_place     BLOB,
    received_confirmed BOOLEAN,
    handover_note      BLOB,
    handed_over_by     TEXT REFERENCES memberships (id),
    handed_over_at     DATETIME,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id),
    CHECK ((state = 'requested') = (decided_at IS NULL)),
    CHECK ((state IN ('disbursed', 'handed_over')) = (disbursed_at IS NOT NULL AND disbursed_on IS NOT NULL
                                                      AND spent_usd_cents IS NOT NULL)),
    CHECK ((state = 'handed_over') = (handed_over_at IS NOT NULL AND handed_over_on IS NOT NULL
                                      AND received_confirmed IS NOT NULL))
);
CREATE INDEX kits_case ON kits (tenant_id, case_id, requested_at);
CREATE INDEX kits_state ON kits (tenant_id, state);

CREATE TABLE kit_items (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    kit_id          TEXT NOT NULL,
    data_key_id     TEXT NOT NULL,
    position        INTEGER NOT NULL CHECK (position >= 0),
    description     BLOB,
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    unit_cost_minor INTEGER NOT NULL CHECK (unit_cost_minor >= 0),
    currency        TEXT NOT NULL CHECK (currency IN ('USD', 'LAK', 'THB')),
    usd_cents       INTEGER NOT NULL CHECK (usd_cents >= 0),
    spent_minor     INTEGER CHECK (spent_minor >= 0),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kit_id, position),
    FOREIGN KEY (tenant_id, kit_id) REFERENCES kits (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id)
);

CREATE TABLE kit_rates (
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    kit_id               TEXT NOT NULL,
    currency             TEXT NOT NULL CHECK (currency IN ('LAK', 'THB')),
    units_per_usd_micros INTEGER NOT NULL CHECK (units_per_usd_micros > 0),
    entered_by           TEXT REFERENCES memberships (id),
    entered_at           DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, kit_id, currency),
    FOREIGN KEY (tenant_id, kit_id) REFERENCES kits (tenant_id, id)
);

-- +goose Down
DROP TABLE kit_rates;
DROP TABLE kit_items;
DROP TABLE kits;
