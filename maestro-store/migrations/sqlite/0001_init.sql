-- maestro store, SQLite. Times are microseconds since the Unix epoch (UTC).
CREATE TABLE resources (
    id            INTEGER PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    connection    TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    native_id     TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    active        INTEGER NOT NULL,
    attributes    TEXT    NOT NULL,
    relations     TEXT    NOT NULL,
    tags          TEXT    NOT NULL,
    user_fields   TEXT    NOT NULL DEFAULT '{}',
    checksum      BLOB    NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    missing_since INTEGER,
    missed_runs   INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL
);
CREATE UNIQUE INDEX resources_key ON resources (tenant, connection, kind, native_id);
CREATE INDEX resources_scope ON resources (tenant, connection, scope);
CREATE INDEX resources_tenant ON resources (tenant, id);

CREATE TABLE resource_changes (
    seq         INTEGER PRIMARY KEY,
    resource_id INTEGER NOT NULL REFERENCES resources (id),
    tenant      TEXT    NOT NULL,
    op          TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    run_id      TEXT,
    version     INTEGER NOT NULL,
    diff        TEXT
);
CREATE INDEX resource_changes_resource ON resource_changes (resource_id, seq);
CREATE INDEX resource_changes_tenant_at ON resource_changes (tenant, at);

CREATE TABLE scope_completions (
    tenant       TEXT    NOT NULL,
    connection   TEXT    NOT NULL,
    scope        TEXT    NOT NULL,
    run_id       TEXT    NOT NULL,
    run_started  INTEGER NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, connection, scope)
);

CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    connection  TEXT    NOT NULL,
    provider    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    report      TEXT    NOT NULL
);
CREATE INDEX runs_tenant ON runs (tenant, started_at);

CREATE TABLE outbox_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          BLOB    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    tenant      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    run_id      TEXT,
    occurred_at INTEGER NOT NULL,
    payload     TEXT    NOT NULL
);

CREATE TABLE outbox_sinks (
    sink            TEXT PRIMARY KEY,
    cursor_seq      INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT,
    delivered       INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     INTEGER
);

CREATE TABLE outbox_dead_letters (
    id        INTEGER PRIMARY KEY,
    sink      TEXT    NOT NULL,
    event_seq INTEGER NOT NULL,
    event     TEXT    NOT NULL,
    error     TEXT    NOT NULL,
    attempts  INTEGER NOT NULL,
    dead_at   INTEGER NOT NULL,
    state     TEXT    NOT NULL DEFAULT 'dead'
);
CREATE INDEX outbox_dead_letters_sink ON outbox_dead_letters (sink, state, id);
