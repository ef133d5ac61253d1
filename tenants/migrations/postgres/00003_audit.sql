-- The audit log (tenants/audit.go): one tenant-owned, append-only chain per
-- organisation. Each row records who (the identity (issuer, subject) and the
-- membership), for which organisation, did what to which record, touching
-- which field groups, for what purpose, in which request, and when: ids and
-- codes only, never names or values. Each row carries the keyed hash
-- (HMAC-SHA256 with a key derived from the tenant key, which the master key
-- wraps: the key is never in the database) of its content and of the
-- previous row's hash, so a changed, inserted or removed row breaks the
-- chain; checkpoints written outside the database catch a cut-off tail.
--
-- The app role may INSERT and SELECT audit_log, never UPDATE or DELETE it
-- (grantAppRole in tenants/migrate.go). Rows leave only through
-- audit_prune, which deletes for the current tenant what its retention
-- allows and records the signed anchor verification restarts from.

-- +goose Up
CREATE TABLE audit_log (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    seq             bigint NOT NULL CHECK (seq > 0),
    occurred_at     timestamptz NOT NULL,
    actor_kind      text NOT NULL CHECK (actor_kind IN ('member', 'api_token', 'system', 'operator')),
    actor_issuer    text NOT NULL CHECK (length(actor_issuer) BETWEEN 1 AND 500),
    actor_subject   text NOT NULL CHECK (length(actor_subject) BETWEEN 1 AND 500),
    actor_member_id uuid,
    -- the organisation the actor acts for: the tenant itself, or the partner
    -- organisation in cross-organisation work; NULL for a platform operator
    organisation    uuid REFERENCES tenants (id),
    action          text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' AND length(action) <= 100),
    record_type     text NOT NULL CHECK (record_type ~ '^[a-z][a-z0-9_]*$' AND length(record_type) <= 100),
    record_id       uuid,
    field_groups    text NOT NULL DEFAULT '' CHECK (field_groups ~ '^([a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*)?$'),
    purpose         text NOT NULL DEFAULT '' CHECK (purpose ~ '^([a-z][a-z0-9_]*)?$' AND length(purpose) <= 64),
    request_id      text NOT NULL DEFAULT '' CHECK (length(request_id) <= 128),
    prev_hash       bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, seq)
);
CREATE INDEX audit_log_record ON audit_log (tenant_id, record_type, record_id, seq);

-- The head of each organisation's chain: the last row's seq and hash, and
-- the anchor left by retention (the last pruned row's seq, hash and time,
-- signed with the chain key). One row per organisation, locked by every
-- append, so concurrent appends take consecutive numbers.
CREATE TABLE audit_heads (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    seq         bigint NOT NULL CHECK (seq >= 0),
    hash        bytea NOT NULL CHECK (length(hash) = 32),
    anchor_seq  bigint NOT NULL DEFAULT 0 CHECK (anchor_seq >= 0 AND anchor_seq <= seq),
    anchor_hash bytea NOT NULL CHECK (length(anchor_hash) = 32),
    anchor_at   timestamptz,
    anchor_mac  bytea,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id)
);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_heads
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- audit_prune deletes the current tenant's rows up to through_seq and moves
-- the anchor there, refusing unless every one of those rows is older than
-- the tenant's retention (tenant_settings audit_retention_days: default
-- 3650 days, never less than 365; keep in step with tenants/audit_retention.go).
-- It runs with its owner's rights (the app role cannot DELETE audit rows),
-- only for the tenant set in app.tenant_id by InTenant. The anchor's MAC is
-- computed by the application, which alone holds the chain key: verification
-- rejects an anchor it did not sign.
-- +goose StatementBegin
CREATE FUNCTION audit_prune(through_seq bigint, mac bytea) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t        uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
    setting  text;
    days     integer := 3650;
    cutoff   timestamptz;
    head     public.audit_heads%ROWTYPE;
    last_row public.audit_log%ROWTYPE;
    n        bigint;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'audit_prune: no tenant is set' USING ERRCODE = '42501';
    END IF;
    IF mac IS NULL OR length(mac) <> 32 THEN
        RAISE EXCEPTION 'audit_prune: the anchor needs its 32-byte MAC' USING ERRCODE = '22023';
    END IF;
    SELECT value INTO setting FROM public.tenant_settings WHERE tenant_id = t AND key = 'audit_retention_days';
    IF setting ~ '^[0-9]{1,6}$' THEN
        days := setting::integer;
    END IF;
    days := LEAST(GREATEST(days, 365), 36500);
    cutoff := now() - make_interval(hours => days * 24);

    SELECT * INTO head FROM public.audit_heads WHERE tenant_id = t FOR UPDATE;
    IF NOT FOUND OR through_seq <= head.anchor_seq OR through_seq > head.seq THEN
        RAISE EXCEPTION 'audit_prune: seq % is not between the anchor and the head', through_seq USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM public.audit_log WHERE tenant_id = t AND seq <= through_seq AND occurred_at >= cutoff) THEN
        RAISE EXCEPTION 'audit_prune: rows up to seq % are not all older than the retention of % days', through_seq, days USING ERRCODE = '42501';
    END IF;
    SELECT * INTO last_row FROM public.audit_log WHERE tenant_id = t AND seq = through_seq;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_prune: no row at seq %', through_seq USING ERRCODE = '22023';
    END IF;
    DELETE FROM public.audit_log WHERE tenant_id = t AND seq <= through_seq;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE public.audit_heads
       SET anchor_seq = through_seq, anchor_hash = last_row.hash, anchor_at = last_row.occurred_at,
           anchor_mac = mac, updated_at = now()
     WHERE tenant_id = t;
    RETURN n;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_prune(bigint, bytea) FROM PUBLIC;

-- +goose Down
DROP FUNCTION audit_prune(bigint, bytea);
DROP TABLE audit_heads;
DROP TABLE audit_log;
