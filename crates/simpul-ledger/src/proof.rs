//! Proof generation: inclusion proofs
//! ([RFC 9162 §2.1.3.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3.1)) and
//! consistency proofs ([RFC 9162 §2.1.4.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.4.1)),
//! read from any [`HashReader`].
//!
//! Both follow the RFC's recursive definitions, unrolled into loops over leaf ranges. Every
//! hash they need is the Merkle Tree Hash of a range `[lo, hi)` whose start is aligned to
//! the largest power of two below its size, so it is made of at most one stored complete
//! node per level: a proof costs O(log n) node reads when the store keeps nodes.

use std::cell::RefCell;
use std::convert::Infallible;

use crate::hash::{Hash, node_hash};
use crate::reader::{HashReader, NodeId};

/// Why a proof could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ProofError<E: std::error::Error + 'static> {
    /// Inclusion: the leaf index is not below the tree size.
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size asked for.
        size: u64,
    },
    /// Consistency: the sizes are not `0 < first <= second`. A proof from the empty tree
    /// proves nothing, and RFC 9162 defines none.
    #[error("no consistency proof from size {first} to size {second}")]
    InvalidSizes {
        /// The older tree size.
        first: u64,
        /// The newer tree size.
        second: u64,
    },
    /// The store does not hold a node the proof needs: the log is shorter than the size
    /// asked for, or rows are missing.
    #[error("node at level {} index {} is not stored", .0.level, .0.index)]
    Missing(NodeId),
    /// The store failed to read.
    #[error("reading the tree failed")]
    Store(#[source] E),
}

/// The inclusion proof (audit path) of leaf `index` in the tree of the first `size` leaves,
/// deepest sibling first, as
/// [RFC 9162 §2.1.3.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3.1) defines
/// `PATH(m, D[n])`.
pub fn inclusion_proof<R: HashReader + ?Sized>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<R::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // PATH(m, D[lo:hi]) appends the sibling subtree after the path inside the half that
    // holds m, so walking down from the root collects siblings top first.
    let mut path = Vec::with_capacity(64 - size.leading_zeros() as usize);
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            path.push(range_hash(reader, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(reader, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof between the trees of the first `first` and the first `second`
/// leaves, as [RFC 9162 §2.1.4.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.4.1)
/// defines `PROOF(m, D[n])`. Empty when the sizes are equal.
pub fn consistency_proof<R: HashReader + ?Sized>(
    reader: &R,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, ProofError<R::Error>> {
    if first == 0 || first > second {
        return Err(ProofError::InvalidSizes { first, second });
    }
    // SUBPROOF(m, D[lo:hi], b) appends one subtree hash after the subproof of the half it
    // recurses into; collect those top first, then the base case, then reverse.
    let mut tail = Vec::with_capacity(2 * (64 - second.leading_zeros() as usize));
    let (mut lo, mut hi, mut m) = (0u64, second, first);
    // b: whether D[lo:hi] is still a prefix of the original tree, whose root the verifier
    // already holds.
    let mut is_prefix = true;
    while m != hi - lo {
        let k = split_point(hi - lo);
        if m <= k {
            tail.push(range_hash(reader, lo + k, hi)?);
            hi = lo + k;
        } else {
            tail.push(range_hash(reader, lo, lo + k)?);
            lo += k;
            m -= k;
            is_prefix = false;
        }
    }
    let mut proof = Vec::with_capacity(tail.len() + 1);
    if !is_prefix {
        // SUBPROOF(m, D[m], false) = {MTH(D[m])}.
        proof.push(range_hash(reader, lo, hi)?);
    }
    proof.extend(tail.into_iter().rev());
    Ok(proof)
}

/// The Merkle Tree Hash of leaves `[lo, hi)`, `lo < hi`, from stored complete nodes.
///
/// Ranges that are not one complete node split like MTH itself, at the largest power of
/// two below their size; the left part is then a complete node whenever `lo` is aligned,
/// which it always is for the ranges the proofs above ask for.
pub fn range_hash<R: HashReader + ?Sized>(
    reader: &R,
    lo: u64,
    hi: u64,
) -> Result<Hash, ProofError<R::Error>> {
    let size = hi.saturating_sub(lo);
    if size == 0 {
        return Err(ProofError::InvalidSizes {
            first: lo,
            second: hi,
        });
    }
    if size.is_power_of_two() && lo.is_multiple_of(size) {
        // trailing_zeros of a u64 power of two is at most 63, so it fits in u8.
        let level = size.trailing_zeros() as u8;
        return read_node(reader, NodeId::new(level, lo >> level));
    }
    let k = split_point(size);
    let left = range_hash(reader, lo, lo + k)?;
    let right = range_hash(reader, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The complete nodes [`inclusion_proof`] reads for leaf `index` in a tree of `size`
/// leaves, in reading order: at most two per level. A store fetches these in one query
/// and answers the proof from a map (see the [`HashReader`] impl for `HashMap`).
pub fn inclusion_proof_nodes(index: u64, size: u64) -> Result<Vec<NodeId>, ProofError<Infallible>> {
    let planner = Planner::default();
    inclusion_proof(&planner, index, size)?;
    Ok(planner.nodes.into_inner())
}

/// The complete nodes [`consistency_proof`] reads from size `first` to size `second`, in
/// reading order.
pub fn consistency_proof_nodes(
    first: u64,
    second: u64,
) -> Result<Vec<NodeId>, ProofError<Infallible>> {
    let planner = Planner::default();
    consistency_proof(&planner, first, second)?;
    Ok(planner.nodes.into_inner())
}

/// A reader that records which nodes are asked for and answers each with a dummy hash.
/// Which nodes a proof reads depends only on the sizes, never on hash values, so a dry
/// run lists exactly the nodes the real run will read.
#[derive(Default)]
struct Planner {
    nodes: RefCell<Vec<NodeId>>,
}

impl HashReader for Planner {
    type Error = Infallible;

    fn leaf_hash(&self, index: u64) -> Result<Option<Hash>, Infallible> {
        self.node_hash(NodeId::leaf(index))
    }

    fn node_hash(&self, node: NodeId) -> Result<Option<Hash>, Infallible> {
        self.nodes.borrow_mut().push(node);
        Ok(Some(Hash::default()))
    }
}

/// Reads one complete node, turning absence into [`ProofError::Missing`].
pub(crate) fn read_node<R: HashReader + ?Sized>(
    reader: &R,
    node: NodeId,
) -> Result<Hash, ProofError<R::Error>> {
    reader
        .node_hash(node)
        .map_err(ProofError::Store)?
        .ok_or(ProofError::Missing(node))
}

/// The largest power of two strictly smaller than `n`, for `n >= 2`: where MTH splits a
/// range of `n` leaves ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)).
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::reader::{MemoryTree, reference_root};
    use std::collections::HashMap;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn split_point_is_the_largest_power_of_two_below() {
        let cases = [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (u64::MAX, 1 << 63),
        ];
        for (n, k) in cases {
            assert_eq!(split_point(n), k, "n = {n}");
        }
    }

    #[test]
    fn range_hash_equals_the_reference_for_every_range() -> Result<(), ProofError<Infallible>> {
        let all = leaves(20);
        for lo in 0..20 {
            for hi in lo + 1..=20 {
                let expected = reference_root(&all[lo as usize..hi as usize]);
                assert_eq!(
                    range_hash(all.as_slice(), lo, hi)?,
                    expected,
                    "[{lo}, {hi})"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn proofs_match_the_rfc_example_tree_of_seven_leaves() -> Result<(), ProofError<Infallible>> {
        // RFC 9162 §2.1.5, tree of 7 leaves d0..d6 (leaf hashes a..f and j, nodes g..l):
        // the inclusion proof of d3 is [c, g, l]; the consistency proof from 3 to 7 is
        // [c, d, g, l].
        let all = leaves(7);
        let hash = |lo: usize, hi: usize| reference_root(&all[lo..hi]);
        assert_eq!(
            inclusion_proof(all.as_slice(), 3, 7)?,
            [hash(2, 3), hash(0, 2), hash(4, 7)]
        );
        assert_eq!(
            consistency_proof(all.as_slice(), 3, 7)?,
            [hash(2, 3), hash(3, 4), hash(0, 2), hash(4, 7)]
        );
        // From 4 to 7 the old root is the complete subtree k, so the proof is [l]; from 6
        // to 7 it is [i, j, k].
        assert_eq!(consistency_proof(all.as_slice(), 4, 7)?, [hash(4, 7)]);
        assert_eq!(
            consistency_proof(all.as_slice(), 6, 7)?,
            [hash(4, 6), hash(6, 7), hash(0, 4)]
        );
        Ok(())
    }

    #[test]
    fn planned_nodes_are_enough_to_answer_from_a_map() -> Result<(), ProofError<Infallible>> {
        let mut tree = MemoryTree::new();
        for leaf in leaves(1000) {
            let _ = tree.append(leaf);
        }
        let fetch = |nodes: Vec<NodeId>| -> HashMap<NodeId, Hash> {
            nodes
                .into_iter()
                .filter_map(|n| Some((n, tree.node_hash(n).ok()??)))
                .collect()
        };
        for (index, size) in [(0, 1), (0, 1000), (999, 1000), (517, 777), (512, 513)] {
            let planned = inclusion_proof_nodes(index, size)?;
            assert!(planned.len() <= 2 * 10, "{} reads", planned.len());
            let map = fetch(planned);
            assert_eq!(
                inclusion_proof(&map, index, size)?,
                inclusion_proof(&tree, index, size)?
            );
        }
        for (first, second) in [(1, 1000), (999, 1000), (300, 777), (512, 1000), (7, 7)] {
            let map = fetch(consistency_proof_nodes(first, second)?);
            assert_eq!(
                consistency_proof(&map, first, second)?,
                consistency_proof(&tree, first, second)?
            );
        }
        Ok(())
    }

    #[test]
    fn bad_arguments_and_short_stores_are_typed_errors() {
        let mut tree = MemoryTree::new();
        for leaf in leaves(5) {
            let _ = tree.append(leaf);
        }
        assert!(matches!(
            inclusion_proof(&tree, 5, 5),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        ));
        assert!(matches!(
            consistency_proof(&tree, 0, 5),
            Err(ProofError::InvalidSizes { .. })
        ));
        assert!(matches!(
            consistency_proof(&tree, 6, 5),
            Err(ProofError::InvalidSizes { .. })
        ));
        assert!(matches!(consistency_proof(&tree, 5, 5), Ok(p) if p.is_empty()));
        // Asking about a larger tree than is stored names the missing node.
        assert!(matches!(
            inclusion_proof(&tree, 0, 8),
            Err(ProofError::Missing(NodeId { level: 2, index: 1 }))
        ));
    }
}
