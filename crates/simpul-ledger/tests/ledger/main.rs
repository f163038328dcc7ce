//! Integration tests of simpul-ledger, compiled as one binary: the public Merkle proof
//! test vectors, the proof properties, the C2SP signed-note known answers and witness
//! cosignatures.

mod cosignature;
mod notes;
mod properties;
mod vectors;
