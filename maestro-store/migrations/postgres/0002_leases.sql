CREATE TABLE leases (
    name  TEXT PRIMARY KEY,
    owner TEXT        NOT NULL,
    until TIMESTAMPTZ NOT NULL
);
