//! The core of simpul's transparency log: Merkle hashing, proofs and signed checkpoints,
//! shared by the hub (which appends and proves), the CLI (which verifies offline) and
//! witnesses (which cosign). Pure: no files, no network, no clock, no async runtime and no
//! randomness. The store reads stored hashes through [`HashReader`]; keys and seeds come
//! from the caller.
//!
//! Everything follows public standards so that tools outside simpul can check the log:
//! - hashing and proofs: [RFC 9162 §2.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1)
//!   (the RFC 6962 Merkle tree, unchanged), tested against the transparency-dev proof
//!   vectors;
//! - checkpoints: [C2SP tlog-checkpoint](https://c2sp.org/tlog-checkpoint) inside a
//!   [C2SP signed note](https://c2sp.org/signed-note) with Ed25519 signatures, tested
//!   against the spec's and Go's `sumdb/note` known answers;
//! - witness cosignatures: [C2SP tlog-cosignature](https://c2sp.org/tlog-cosignature)
//!   `cosignature/v1` (Ed25519), tested against a checkpoint cosigned by a public witness.
//!
//! ```
//! use simpul_ledger::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The hub appends leaves and keeps the nodes (here in memory).
//! let mut tree = MemoryTree::new();
//! for entry in [b"event 1", b"event 2", b"event 3"] {
//!     tree.append(leaf_hash(entry))?;
//! }
//! // ...signs a checkpoint with a key whose seed it read from its key file...
//! let log_key = NoteSigner::from_seed(KeyName::new("simpul.example/ledger")?, &[9; 32]);
//! let checkpoint = Checkpoint::new("simpul.example/ledger", tree.size(), tree.root())?;
//! let signed = sign_checkpoint(&checkpoint, &log_key)?;
//! let proof = inclusion_proof(&tree, 1, tree.size())?;
//!
//! // An auditor holding only the published vkey checks both.
//! let vkey = NoteVerifier::from_vkey(&log_key.verifier().to_vkey())?;
//! let checked = verify_checkpoint(&signed, &[vkey])?;
//! verify_inclusion(&leaf_hash(b"event 2"), 1, checked.size(), &proof, checked.root())?;
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//! - [`hash`]: [`Hash`](struct@Hash), [`leaf_hash`], [`node_hash`], [`empty_root`] (RFC 9162 §2.1.1).
//! - [`frontier`]: [`Frontier`], the O(log n) append state that gives the root at any
//!   size and reports each completed node so a store can keep it.
//! - [`reader`]: [`NodeId`] (complete-subtree addressing), the [`HashReader`] trait a
//!   store implements, and [`MemoryTree`].
//! - [`proof`]: [`inclusion_proof`] and [`consistency_proof`] generation (RFC 9162
//!   §2.1.3.1, §2.1.4.1) from any [`HashReader`], and [`inclusion_proof_nodes`] /
//!   [`consistency_proof_nodes`], which list the nodes a proof reads so an async store
//!   can fetch them in one query and prove from a `HashMap`.
//! - [`verify`]: [`verify_inclusion`] and [`verify_consistency`] (RFC 9162 §2.1.3.2,
//!   §2.1.4.2) with the typed [`VerifyError`].
//! - [`key`]: note keys: [`KeyName`], [`NoteSigner`], [`NoteVerifier`] (vkeys), the key
//!   ID rule [`ed25519_key_id`].
//! - [`note`]: signed notes: [`Note`], [`sign_note`], [`open_note`].
//! - [`checkpoint`]: [`Checkpoint`], [`sign_checkpoint`], [`verify_checkpoint`].
//! - [`cosignature`]: witness cosignatures: [`CosignatureSigner`],
//!   [`CosignatureVerifier`] (type `0x04` vkeys), the key ID rule [`cosignature_key_id`],
//!   [`cosign_checkpoint`], [`verify_cosignature`], [`verify_cosignatures`].
//!
//! # What a store keeps
//!
//! A leaf is `SHA-256(0x00 || entry)`; what an entry holds (hashes and references, never
//! personal data) is decided by the hub, not here. For fast proofs a store keeps every
//! node [`Frontier::append_with`] reports, keyed by [`NodeId`] (about 64 bytes per leaf,
//! written once), and overrides [`HashReader::node_hash`]; then a proof costs O(log n)
//! reads at any log size. A store that keeps only leaves works too, at O(n) per proof.
//!
//! # Errors
//!
//! Each step has its own error enum ([`VerifyError`], [`ProofError`], [`NoteError`],
//! [`CheckpointError`], [`CosignatureError`], [`KeyError`], [`FrontierError`]) because
//! their callers act on different things: a failed proof is evidence against the log, a
//! missing node is a store problem, a bad key string is a configuration mistake.

pub mod checkpoint;
pub mod cosignature;
pub mod frontier;
pub mod hash;
pub mod key;
pub mod note;
pub mod proof;
pub mod reader;
pub mod verify;

pub use checkpoint::{Checkpoint, CheckpointError, sign_checkpoint, verify_checkpoint};
pub use cosignature::{
    ALG_COSIGNATURE_V1, CosignatureError, CosignatureSigner, CosignatureVerifier,
    MAX_COSIGNATURE_TIMESTAMP, VerifiedCosignature, cosign_checkpoint, cosignature_key_id,
    verify_cosignature, verify_cosignatures,
};
pub use frontier::{Frontier, FrontierError, peak_nodes};
pub use hash::{HASH_LEN, Hash, HashParseError, empty_root, leaf_hash, node_hash};
pub use key::{ALG_ED25519, KeyError, KeyName, NoteSigner, NoteVerifier, ed25519_key_id};
pub use note::{
    MAX_SIGNATURES, Note, NoteError, NoteSignature, VerifiedNote, open_note, sign_note,
};
pub use proof::{
    ProofError, consistency_proof, consistency_proof_nodes, inclusion_proof, inclusion_proof_nodes,
    range_hash,
};
pub use reader::{HashReader, MemoryTree, NodeId};
pub use verify::{VerifyError, verify_consistency, verify_inclusion};
