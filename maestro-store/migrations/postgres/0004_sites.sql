-- Site monitoring: the original aivenpy `sites` table (id, url, regexp) plus per-site settings,
-- and one row per check result. (site_id, checked_at) is the idempotency key of a result.
CREATE TABLE sites (
    id               BIGINT  PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    regexp           TEXT,
    interval_secs    BIGINT  NOT NULL DEFAULT 600,
    timeout_ms       BIGINT  NOT NULL DEFAULT 10000,
    method           TEXT    NOT NULL DEFAULT 'GET',
    headers          JSONB   NOT NULL DEFAULT '{}',
    follow_redirects BOOLEAN NOT NULL DEFAULT TRUE,
    conditions       JSONB   NOT NULL DEFAULT '[]',
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    resource         JSONB                            -- ResourceKey, for the dependency view
);
CREATE INDEX sites_tenant ON sites (tenant, id);

CREATE TABLE site_checks (
    seq              BIGSERIAL PRIMARY KEY,
    site_id          BIGINT           NOT NULL,
    tenant           TEXT             NOT NULL,
    url              TEXT             NOT NULL,
    checked_at       TIMESTAMPTZ      NOT NULL,
    status_code      INTEGER,
    response_time_ms DOUBLE PRECISION,
    has_regexp       BOOLEAN,
    cert_expires_at  TIMESTAMPTZ,
    error            TEXT,
    conditions       JSONB            NOT NULL,
    body_truncated   BOOLEAN          NOT NULL,
    success          BOOLEAN          NOT NULL,
    affected         JSONB            NOT NULL,
    UNIQUE (site_id, checked_at)
);
CREATE INDEX site_checks_tenant ON site_checks (tenant, site_id, checked_at);
