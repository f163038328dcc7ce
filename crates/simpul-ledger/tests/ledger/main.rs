//! Integration tests of simpul-ledger, compiled as one binary: the public Merkle proof
//! test vectors, the proof properties, and the C2SP signed-note known answers.

mod notes;
mod properties;
mod vectors;
