-- Who may act (accounts, sessions, machine clients, revoked tokens, agreements) and the
-- trail (access log, alerts). See simpul_store::identity and simpul_store::audit.

CREATE TABLE accounts (
    username       TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    scope          TEXT,
    password_hash  TEXT NOT NULL,
    -- Sealed (vault: accounts.totp_secret, row = username).
    totp_secret    TEXT,
    totp_enrolled  INTEGER NOT NULL,
    totp_last_step INTEGER,
    recovery_codes TEXT,
    throttle       TEXT NOT NULL,
    disabled       INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    version        INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash         TEXT PRIMARY KEY,
    username           TEXT NOT NULL REFERENCES accounts (username),
    csrf_hash          TEXT NOT NULL,
    second_factor_done INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL
);
CREATE INDEX sessions_username ON sessions (username);

CREATE TABLE clients (
    client_id             TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    agency                TEXT NOT NULL,
    secret_hash           TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    rate_limit_per_minute INTEGER,
    created_at            TEXT NOT NULL,
    revoked_at            TEXT
);

CREATE TABLE revoked_tokens (
    token_id   TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);

CREATE TABLE agreements (
    agency    TEXT NOT NULL,
    reference TEXT NOT NULL,
    -- Action codes, space-separated.
    actions   TEXT NOT NULL,
    region    TEXT NOT NULL,
    PRIMARY KEY (agency, reference)
);

-- The access log: append-only, gap-free `sequence` from 1 (simpul.access.v1).
CREATE TABLE access_log (
    sequence   INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    purpose    TEXT,
    -- JSON arrays of text.
    residents  TEXT NOT NULL,
    fields     TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    reason     TEXT,
    network    TEXT,
    request_id TEXT NOT NULL
);

-- No per-resident index: kept in step with every entry, its random inserts were most of
-- the cost of logging a batch verification. The data subject's view scans the log; the
-- ledger (issue 5) is the place for an index built off the request path.

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    rule            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    at              TEXT NOT NULL,
    detail          TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT
);
CREATE INDEX alerts_open ON alerts (acknowledged_at, id);
