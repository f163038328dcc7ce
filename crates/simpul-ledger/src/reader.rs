//! How proof generation reads a stored tree: [`NodeId`] names a complete subtree,
//! [`HashReader`] is the trait a store implements, and [`MemoryTree`] is the in-memory
//! implementation (for tests, the CLI's offline recomputation, and as the reference for
//! what a database-backed store must keep).

use std::convert::Infallible;

use crate::frontier::{Frontier, FrontierError};
use crate::hash::{Hash, node_hash};

/// A complete (perfect) subtree: the `2^level` leaves starting at leaf `index << level`.
///
/// Level 0 nodes are leaves. This is the addressing of the
/// [C2SP tlog-tiles](https://c2sp.org/tlog-tiles) and RFC 6962 logs, so a store laid out
/// by it can later serve tiles without a migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves; the subtree has `2^level` leaves.
    pub level: u8,
    /// Position among the nodes of the same level, from the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level` and `index`.
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The leaf node at `index`.
    pub const fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// The first leaf this node covers, or `None` when it lies beyond `u64` leaves.
    pub fn first_leaf(&self) -> Option<u64> {
        self.index
            .checked_shl(u32::from(self.level))
            .filter(|start| {
                // checked_shl only rejects shift amounts >= 64; dropping set bits is overflow too.
                start >> self.level == self.index
            })
    }
}

/// Read access to a stored tree, implemented by whoever keeps the log (the hub's store,
/// an exported bundle, [`MemoryTree`]).
///
/// Lookups return `Ok(None)` for a node the store does not hold and `Err` for a failure to
/// read it, so an outage is never reported as a missing (or tampered) entry.
pub trait HashReader {
    /// The store's own failure type ([`Infallible`] for memory).
    type Error: std::error::Error + 'static;

    /// The hash of leaf `index` (`SHA-256(0x00 || entry)`), if stored.
    fn leaf_hash(&self, index: u64) -> Result<Option<Hash>, Self::Error>;

    /// The hash of a complete subtree, if stored.
    ///
    /// The default computes it from the leaves, which takes `2^level` reads: fine for a
    /// small log, far too slow at 100 million leaves. A store that keeps the nodes
    /// [`Frontier::append_with`] reports overrides this, and then every proof costs
    /// O(log n) reads.
    fn node_hash(&self, node: NodeId) -> Result<Option<Hash>, Self::Error> {
        if node.level == 0 {
            return self.leaf_hash(node.index);
        }
        let (Some(left_index), Some(right_index)) = (
            node.index.checked_mul(2),
            node.index.checked_mul(2).and_then(|i| i.checked_add(1)),
        ) else {
            return Ok(None);
        };
        let child = node.level - 1;
        let Some(left) = self.node_hash(NodeId::new(child, left_index))? else {
            return Ok(None);
        };
        let Some(right) = self.node_hash(NodeId::new(child, right_index))? else {
            return Ok(None);
        };
        Ok(Some(node_hash(&left, &right)))
    }
}

/// A slice of leaf hashes is a (slow, leaf-only) tree.
impl HashReader for [Hash] {
    type Error = Infallible;

    fn leaf_hash(&self, index: u64) -> Result<Option<Hash>, Infallible> {
        Ok(usize::try_from(index)
            .ok()
            .and_then(|i| self.get(i))
            .copied())
    }
}

/// Node hashes fetched ahead, keyed by node: how an async store answers a proof. It asks
/// [`crate::inclusion_proof_nodes`] or [`crate::consistency_proof_nodes`] which nodes the
/// proof reads, loads them in one query, and runs the proof on the map, so the proof code
/// stays synchronous and free of any runtime.
impl<S: std::hash::BuildHasher> HashReader for std::collections::HashMap<NodeId, Hash, S> {
    type Error = Infallible;

    fn leaf_hash(&self, index: u64) -> Result<Option<Hash>, Infallible> {
        Ok(self.get(&NodeId::leaf(index)).copied())
    }

    fn node_hash(&self, node: NodeId) -> Result<Option<Hash>, Infallible> {
        Ok(self.get(&node).copied())
    }
}

/// A whole tree in memory: every complete node at every level, plus the frontier.
///
/// This is the shape a persistent store should copy: about two hashes (64 bytes) per
/// leaf, written once and never updated, and O(log n) reads per proof.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the hash of [`NodeId`] `(l, i)`.
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one leaf hash and returns its index.
    pub fn append(&mut self, leaf: Hash) -> Result<u64, FrontierError> {
        let levels = &mut self.levels;
        self.frontier.append_with(leaf, |node, hash| {
            let level = usize::from(node.level);
            if levels.len() <= level {
                levels.resize_with(level + 1, Vec::new);
            }
            // Nodes complete left to right, so each lands at the end of its level.
            levels[level].push(*hash);
        })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The frontier of the whole tree.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    fn stored(&self, node: NodeId) -> Option<Hash> {
        let index = usize::try_from(node.index).ok()?;
        self.levels
            .get(usize::from(node.level))?
            .get(index)
            .copied()
    }
}

impl HashReader for MemoryTree {
    type Error = Infallible;

    fn leaf_hash(&self, index: u64) -> Result<Option<Hash>, Infallible> {
        Ok(self.stored(NodeId::leaf(index)))
    }

    fn node_hash(&self, node: NodeId) -> Result<Option<Hash>, Infallible> {
        Ok(self.stored(node))
    }
}

/// The Merkle Tree Hash straight from its recursive definition in
/// [RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1): the
/// independent reference the fast code is tested against.
#[cfg(test)]
pub(crate) fn reference_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => crate::hash::empty_root(),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn memory_tree_nodes_equal_the_computed_subtree_hashes() -> Result<(), FrontierError> {
        let leaves: Vec<Hash> = (0..37u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MemoryTree::new();
        for leaf in &leaves {
            tree.append(*leaf)?;
        }
        for level in 0..6u8 {
            for index in 0..(37u64 >> level) {
                let node = NodeId::new(level, index);
                let Some(start) = node.first_leaf() else {
                    panic!("small node overflowed");
                };
                let start = start as usize;
                let expected = reference_root(&leaves[start..start + (1 << level)]);
                assert_eq!(tree.node_hash(node), Ok(Some(expected)));
                assert_eq!(leaves.node_hash(node), Ok(Some(expected)));
            }
            // The node just past the last complete one is not stored.
            let beyond = NodeId::new(level, 37u64 >> level);
            assert_eq!(tree.node_hash(beyond), Ok(None));
            assert_eq!(leaves.node_hash(beyond), Ok(None));
        }
        assert_eq!(tree.root(), reference_root(&leaves));
        Ok(())
    }

    #[test]
    fn first_leaf_reports_overflow_instead_of_wrapping() {
        assert_eq!(NodeId::new(3, 2).first_leaf(), Some(16));
        assert_eq!(NodeId::new(63, 1).first_leaf(), Some(1 << 63));
        assert_eq!(NodeId::new(63, 2).first_leaf(), None);
        assert_eq!(NodeId::new(64, 0).first_leaf(), None);
    }
}
