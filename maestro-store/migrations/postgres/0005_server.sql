-- The reference server's tables: connections (sealed credentials), graph jobs, API run requests.
CREATE TABLE connections (
    tenant            TEXT        NOT NULL,
    id                TEXT        NOT NULL,
    name              TEXT        NOT NULL,
    provider          TEXT        NOT NULL,
    settings          TEXT        NOT NULL,    -- JSON object, no secrets
    sealed_creds      BYTEA,                   -- AEAD nonce + ciphertext, sealed by the server
    credential_fields TEXT        NOT NULL,    -- JSON array of the names that are set
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE graph_jobs (
    tenant     TEXT        NOT NULL,
    id         TEXT        NOT NULL,
    owner_id   TEXT        NOT NULL,
    kind       TEXT        NOT NULL,
    definition TEXT        NOT NULL,
    status     TEXT        NOT NULL,
    msg        TEXT        NOT NULL,
    info       TEXT        NOT NULL,
    svg        TEXT,
    graphml    TEXT,
    json       TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE run_requests (
    id           TEXT        PRIMARY KEY,
    tenant       TEXT        NOT NULL,
    connection   TEXT        NOT NULL,
    provider     TEXT        NOT NULL,
    task         TEXT        NOT NULL,
    status       TEXT        NOT NULL,
    run_id       TEXT,
    error        TEXT,
    requested_at TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX run_requests_tenant ON run_requests (tenant, id);
CREATE INDEX run_requests_status ON run_requests (status);
