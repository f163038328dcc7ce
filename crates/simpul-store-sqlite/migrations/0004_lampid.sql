-- e-LAMPID: submissions and their workflow, issued documents, and the statistics counters.
-- All are read models of the journal (`simpul rebuild` recreates them). The read models of
-- earlier versions lack these, so opening a store rebuilds them once (store_meta
-- `read_models`).

-- Counts per region (every level), dimension and key; `parent` first so the regions below
-- one region are one range. Keys hold codes, sexes and months, never a person.
CREATE TABLE counters (
    parent    TEXT NOT NULL,
    dimension TEXT NOT NULL,
    region    TEXT NOT NULL,
    key       TEXT NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (parent, dimension, region, key)
) WITHOUT ROWID;

-- One row per submission; the report and any rejection reason are in `sealed`.
CREATE TABLE submissions (
    tracking_code   TEXT PRIMARY KEY,
    kelurahan       TEXT NOT NULL,
    kecamatan       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL,
    version         INTEGER NOT NULL,
    sealed          TEXT NOT NULL,
    -- `<actor>:<key>`: a retried create finds the first.
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL,
    state_since     TEXT NOT NULL,
    submitted_at    TEXT,
    verified_at     TEXT,
    registered_at   TEXT,
    document        TEXT
);
CREATE INDEX submissions_queue ON submissions (state, kecamatan, state_since);
CREATE INDEX submissions_registered ON submissions (registered_at)
    WHERE registered_at IS NOT NULL;

-- Documents registration issued (certificates, move letters): numbers only.
CREATE TABLE documents (
    number        TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    tracking_code TEXT NOT NULL,
    issued_at     TEXT NOT NULL
);
