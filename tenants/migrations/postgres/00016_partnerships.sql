-- Partnerships between organisations (tenants/handoffs/partnerships.go):
-- an organisation's admin proposes one to another organisation, whose
-- admin accepts or declines it; either side suspends, resumes or ends it.
-- A handoff partnership lets From send repatriation handoffs to To (the
-- field groups that may travel, documents, the stall threshold, whether To
-- shares anonymised statistics back); a statistics partnership lets From
-- share its anonymised statistics with To.
--
-- No global table: a partnership is MIRRORED, one row in each
-- organisation's tenant with the same id, both written in one transaction
-- through Store.AcrossTenants. Each row is tenant-owned (tenant_id first in
-- the primary key and every index, ENABLE and FORCE ROW LEVEL SECURITY,
-- the tenant_isolation policy), so each side reads only its own copy.
-- partner_tenant_id is the other side. The member who proposed is
-- recorded on the proposing side's row only: a partner organisation's
-- members are never named to the other side. The texts (the agreement's
-- reference, the reason of a decline, suspension or end) are about the
-- agreement, not about a person, and stay clear.
--
-- The audit log learns the actor kind 'partner' (tenants.ActorPartner):
-- what one organisation does to shared work is audited in the other's
-- chain as that organisation, never as a member of it.

-- +goose Up
CREATE TABLE partnerships (
    tenant_id          uuid NOT NULL REFERENCES tenants (id),
    id                 uuid NOT NULL,
    purpose            text NOT NULL CHECK (purpose IN ('handoffs', 'statistics')),
    from_tenant_id     uuid NOT NULL REFERENCES tenants (id),
    to_tenant_id       uuid NOT NULL REFERENCES tenants (id),
    partner_tenant_id  uuid NOT NULL REFERENCES tenants (id),
    -- handoffs: the field groups that may travel, comma-separated codes
    groups             text NOT NULL DEFAULT '' CHECK (groups ~ '^((identity|family|legal|medical)(,(identity|family|legal|medical))*)?$'),
    documents          boolean NOT NULL DEFAULT false,
    agreement_ref      text NOT NULL CHECK (length(agreement_ref) BETWEEN 1 AND 200),
    stall_days         integer NOT NULL CHECK (stall_days BETWEEN 1 AND 90),
    statistics_back    boolean NOT NULL DEFAULT false,
    state              text NOT NULL CHECK (state IN ('proposed', 'active', 'declined', 'suspended', 'ended')),
    proposed_by_tenant uuid NOT NULL REFERENCES tenants (id),
    proposed_by_member uuid REFERENCES memberships (id) ON DELETE SET NULL,
    proposed_at        timestamptz NOT NULL,
    decided_at         timestamptz,
    changed_at         timestamptz NOT NULL,
    state_reason       text NOT NULL DEFAULT '' CHECK (length(state_reason) <= 2000),
    version            bigint NOT NULL CHECK (version > 0),
    PRIMARY KEY (tenant_id, id),
    CHECK (from_tenant_id <> to_tenant_id),
    CHECK (tenant_id IN (from_tenant_id, to_tenant_id)),
    CHECK (partner_tenant_id IN (from_tenant_id, to_tenant_id) AND partner_tenant_id <> tenant_id),
    CHECK (proposed_by_tenant IN (from_tenant_id, to_tenant_id)),
    -- the member who proposed, on the proposing side's row only
    CHECK (proposed_by_member IS NULL OR proposed_by_tenant = tenant_id),
    -- a statistics partnership carries no field group, document or statistics back
    CHECK (purpose = 'handoffs' OR (groups = '' AND NOT documents AND NOT statistics_back)),
    CHECK ((state = 'proposed') = (decided_at IS NULL))
);
-- One live partnership per pair of organisations, purpose and direction.
CREATE UNIQUE INDEX partnerships_live ON partnerships (tenant_id, purpose, from_tenant_id, to_tenant_id)
    WHERE state IN ('proposed', 'active', 'suspended');
CREATE INDEX partnerships_partner ON partnerships (tenant_id, partner_tenant_id, state);
CREATE INDEX partnerships_changed ON partnerships (tenant_id, changed_at DESC);
ALTER TABLE partnerships ENABLE ROW LEVEL SECURITY;
ALTER TABLE partnerships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON partnerships
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_kind_check
    CHECK (actor_kind IN ('member', 'api_token', 'system', 'operator', 'partner'));

-- +goose Down
-- Going down refuses while audit rows name a partner (the log is
-- append-only: they are never removed to make room).
ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_kind_check
    CHECK (actor_kind IN ('member', 'api_token', 'system', 'operator'));
DROP TABLE partnerships;
