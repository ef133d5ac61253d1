-- Mail and in-app notifications (tenants/mail.go, tenants/notifications.go);
-- see the PostgreSQL migration of the same number. SQLite: the GORM tenant
-- callbacks are the isolation layer (tenants/callbacks.go).

-- +goose Up
CREATE TABLE mail_messages (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    to_address TEXT NOT NULL CHECK (length(to_address) BETWEEN 3 AND 254),
    template   TEXT NOT NULL CHECK (template GLOB '[a-z]*:[a-z]*' AND template NOT GLOB '*[^a-z0-9_:]*'),
    language   TEXT NOT NULL CHECK (language IN ('lo', 'th', 'ms', 'en', 'fr')),
    params     TEXT NOT NULL DEFAULT '{}',
    status     TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    message_id TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    sent_at    DATETIME,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, message_id),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

CREATE TABLE notifications (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind GLOB '[a-z]*:[a-z]*' AND kind NOT GLOB '*[^a-z0-9_:]*'),
    record_type TEXT NOT NULL CHECK (record_type GLOB '[a-z]*' AND record_type NOT GLOB '*[^a-z0-9_]*'),
    record_id   TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    read_at     DATETIME,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notifications_member ON notifications (tenant_id, member_id, id);
CREATE INDEX notifications_unread ON notifications (tenant_id, member_id) WHERE read_at IS NULL;

-- +goose Down
DROP TABLE notifications;
DROP TABLE mail_messages;
