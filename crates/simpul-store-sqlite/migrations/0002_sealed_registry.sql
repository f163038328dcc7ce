-- Personal data sealed at rest (see simpul_store::vault). The registry tables of 0001 held
-- names and numbers in clear; they are replaced, not converted: no hub ran on them outside
-- development, and a development data directory is seeded again on its next start.
DROP TABLE resident_name_tokens;
DROP TABLE residents;
DROP TABLE families;
DROP TABLE journal;

-- Facts about the store itself: which blind key built its indexes.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The append-only, totally ordered journal. `sequence` is gap-free from 1; `data` is the
-- event, sealed.
CREATE TABLE journal (
    sequence    INTEGER PRIMARY KEY,
    event_type  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    data        TEXT NOT NULL
);

-- Keyed by the blind index of the KK number; `pii` holds the number and the street, sealed.
CREATE TABLE families (
    no_kk_index    TEXT PRIMARY KEY,
    pii            TEXT NOT NULL,
    rt             INTEGER NOT NULL,
    rw             INTEGER NOT NULL,
    kelurahan      TEXT NOT NULL,
    head_nik_index TEXT NOT NULL
);

-- Keyed by the blind index of the NIK; `pii` holds the NIK, KK number, name, birth place
-- and date, occupation and parents' names, sealed. Codes and regions stay in clear.
CREATE TABLE residents (
    nik_index        TEXT PRIMARY KEY,
    no_kk_index      TEXT NOT NULL,
    pii              TEXT NOT NULL,
    sex              TEXT NOT NULL,
    religion         TEXT NOT NULL,
    marital_status   TEXT NOT NULL,
    relationship     TEXT NOT NULL,
    education        TEXT NOT NULL,
    citizenship      TEXT NOT NULL,
    status           TEXT NOT NULL,
    kelurahan        TEXT NOT NULL,
    kecamatan        TEXT NOT NULL,
    -- Order of the member on the family card.
    position         INTEGER NOT NULL,
    birth_date_index TEXT NOT NULL
);
CREATE INDEX residents_family ON residents (no_kk_index, position);
CREATE INDEX residents_kelurahan ON residents (kelurahan, nik_index);
CREATE INDEX residents_kecamatan ON residents (kecamatan, nik_index);
CREATE INDEX residents_birth_date ON residents (birth_date_index, nik_index);

-- Blind indexes of normalised name words, for search by name.
CREATE TABLE resident_name_tokens (
    token_index TEXT NOT NULL,
    nik_index   TEXT NOT NULL,
    PRIMARY KEY (token_index, nik_index)
) WITHOUT ROWID;
