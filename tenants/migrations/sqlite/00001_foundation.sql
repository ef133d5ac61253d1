-- Foundation: the organisations, their settings, and the outbox (SQLite: the
-- GORM tenant callbacks are the isolation layer; see tenants/callbacks.go).

-- +goose Up
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    country    TEXT NOT NULL CHECK (length(country) = 2),
    city       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    demo       INTEGER NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE tenant_settings (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, key)
);

CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT REFERENCES tenants (id),
    kind        TEXT NOT NULL,
    queue       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'enqueued', 'done', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    enqueued_at DATETIME,
    done_at     DATETIME,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (created_at) WHERE status IN ('pending', 'enqueued');

-- +goose Down
DROP TABLE outbox;
DROP TABLE tenant_settings;
DROP TABLE tenants;
