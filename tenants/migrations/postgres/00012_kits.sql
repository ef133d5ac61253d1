-- The micro-enterprise starter kit (tenants/kits). Every table is
-- tenant-owned: tenant_id first in the primary key, ENABLE and FORCE ROW
-- LEVEL SECURITY, and the tenant_isolation policy.
--
-- Free text about the survivor (the business plan, the items'
-- descriptions, a rejection's reason, the hand-over's place and note) is
-- in bytea columns encrypted with the case's data key (data_key_id =
-- case_id; tenants.Secret), so erasing the case shreds it too. The clear
-- columns hold ids, states, dates, currencies and amounts: amounts are
-- integers in the currency's minor unit (USD and THB cents, whole kip),
-- exchange rates integers in millionths of a unit per US dollar.

-- +goose Up
-- A kit request: requested, then approved or rejected by a second person;
-- an approved kit is disbursed, then handed over. The requester's identity
-- is kept for the two-person rule; the limit is the organisation's when
-- the request was made (or last changed).
CREATE TABLE kits (
    tenant_id          uuid NOT NULL REFERENCES tenants (id),
    id                 uuid NOT NULL,
    case_id            uuid NOT NULL,
    data_key_id        uuid NOT NULL,
    state              text NOT NULL CHECK (state IN ('requested', 'approved', 'rejected', 'disbursed', 'handed_over')),
    business_plan      bytea,
    total_usd_cents    bigint NOT NULL CHECK (total_usd_cents >= 0),
    limit_usd_cents    bigint NOT NULL CHECK (limit_usd_cents > 0),
    requested_by       uuid REFERENCES memberships (id),
    requester_issuer   text NOT NULL CHECK (length(requester_issuer) BETWEEN 1 AND 500),
    requester_subject  text NOT NULL CHECK (length(requester_subject) BETWEEN 1 AND 500),
    requested_at       timestamptz NOT NULL,
    decided_by         uuid REFERENCES memberships (id),
    decided_at         timestamptz,
    rejection_reason   bytea,
    disbursed_on       text CHECK (disbursed_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    disbursed_by       uuid REFERENCES memberships (id),
    disbursed_at       timestamptz,
    spent_usd_cents    bigint CHECK (spent_usd_cents >= 0),
    handed_over_on     text CHECK (handed_over_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    handover_place     bytea,
    received_confirmed boolean,
    handover_note      bytea,
    handed_over_by     uuid REFERENCES memberships (id),
    handed_over_at     timestamptz,
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
ALTER TABLE kits ENABLE ROW LEVEL SECURITY;
ALTER TABLE kits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kits
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The kit's items, in the order given: what (encrypted), how many, at what
-- unit cost in which currency, the line in US cents at the request's rate,
-- and what was actually spent once disbursed (same currency).
CREATE TABLE kit_items (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    kit_id          uuid NOT NULL,
    data_key_id     uuid NOT NULL,
    position        integer NOT NULL CHECK (position >= 0),
    description     bytea,
    quantity        integer NOT NULL CHECK (quantity > 0),
    unit_cost_minor bigint NOT NULL CHECK (unit_cost_minor >= 0),
    currency        text NOT NULL CHECK (currency IN ('USD', 'LAK', 'THB')),
    usd_cents       bigint NOT NULL CHECK (usd_cents >= 0),
    spent_minor     bigint CHECK (spent_minor >= 0),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kit_id, position),
    FOREIGN KEY (tenant_id, kit_id) REFERENCES kits (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id)
);
ALTER TABLE kit_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE kit_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kit_items
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The exchange rates a request was made at, one per currency other than
-- USD that its items use: units of the currency per US dollar, in
-- millionths, entered by whom and when. Part of the request: never looked
-- up again.
CREATE TABLE kit_rates (
    tenant_id            uuid NOT NULL REFERENCES tenants (id),
    kit_id               uuid NOT NULL,
    currency             text NOT NULL CHECK (currency IN ('LAK', 'THB')),
    units_per_usd_micros bigint NOT NULL CHECK (units_per_usd_micros > 0),
    entered_by           uuid REFERENCES memberships (id),
    entered_at           timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kit_id, currency),
    FOREIGN KEY (tenant_id, kit_id) REFERENCES kits (tenant_id, id)
);
ALTER TABLE kit_rates ENABLE ROW LEVEL SECURITY;
ALTER TABLE kit_rates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kit_rates
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE kit_rates;
DROP TABLE kit_items;
DROP TABLE kits;
