-- Mail and in-app notifications (tenants/mail.go, tenants/notifications.go).
-- Both tables are tenant-owned: tenant_id first in the primary key, ENABLE
-- and FORCE ROW LEVEL SECURITY, and the tenant_isolation policy.
--
-- mail_messages is the record of each message: the bare address (no display
-- name), the template key, the language and the ids the template reads; the
-- rendered text is never stored. message_id is the RFC 5322 Message-ID,
-- derived from the id, so a duplicate sent in the unavoidable SMTP window
-- (delivered, then the worker died before committing) carries the same one.
--
-- notifications hold no free text: kind is a message key rendered per
-- language at display time, and the link is (record_type, record_id).

-- +goose Up
CREATE TABLE mail_messages (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    id         uuid NOT NULL,
    to_address text NOT NULL CHECK (length(to_address) BETWEEN 3 AND 254),
    template   text NOT NULL CHECK (template ~ '^[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)+$'),
    language   text NOT NULL CHECK (language IN ('lo', 'th', 'ms', 'en', 'fr')),
    params     text NOT NULL DEFAULT '{}',
    status     text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts   integer NOT NULL DEFAULT 0,
    message_id text NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at    timestamptz,
    last_error text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, message_id),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
ALTER TABLE mail_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON mail_messages
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- member_id will reference the members table (sign-in, the next issue).
CREATE TABLE notifications (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    member_id   uuid NOT NULL,
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)+$'),
    record_type text NOT NULL CHECK (record_type ~ '^[a-z][a-z0-9_]*$'),
    record_id   uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    read_at     timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notifications_member ON notifications (tenant_id, member_id, id);
CREATE INDEX notifications_unread ON notifications (tenant_id, member_id) WHERE read_at IS NULL;
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notifications
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose Down
DROP TABLE notifications;
DROP TABLE mail_messages;
