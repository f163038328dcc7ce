//! Proof verification, step for step as
//! [RFC 9162 §2.1.3.2](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3.2)
//! (inclusion) and [RFC 9162 §2.1.4.2](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.4.2)
//! (consistency) write it. This is what an auditor's CLI and a witness run against data
//! from a hub they do not trust, so every input is hostile: a malformed proof of any
//! length is a [`VerifyError`], never a panic, and the loops are bounded by the proof's
//! length and by the 64 bits of the sizes.

use crate::hash::{Hash, node_hash};

/// Why a proof does not verify.
///
/// The shape errors ([`VerifyError::ProofTooLong`], [`VerifyError::ProofTooShort`]) are
/// kept apart from the mismatches because they tell an operator that the prover and the
/// verifier disagree about sizes, while a mismatch means different data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Inclusion: the leaf index is not below the tree size (RFC 9162 §2.1.3.2 step 1).
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// Consistency: the first size is larger than the second.
    #[error("first tree size {first} is larger than second tree size {second}")]
    SizesReversed {
        /// The older size.
        first: u64,
        /// The newer size.
        second: u64,
    },
    /// Consistency from the empty tree: RFC 9162 §2.1.4.2 requires `0 < first`, and such a
    /// proof would show nothing.
    #[error("a consistency proof from the empty tree proves nothing")]
    EmptyFirstTree,
    /// The proof has more hashes than the sizes call for.
    #[error("the proof has more hashes than the tree sizes need")]
    ProofTooLong,
    /// The proof has fewer hashes than the sizes call for (including an empty
    /// consistency proof between different sizes, RFC 9162 §2.1.4.2 step 1).
    #[error("the proof has fewer hashes than the tree sizes need")]
    ProofTooShort,
    /// Inclusion: the proof leads to a different root.
    #[error("the inclusion proof does not lead to the given root")]
    RootMismatch,
    /// Consistency: the proof does not reproduce the older root.
    #[error("the consistency proof does not reproduce the first root")]
    FirstRootMismatch,
    /// Consistency: the proof does not reproduce the newer root.
    #[error("the consistency proof does not reproduce the second root")]
    SecondRootMismatch,
}

/// Checks that `leaf` is leaf number `index` of the tree of `size` leaves whose root is
/// `root`, given the audit path `proof`
/// ([RFC 9162 §2.1.3.2](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3.2)).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    // Step 1.
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    // Steps 2 and 3. `f` and `s` are the RFC's `fn` and `sn`: the leaf's and the last
    // leaf's position at the current level.
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    // Step 4.
    for p in proof {
        // 4a.
        if s == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        // 4b.
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                // A right-edge node with no sibling at these levels: climb past them.
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        // 4c.
        f >>= 1;
        s >>= 1;
    }
    // Step 5.
    if s != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    if r != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `first` leaves with root `first_root` is a prefix of the tree
/// of `second` leaves with root `second_root`, given the consistency proof `proof`
/// ([RFC 9162 §2.1.4.2](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.4.2)).
///
/// The RFC's algorithm covers `0 < first < second`. Equal sizes take the RFC 9162
/// §2.1.4.1 case `SUBPROOF(m, D[m], true) = {}`: the proof must be empty and the roots
/// equal. `first == 0` is refused ([`VerifyError::EmptyFirstTree`]), as the
/// transparency-dev vectors expect.
pub fn verify_consistency(
    first: u64,
    second: u64,
    proof: &[Hash],
    first_root: &Hash,
    second_root: &Hash,
) -> Result<(), VerifyError> {
    if first > second {
        return Err(VerifyError::SizesReversed { first, second });
    }
    if first == 0 {
        return Err(VerifyError::EmptyFirstTree);
    }
    if first == second {
        if !proof.is_empty() {
            return Err(VerifyError::ProofTooLong);
        }
        if first_root != second_root {
            return Err(VerifyError::SecondRootMismatch);
        }
        return Ok(());
    }
    // Step 1.
    let Some((head, rest)) = proof.split_first() else {
        return Err(VerifyError::ProofTooShort);
    };
    // Step 2: when the old tree is a complete subtree its root is the proof's implicit
    // first element, so every proof element is then one of `rest`.
    let (start, path) = if first.is_power_of_two() {
        (first_root, proof)
    } else {
        (head, rest)
    };
    // Step 3.
    let (mut f, mut s) = (first - 1, second - 1);
    // Step 4: skip the levels where the old tree's last node is a right child and thus
    // inside the node the proof starts from.
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // Step 5.
    let (mut fr, mut sr) = (*start, *start);
    // Step 6.
    for c in path {
        if s == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // Step 7.
    if s != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    if fr != *first_root {
        return Err(VerifyError::FirstRootMismatch);
    }
    if sr != *second_root {
        return Err(VerifyError::SecondRootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::proof::{consistency_proof, inclusion_proof};
    use crate::reader::reference_root;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn every_proof_in_small_trees_verifies_and_wrong_lengths_are_named() {
        let all = leaves(17);
        for size in 1..=17u64 {
            let root = reference_root(&all[..size as usize]);
            for index in 0..size {
                let Ok(proof) = inclusion_proof(all.as_slice(), index, size) else {
                    panic!("proof generation failed");
                };
                let leaf = &all[index as usize];
                assert_eq!(verify_inclusion(leaf, index, size, &proof, &root), Ok(()));
                let mut longer = proof.clone();
                longer.push(root);
                assert_eq!(
                    verify_inclusion(leaf, index, size, &longer, &root),
                    Err(VerifyError::ProofTooLong)
                );
                if !proof.is_empty() {
                    assert_eq!(
                        verify_inclusion(leaf, index, size, &proof[..proof.len() - 1], &root),
                        Err(VerifyError::ProofTooShort)
                    );
                }
            }
            for first in 1..=size {
                let first_root = reference_root(&all[..first as usize]);
                let Ok(proof) = consistency_proof(all.as_slice(), first, size) else {
                    panic!("proof generation failed");
                };
                assert_eq!(
                    verify_consistency(first, size, &proof, &first_root, &root),
                    Ok(()),
                    "{first} -> {size}"
                );
            }
        }
    }

    #[test]
    fn argument_errors_come_before_any_hashing() {
        let h = leaf_hash(b"x");
        assert_eq!(
            verify_inclusion(&h, 3, 3, &[], &h),
            Err(VerifyError::IndexOutOfRange { index: 3, size: 3 })
        );
        assert_eq!(
            verify_inclusion(&h, u64::MAX, 0, &[], &h),
            Err(VerifyError::IndexOutOfRange {
                index: u64::MAX,
                size: 0
            })
        );
        assert_eq!(
            verify_consistency(2, 1, &[], &h, &h),
            Err(VerifyError::SizesReversed {
                first: 2,
                second: 1
            })
        );
        assert_eq!(
            verify_consistency(0, 1, &[h], &h, &h),
            Err(VerifyError::EmptyFirstTree)
        );
        assert_eq!(
            verify_consistency(1, 2, &[], &h, &h),
            Err(VerifyError::ProofTooShort)
        );
        assert_eq!(
            verify_consistency(2, 2, &[h], &h, &h),
            Err(VerifyError::ProofTooLong)
        );
        assert_eq!(verify_consistency(2, 2, &[], &h, &h), Ok(()));
    }

    #[test]
    fn huge_sizes_with_garbage_proofs_fail_without_panicking() {
        let h = leaf_hash(b"x");
        let garbage = vec![h; 200];
        for len in [0, 1, 63, 64, 65, 200] {
            assert!(verify_inclusion(&h, u64::MAX - 1, u64::MAX, &garbage[..len], &h).is_err());
            assert!(verify_consistency(u64::MAX - 1, u64::MAX, &garbage[..len], &h, &h).is_err());
            assert!(verify_consistency(1 << 63, u64::MAX, &garbage[..len], &h, &h).is_err());
        }
    }
}
