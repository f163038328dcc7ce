-- Region master data (Kemendagri codes), the journal, and the registry read models.
-- The same logical schema as the SQLite backend's 0001_registry.sql (same tables, columns
-- and index purposes), with PostgreSQL's native types; a test in tests/contract.rs keeps
-- the two in step.
CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    parent      TEXT,
    level       TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- Upper-cased name, so search is case-insensitive on every backend alike.
    name_search TEXT NOT NULL
);
CREATE INDEX regions_parent ON regions (parent, code);

-- The append-only, totally ordered journal. `sequence` is gap-free from 1: it is assigned
-- as MAX + 1 under a transaction-scoped advisory lock, never from a SEQUENCE (which leaves
-- gaps on rollback).
CREATE TABLE journal (
    sequence    BIGINT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    data        JSONB NOT NULL
);

CREATE TABLE families (
    no_kk     TEXT PRIMARY KEY,
    street    TEXT NOT NULL,
    -- RT and RW numbers are u16 in the domain.
    rt        INTEGER NOT NULL CHECK (rt BETWEEN 0 AND 65535),
    rw        INTEGER NOT NULL CHECK (rw BETWEEN 0 AND 65535),
    kelurahan TEXT NOT NULL,
    head_nik  TEXT NOT NULL
);

CREATE TABLE residents (
    nik            TEXT PRIMARY KEY,
    no_kk          TEXT NOT NULL,
    full_name      TEXT NOT NULL,
    sex            TEXT NOT NULL,
    birth_place    TEXT NOT NULL,
    birth_date     DATE NOT NULL,
    religion       TEXT NOT NULL,
    marital_status TEXT NOT NULL,
    relationship   TEXT NOT NULL,
    education      TEXT NOT NULL,
    occupation     TEXT NOT NULL,
    father_name    TEXT NOT NULL,
    mother_name    TEXT NOT NULL,
    citizenship    TEXT NOT NULL,
    status         TEXT NOT NULL,
    kelurahan      TEXT NOT NULL,
    kecamatan      TEXT NOT NULL,
    -- Order of the member on the family card.
    position       INTEGER NOT NULL
);
CREATE INDEX residents_family ON residents (no_kk, position);
CREATE INDEX residents_kelurahan ON residents (kelurahan, nik);
-- text_pattern_ops lets the city-level `kecamatan LIKE '35.77.%'` use the index under any
-- collation; equality on a kecamatan uses it too.
CREATE INDEX residents_kecamatan ON residents (kecamatan text_pattern_ops, nik);
CREATE INDEX residents_birth_date ON residents (birth_date, nik);

-- Normalised name words, for search by name.
CREATE TABLE resident_name_tokens (
    token TEXT NOT NULL,
    nik   TEXT NOT NULL,
    PRIMARY KEY (token, nik)
);
