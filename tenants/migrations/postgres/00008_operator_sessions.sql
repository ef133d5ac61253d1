-- Platform operators sign in to the browser (api/signin.go, /login?operator=1)
-- through the platform's own OpenID provider (HOMEWARD_OPERATOR_*), and have
-- no organisation. Both sign-in tables, global, learn that kind:
--
-- login_attempts.operator marks an operator's sign-in in progress, which has
-- no organisation (tenant_id NULL); every other attempt still names one.
--
-- sessions.identity_id is an operator's session: the identity (issuer,
-- subject) the operators' provider vouched for, no organisation, no
-- membership. A member's session names its organisation and membership and
-- no identity. Exactly one of the two shapes, checked here.

-- +goose Up
ALTER TABLE login_attempts ALTER COLUMN tenant_id DROP NOT NULL;
ALTER TABLE login_attempts ADD COLUMN operator boolean NOT NULL DEFAULT false;
ALTER TABLE login_attempts ADD CONSTRAINT login_attempts_kind
    CHECK ((operator AND tenant_id IS NULL) OR (NOT operator AND tenant_id IS NOT NULL));

ALTER TABLE sessions ALTER COLUMN tenant_id DROP NOT NULL;
ALTER TABLE sessions ALTER COLUMN membership_id DROP NOT NULL;
ALTER TABLE sessions ADD COLUMN identity_id uuid REFERENCES identities (id) ON DELETE CASCADE;
ALTER TABLE sessions ADD CONSTRAINT sessions_kind CHECK (
    (tenant_id IS NOT NULL AND membership_id IS NOT NULL AND identity_id IS NULL)
    OR (tenant_id IS NULL AND membership_id IS NULL AND identity_id IS NOT NULL));
CREATE INDEX sessions_identity ON sessions (identity_id) WHERE identity_id IS NOT NULL;

-- +goose Down
DELETE FROM sessions WHERE identity_id IS NOT NULL;
DROP INDEX sessions_identity;
ALTER TABLE sessions DROP CONSTRAINT sessions_kind;
ALTER TABLE sessions DROP COLUMN identity_id;
ALTER TABLE sessions ALTER COLUMN membership_id SET NOT NULL;
ALTER TABLE sessions ALTER COLUMN tenant_id SET NOT NULL;

DELETE FROM login_attempts WHERE operator;
ALTER TABLE login_attempts DROP CONSTRAINT login_attempts_kind;
ALTER TABLE login_attempts DROP COLUMN operator;
ALTER TABLE login_attempts ALTER COLUMN tenant_id SET NOT NULL;
