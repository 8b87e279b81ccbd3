-- Scheduler: schedules as data, one row per fired slot, job records (the in-process queue).
CREATE TABLE schedules (
    tenant    TEXT        NOT NULL,
    name      TEXT        NOT NULL,
    spec      TEXT        NOT NULL,        -- the Schedule as JSON (without last/next slot)
    trig      TEXT        NOT NULL,        -- the trigger as JSON, to notice a changed trigger
    enabled   BOOLEAN     NOT NULL,
    last_slot TIMESTAMPTZ,
    next_slot TIMESTAMPTZ,
    PRIMARY KEY (tenant, name)
);
CREATE INDEX schedules_due ON schedules (next_slot) WHERE enabled;

-- The slot key: the primary key makes a second claim of one slot a no-op.
CREATE TABLE schedule_slots (
    tenant     TEXT        NOT NULL,
    name       TEXT        NOT NULL,
    slot       TIMESTAMPTZ NOT NULL,
    beat       TEXT        NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, name, slot)
);

CREATE TABLE jobs (
    seq          BIGSERIAL   PRIMARY KEY,
    id           TEXT        NOT NULL UNIQUE, -- the slot key for scheduled jobs
    run_id       UUID        NOT NULL,
    tenant       TEXT        NOT NULL,
    schedule     TEXT,
    slot         TIMESTAMPTZ,
    kind         TEXT        NOT NULL,
    args         JSONB       NOT NULL,
    state        TEXT        NOT NULL,
    attempts     INTEGER     NOT NULL,
    available_at TIMESTAMPTZ NOT NULL,
    worker       TEXT,
    lease_until  TIMESTAMPTZ,
    last_error   TEXT,
    enqueued_at  TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX jobs_ready ON jobs (available_at, seq) WHERE state IN ('enqueued', 'failed');
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_schedule ON jobs (tenant, schedule, state);
