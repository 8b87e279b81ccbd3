-- maestro store, PostgreSQL.
CREATE TABLE resources (
    id            BIGSERIAL PRIMARY KEY,
    tenant        TEXT        NOT NULL,
    connection    TEXT        NOT NULL,
    kind          TEXT        NOT NULL,
    native_id     TEXT        NOT NULL,
    scope         TEXT        NOT NULL,
    name          TEXT        NOT NULL,
    active        BOOLEAN     NOT NULL,
    attributes    JSONB       NOT NULL,
    relations     JSONB       NOT NULL,
    tags          JSONB       NOT NULL,
    user_fields   JSONB       NOT NULL DEFAULT '{}',
    checksum      BYTEA       NOT NULL,
    first_seen    TIMESTAMPTZ NOT NULL,
    last_seen     TIMESTAMPTZ NOT NULL,
    missing_since TIMESTAMPTZ,
    missed_runs   INTEGER     NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT      NOT NULL
);
CREATE UNIQUE INDEX resources_key ON resources (tenant, connection, kind, native_id);
CREATE INDEX resources_scope ON resources (tenant, connection, scope);
CREATE INDEX resources_tenant ON resources (tenant, id);

CREATE TABLE resource_changes (
    seq         BIGSERIAL PRIMARY KEY,
    resource_id BIGINT      NOT NULL REFERENCES resources (id),
    tenant      TEXT        NOT NULL,
    op          TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    run_id      TEXT,
    version     BIGINT      NOT NULL,
    diff        JSON
);
CREATE INDEX resource_changes_resource ON resource_changes (resource_id, seq);
CREATE INDEX resource_changes_tenant_at ON resource_changes (tenant, at);

CREATE TABLE scope_completions (
    tenant       TEXT        NOT NULL,
    connection   TEXT        NOT NULL,
    scope        TEXT        NOT NULL,
    run_id       TEXT        NOT NULL,
    run_started  TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, connection, scope)
);

CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,
    tenant      TEXT        NOT NULL,
    connection  TEXT        NOT NULL,
    provider    TEXT        NOT NULL,
    status      TEXT        NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    report      JSON        NOT NULL
);
CREATE INDEX runs_tenant ON runs (tenant, started_at);

-- Appends take an advisory lock held until commit, so `seq` order is commit order and a relay
-- reading by `seq` never skips an event committed late.
CREATE TABLE outbox_events (
    seq         BIGSERIAL PRIMARY KEY,
    id          UUID        NOT NULL UNIQUE,
    kind        TEXT        NOT NULL,
    tenant      TEXT        NOT NULL,
    subject     TEXT        NOT NULL,
    run_id      UUID,
    occurred_at TIMESTAMPTZ NOT NULL,
    payload     JSON        NOT NULL
);

CREATE TABLE outbox_sinks (
    sink            TEXT PRIMARY KEY,
    cursor_seq      BIGINT      NOT NULL DEFAULT 0,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_error      TEXT,
    delivered       BIGINT      NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ
);

CREATE TABLE outbox_dead_letters (
    id        BIGSERIAL PRIMARY KEY,
    sink      TEXT        NOT NULL,
    event_seq BIGINT      NOT NULL,
    event     JSON        NOT NULL,
    error     TEXT        NOT NULL,
    attempts  INTEGER     NOT NULL,
    dead_at   TIMESTAMPTZ NOT NULL,
    state     TEXT        NOT NULL DEFAULT 'dead'
);
CREATE INDEX outbox_dead_letters_sink ON outbox_dead_letters (sink, state, id);
