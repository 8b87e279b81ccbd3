-- Scheduler: schedules as data, one row per fired slot, job records (the in-process queue).
CREATE TABLE schedules (
    tenant    TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    spec      TEXT    NOT NULL,            -- the Schedule as JSON (without last/next slot)
    trig      TEXT    NOT NULL,            -- the trigger as JSON, to notice a changed trigger
    enabled   INTEGER NOT NULL,
    last_slot INTEGER,                     -- µs since the epoch
    next_slot INTEGER,
    PRIMARY KEY (tenant, name)
);
CREATE INDEX schedules_due ON schedules (enabled, next_slot);

-- The slot key: the primary key makes a second claim of one slot a no-op.
CREATE TABLE schedule_slots (
    tenant     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    slot       INTEGER NOT NULL,
    beat       TEXT    NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, name, slot)
);

CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,  -- the slot key for scheduled jobs
    run_id       TEXT    NOT NULL,
    tenant       TEXT    NOT NULL,
    schedule     TEXT,
    slot         INTEGER,
    kind         TEXT    NOT NULL,
    args         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    available_at INTEGER NOT NULL,
    worker       TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    enqueued_at  INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER
);
CREATE INDEX jobs_ready ON jobs (state, available_at);
CREATE INDEX jobs_schedule ON jobs (tenant, schedule, state);
