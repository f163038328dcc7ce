-- e-LAMPID: submissions and their workflow, issued documents, and the statistics counters.
-- All are read models of the journal (`simpul rebuild` recreates them). The read models of
-- earlier versions lack these, so opening a store rebuilds them once (store_meta
-- `read_models`).
-- The same logical schema as the SQLite backend's 0004_lampid.sql, with PostgreSQL's
-- native types; a test in tests/contract.rs keeps the two in step.

-- Counts per region (every level), dimension and key; `parent` first so the regions below
-- one region are one range. Keys hold codes, sexes and months, never a person.
CREATE TABLE counters (
    parent    TEXT NOT NULL,
    dimension TEXT NOT NULL,
    region    TEXT NOT NULL,
    key       TEXT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (parent, dimension, region, key)
);

-- One row per submission; the report and any rejection reason are in `sealed`.
CREATE TABLE submissions (
    tracking_code   TEXT PRIMARY KEY,
    kelurahan       TEXT NOT NULL,
    kecamatan       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL,
    version         BIGINT NOT NULL,
    sealed          TEXT NOT NULL,
    -- `<actor>:<key>`: a retried create finds the first.
    idempotency_key TEXT UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL,
    state_since     TIMESTAMPTZ NOT NULL,
    submitted_at    TIMESTAMPTZ,
    verified_at     TIMESTAMPTZ,
    registered_at   TIMESTAMPTZ,
    document        TEXT
);
CREATE INDEX submissions_queue ON submissions (state, kecamatan, state_since);
CREATE INDEX submissions_registered ON submissions (registered_at)
    WHERE registered_at IS NOT NULL;

-- Documents registration issued (certificates, move letters): numbers only. Numbers are
-- collated "C" (byte order) so the numbers with one prefix are one range of the key.
CREATE TABLE documents (
    number        TEXT COLLATE "C" PRIMARY KEY,
    kind          TEXT NOT NULL,
    tracking_code TEXT NOT NULL,
    issued_at     TIMESTAMPTZ NOT NULL
);
