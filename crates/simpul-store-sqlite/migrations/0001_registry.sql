-- Region master data (Kemendagri codes), the journal, and the registry read models.
CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    parent      TEXT,
    level       TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- Upper-cased name, so search is case-insensitive on every backend alike.
    name_search TEXT NOT NULL
);
CREATE INDEX regions_parent ON regions (parent, code);

-- The append-only, totally ordered journal. `sequence` is gap-free from 1.
CREATE TABLE journal (
    sequence    INTEGER PRIMARY KEY,
    event_type  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    data        TEXT NOT NULL
);

CREATE TABLE families (
    no_kk     TEXT PRIMARY KEY,
    street    TEXT NOT NULL,
    rt        INTEGER NOT NULL,
    rw        INTEGER NOT NULL,
    kelurahan TEXT NOT NULL,
    head_nik  TEXT NOT NULL
);

CREATE TABLE residents (
    nik            TEXT PRIMARY KEY,
    no_kk          TEXT NOT NULL,
    full_name      TEXT NOT NULL,
    sex            TEXT NOT NULL,
    birth_place    TEXT NOT NULL,
    birth_date     TEXT NOT NULL,
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
CREATE INDEX residents_kecamatan ON residents (kecamatan, nik);
CREATE INDEX residents_birth_date ON residents (birth_date, nik);

-- Normalised name words, for search by name.
CREATE TABLE resident_name_tokens (
    token TEXT NOT NULL,
    nik   TEXT NOT NULL,
    PRIMARY KEY (token, nik)
) WITHOUT ROWID;
