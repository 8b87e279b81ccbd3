-- Site monitoring: the original aivenpy `sites` table (id, url, regexp) plus per-site settings,
-- and one row per check result. (site_id, checked_at) is the idempotency key of a result.
CREATE TABLE sites (
    id               INTEGER PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    regexp           TEXT,
    interval_secs    INTEGER NOT NULL DEFAULT 600,
    timeout_ms       INTEGER NOT NULL DEFAULT 10000,
    method           TEXT    NOT NULL DEFAULT 'GET',
    headers          TEXT    NOT NULL DEFAULT '{}',   -- JSON object
    follow_redirects INTEGER NOT NULL DEFAULT 1,
    conditions       TEXT    NOT NULL DEFAULT '[]',   -- JSON array of strings
    enabled          INTEGER NOT NULL DEFAULT 1,
    resource         TEXT                             -- JSON ResourceKey, for the dependency view
);
CREATE INDEX sites_tenant ON sites (tenant, id);

CREATE TABLE site_checks (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id          INTEGER NOT NULL,
    tenant           TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    checked_at       INTEGER NOT NULL,                -- µs since the epoch (UTC)
    status_code      INTEGER,
    response_time_ms REAL,
    has_regexp       INTEGER,
    cert_expires_at  INTEGER,
    error            TEXT,
    conditions       TEXT    NOT NULL,                -- JSON [{condition, success}]
    body_truncated   INTEGER NOT NULL,
    success          INTEGER NOT NULL,
    affected         TEXT    NOT NULL,                -- JSON [{key, name}]
    UNIQUE (site_id, checked_at)
);
CREATE INDEX site_checks_tenant ON site_checks (tenant, site_id, checked_at);
