-- Case files (tenants/cases). Every table is tenant-owned: tenant_id first in
-- the primary key, ENABLE and FORCE ROW LEVEL SECURITY, and the
-- tenant_isolation policy.
--
-- A case's personal data is in bytea columns encrypted with the case's data
-- key (data_key_id = id; tenants.Secret): the four searchable identity
-- fields on their own (first_name, second_name, full_name, birthdate, each
-- blind-indexed for exact search), and one encrypted JSON document per field
-- group (core_data, identity_data, family_data, medical_data,
-- psychological_data, legal_data). The clear columns hold no personal data:
-- the number, the stage, who owns it, dates. Consents, comments and erasure
-- notes of a case are encrypted with the same key, so shredding it (erasure,
-- retention) leaves nothing of the case readable; the rows then keep only
-- codes and dates.

-- +goose Up
-- The last case number given per organisation: locked by the transaction
-- that takes the next ones, so two intakes at once never share a number.
CREATE TABLE case_numbers (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    last_number bigint NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (tenant_id)
);
ALTER TABLE case_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_numbers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON case_numbers
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

CREATE TABLE cases (
    tenant_id          uuid NOT NULL REFERENCES tenants (id),
    id                 uuid NOT NULL,
    data_key_id        uuid NOT NULL,
    number             bigint NOT NULL CHECK (number > 0),
    stage              text NOT NULL CHECK (stage IN ('intake', 'shelter', 'reintegrated', 'closed', 'referred')),
    version            bigint NOT NULL CHECK (version > 0),
    owner_member_id    uuid REFERENCES memberships (id),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    last_activity_at   timestamptz NOT NULL,
    closed_at          timestamptz,
    erased_at          timestamptz,
    anonymised_at      timestamptz,
    first_name         bytea,
    second_name        bytea,
    full_name          bytea,
    birthdate          bytea,
    core_data          bytea,
    identity_data      bytea,
    family_data        bytea,
    medical_data       bytea,
    psychological_data bytea,
    legal_data         bytea,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = id),
    CHECK ((closed_at IS NOT NULL) = (stage IN ('closed', 'referred'))),
    -- A live case always has its core document; an erased or anonymised one
    -- keeps no encrypted column at all.
    CHECK (CASE WHEN erased_at IS NULL AND anonymised_at IS NULL THEN core_data IS NOT NULL
           ELSE num_nonnulls(first_name, second_name, full_name, birthdate, core_data, identity_data,
                             family_data, medical_data, psychological_data, legal_data) = 0
                AND owner_member_id IS NULL END)
);
-- The list: live cases by last activity, newest first (keyset pagination).
CREATE INDEX cases_activity ON cases (tenant_id, last_activity_at DESC, id DESC)
    WHERE erased_at IS NULL AND anonymised_at IS NULL;
CREATE INDEX cases_stage ON cases (tenant_id, stage, last_activity_at DESC, id DESC)
    WHERE erased_at IS NULL AND anonymised_at IS NULL;
CREATE INDEX cases_owner ON cases (tenant_id, owner_member_id);
-- Retention: closed cases by closure date.
CREATE INDEX cases_closed ON cases (tenant_id, closed_at)
    WHERE closed_at IS NOT NULL AND erased_at IS NULL AND anonymised_at IS NULL;
ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE cases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cases
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Staff assigned to a case besides its owner.
CREATE TABLE case_assignments (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    case_id   uuid NOT NULL,
    member_id uuid NOT NULL REFERENCES memberships (id),
    PRIMARY KEY (tenant_id, case_id, member_id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
);
CREATE INDEX case_assignments_member ON case_assignments (tenant_id, member_id);
ALTER TABLE case_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON case_assignments
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Consent per purpose: who gave it, when, on what basis, who recorded it,
-- and its withdrawal (the reason encrypted with the case's key).
CREATE TABLE case_consents (
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    id                uuid NOT NULL,
    case_id           uuid NOT NULL,
    data_key_id       uuid NOT NULL,
    purpose           text NOT NULL CHECK (purpose IN ('services', 'sharing', 'family_tracing', 'statistics',
                                                       'health_sharing', 'hiv_sti_testing')),
    given_by          text NOT NULL CHECK (given_by IN ('girl', 'family', 'guardian')),
    given_on          text NOT NULL CHECK (given_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    basis             text NOT NULL CHECK (basis IN ('signed_form', 'recorded_verbal')),
    recorded_by       uuid REFERENCES memberships (id),
    recorded_at       timestamptz NOT NULL,
    withdrawn_at      timestamptz,
    withdrawn_by      uuid REFERENCES memberships (id),
    withdrawal_reason bytea,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id),
    CHECK (withdrawn_at IS NOT NULL OR (withdrawn_by IS NULL AND withdrawal_reason IS NULL))
);
CREATE INDEX case_consents_case ON case_consents (tenant_id, case_id, purpose) WHERE withdrawn_at IS NULL;
CREATE INDEX case_consents_history ON case_consents (tenant_id, case_id, recorded_at DESC);
ALTER TABLE case_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_consents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON case_consents
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Comments (HTCDS cco_CaseComment): the text encrypted with the case's key.
CREATE TABLE case_comments (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    id               uuid NOT NULL,
    case_id          uuid NOT NULL,
    data_key_id      uuid NOT NULL,
    author_member_id uuid REFERENCES memberships (id),
    body             bytea,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, data_key_id) REFERENCES data_keys (tenant_id, id),
    CHECK (data_key_id = case_id)
);
CREATE INDEX case_comments_case ON case_comments (tenant_id, case_id, created_at, id);
ALTER TABLE case_comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_comments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON case_comments
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Erasure requests: a coded reason (it survives the erasure and names no
-- one), an optional note encrypted with the case's key (gone with it), who
-- asked (member and identity, for the two-person rule) and who decided.
-- One open request per case.
CREATE TABLE case_erasures (
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    id                uuid NOT NULL,
    case_id           uuid NOT NULL,
    data_key_id       uuid NOT NULL,
    reason            text NOT NULL CHECK (reason IN ('consent_withdrawn', 'data_subject_request', 'created_in_error',
                                                      'duplicate', 'other')),
    note              bytea,
    state             text NOT NULL CHECK (state IN ('requested', 'approved', 'cancelled')),
    requested_by      uuid REFERENCES memberships (id),
    requester_issuer  text NOT NULL CHECK (length(requester_issuer) BETWEEN 1 AND 500),
    requester_subject text NOT NULL CHECK (length(requester_subject) BETWEEN 1 AND 500),
    requested_at      timestamptz NOT NULL,
    decided_by        uuid REFERENCES memberships (id),
    decided_at        timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    CHECK (data_key_id = case_id),
    CHECK ((state = 'requested') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX case_erasures_open ON case_erasures (tenant_id, case_id) WHERE state = 'requested';
ALTER TABLE case_erasures ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_erasures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON case_erasures
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE case_erasures;
DROP TABLE case_comments;
DROP TABLE case_consents;
DROP TABLE case_assignments;
DROP TABLE cases;
DROP TABLE case_numbers;
