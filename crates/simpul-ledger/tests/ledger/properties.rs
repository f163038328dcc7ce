//! Property tests: for random logs, every inclusion and consistency proof the generator
//! produces verifies, and changing any single bit of a proof, a root or the leaf makes
//! verification fail.

use proptest::prelude::*;
use simpul_ledger::{
    Frontier, Hash, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, verify_consistency,
    verify_inclusion,
};

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut bytes = hash.to_bytes();
    bytes[(bit / 8) % 32] ^= 1 << (bit % 8);
    Hash::from_bytes(bytes)
}

/// A tree of `n` leaves whose entries are the given seeds, plus the root at every size
/// (from a separate frontier, so the store and the frontier check each other).
fn build(seeds: &[u64]) -> Result<(MemoryTree, Vec<Hash>), TestCaseError> {
    let mut tree = MemoryTree::new();
    let mut frontier = Frontier::new();
    let mut roots = vec![frontier.root()];
    for seed in seeds {
        let leaf = leaf_hash(&seed.to_be_bytes());
        tree.append(leaf)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        frontier
            .append(leaf)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        roots.push(frontier.root());
    }
    prop_assert_eq!(tree.root(), frontier.root());
    Ok((tree, roots))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_inclusion_proof_verifies_and_any_bit_flip_breaks_it(
        seeds in prop::collection::vec(any::<u64>(), 1..80),
        bit in 0usize..256,
    ) {
        let (tree, roots) = build(&seeds)?;
        for size in 1..=seeds.len() as u64 {
            let root = &roots[size as usize];
            for index in 0..size {
                let leaf = leaf_hash(&seeds[index as usize].to_be_bytes());
                let proof = inclusion_proof(&tree, index, size)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, root), Ok(()));
                prop_assert!(verify_inclusion(&flip(&leaf, bit), index, size, &proof, root).is_err());
                prop_assert!(verify_inclusion(&leaf, index, size, &proof, &flip(root, bit)).is_err());
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i], bit);
                    prop_assert!(verify_inclusion(&leaf, index, size, &bad, root).is_err());
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_any_bit_flip_breaks_it(
        seeds in prop::collection::vec(any::<u64>(), 1..80),
        bit in 0usize..256,
    ) {
        let (tree, roots) = build(&seeds)?;
        for second in 1..=seeds.len() as u64 {
            let second_root = &roots[second as usize];
            for first in 1..=second {
                let first_root = &roots[first as usize];
                let proof = consistency_proof(&tree, first, second)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(
                    verify_consistency(first, second, &proof, first_root, second_root),
                    Ok(())
                );
                prop_assert!(
                    verify_consistency(first, second, &proof, &flip(first_root, bit), second_root)
                        .is_err()
                );
                prop_assert!(
                    verify_consistency(first, second, &proof, first_root, &flip(second_root, bit))
                        .is_err()
                );
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i], bit);
                    prop_assert!(
                        verify_consistency(first, second, &bad, first_root, second_root).is_err()
                    );
                }
            }
        }
    }

    #[test]
    fn arbitrary_proofs_never_panic(
        index in any::<u64>(),
        size in any::<u64>(),
        raw in prop::collection::vec(any::<[u8; 32]>(), 0..70),
    ) {
        let proof: Vec<Hash> = raw.into_iter().map(Hash::from_bytes).collect();
        let h = leaf_hash(b"x");
        // The verdict is almost surely an error; the property is that there is one.
        let _ = verify_inclusion(&h, index, size, &proof, &h);
        let _ = verify_consistency(index, size, &proof, &h, &h);
    }
}
