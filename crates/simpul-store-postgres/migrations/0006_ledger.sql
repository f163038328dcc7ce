-- The tamper-evident ledger (simpul_store::ledger): one Merkle log over the journal and the
-- access log. Leaves hold references and digests, never personal data.

-- One row per leaf: `kind` is `journal` or `akses`, `sequence` the source row's, `digest`
-- the 32-byte SHA-256 of the source row's canonical form.
CREATE TABLE ledger_leaves (
    leaf_index BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,
    sequence   BIGINT NOT NULL,
    digest     BYTEA NOT NULL
);
-- The data subject's view finds the leaf of an access entry.
CREATE UNIQUE INDEX ledger_leaves_source ON ledger_leaves (kind, sequence);

-- Every complete Merkle node (level 0 = leaf hashes), written once: O(log n) proofs.
CREATE TABLE ledger_nodes (
    level      SMALLINT NOT NULL,
    node_index BIGINT NOT NULL,
    hash       BYTEA NOT NULL,
    PRIMARY KEY (level, node_index)
);

-- Signed checkpoints (C2SP tlog-checkpoint notes), one per size.
CREATE TABLE ledger_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL,
    at   TIMESTAMPTZ NOT NULL
);

-- Witnesses' cosignatures (C2SP tlog-cosignature lines), one per checkpoint and witness.
CREATE TABLE ledger_cosignatures (
    size    BIGINT NOT NULL,
    witness TEXT NOT NULL,
    line    TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (size, witness)
);
