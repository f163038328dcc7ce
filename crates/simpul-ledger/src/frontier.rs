//! [`Frontier`]: the compact state of an append-only Merkle tree, enough to append the next
//! leaf and compute the root at any size in O(log n), without reading stored leaves.
//!
//! A tree of `n` leaves splits, left to right, into one perfect subtree per set bit of `n`
//! (a tree of 13 = 8 + 4 + 1 leaves has peaks of 8, 4 and 1 leaves). The frontier keeps
//! the root hash of each of these *peaks*. The [RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)
//! Merkle Tree Hash splits a range at the largest power of two smaller than its size, which
//! is exactly the leftmost peak, so the root is the peaks folded from the right:
//! `node(p0, node(p1, p2))`.

use crate::hash::{Hash, empty_root, node_hash};
use crate::reader::{HashReader, NodeId};

/// The peaks of a Merkle tree: one subtree root per set bit of the tree size, largest
/// (leftmost) first.
///
/// Appending costs one leaf plus, on average, one node hash (a carry chain as in binary
/// counting), so the hub's append rate is bounded by SHA-256, not by the tree size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

/// Why a frontier could not be built or grown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontierError {
    /// The number of peaks given is not the number of set bits in the tree size.
    #[error("a tree of {size} leaves has {expected} peaks, got {actual}")]
    PeakCount {
        /// The tree size given.
        size: u64,
        /// `size.count_ones()`.
        expected: u32,
        /// The number of peaks given.
        actual: usize,
    },
    /// The tree already holds `u64::MAX` leaves, the most a `u64` size can count.
    #[error("the tree is full")]
    Full,
}

impl Frontier {
    /// The empty tree.
    pub const fn new() -> Self {
        Self {
            size: 0,
            peaks: Vec::new(),
        }
    }

    /// Rebuilds a frontier from a saved size and its peaks (as returned by
    /// [`Frontier::peaks`]), largest first.
    pub fn from_peaks(size: u64, peaks: Vec<Hash>) -> Result<Self, FrontierError> {
        if peaks.len() != size.count_ones() as usize {
            return Err(FrontierError::PeakCount {
                size,
                expected: size.count_ones(),
                actual: peaks.len(),
            });
        }
        Ok(Self { size, peaks })
    }

    /// Rebuilds the frontier of the first `size` leaves from stored node hashes: one read
    /// per peak, so the hub restarts in O(log n) reads rather than rehashing the log.
    pub fn from_reader<R: HashReader + ?Sized>(
        size: u64,
        reader: &R,
    ) -> Result<Self, crate::proof::ProofError<R::Error>> {
        let mut peaks = Vec::with_capacity(size.count_ones() as usize);
        for node in peak_nodes(size) {
            peaks.push(crate::proof::read_node(reader, node)?);
        }
        Ok(Self { size, peaks })
    }

    /// The number of leaves appended so far.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The peak hashes, largest (leftmost) subtree first.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends one leaf hash and returns its index.
    pub fn append(&mut self, leaf: Hash) -> Result<u64, FrontierError> {
        self.append_with(leaf, |_, _| {})
    }

    /// Appends one leaf hash, calling `on_complete` for every node that this leaf completes
    /// (the leaf itself at level 0, then each merged peak), and returns the leaf's index.
    ///
    /// Complete nodes never change again, so a store that saves them can answer every
    /// later proof in O(log n) reads (see [`HashReader::node_hash`]).
    pub fn append_with(
        &mut self,
        leaf: Hash,
        mut on_complete: impl FnMut(NodeId, &Hash),
    ) -> Result<u64, FrontierError> {
        let index = self.size;
        let new_size = index.checked_add(1).ok_or(FrontierError::Full)?;
        let mut hash = leaf;
        on_complete(NodeId::leaf(index), &hash);
        let mut level = 0u8;
        // Each set low bit of the old size is a peak of the same height as `hash`: merge
        // them like a carry in binary addition.
        while (index >> level) & 1 == 1 {
            let Some(left) = self.peaks.pop() else {
                // Unreachable while `peaks.len() == size.count_ones()`, which every
                // constructor checks; kept as a no-op rather than a panic.
                break;
            };
            hash = node_hash(&left, &hash);
            level += 1;
            on_complete(NodeId::new(level, index >> level), &hash);
        }
        self.peaks.push(hash);
        self.size = new_size;
        Ok(index)
    }

    /// The Merkle Tree Hash of all leaves appended so far
    /// ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)),
    /// `SHA-256()` for the empty tree.
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(last) = peaks.next() else {
            return empty_root();
        };
        peaks.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// The nodes of the peaks of a tree of `size` leaves, largest first.
pub fn peak_nodes(size: u64) -> impl Iterator<Item = NodeId> {
    (0..64u8).rev().filter_map(move |level| {
        if (size >> level) & 1 == 0 {
            return None;
        }
        // There are `size >> level` complete nodes at this level and the peak is the last
        // of them; that count is odd here, so clearing its low bit gives the peak's index.
        Some(NodeId::new(level, (size >> level) & !1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::reader::reference_root;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn root_matches_the_recursive_definition_for_every_size_up_to_70() -> Result<(), FrontierError>
    {
        let all = leaves(70);
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), empty_root());
        for (i, leaf) in all.iter().enumerate() {
            assert_eq!(frontier.append(*leaf)?, i as u64);
            assert_eq!(
                frontier.root(),
                reference_root(&all[..=i]),
                "size {}",
                i + 1
            );
            assert_eq!(
                frontier.peaks().len(),
                frontier.size().count_ones() as usize
            );
        }
        Ok(())
    }

    #[test]
    fn append_reports_each_completed_node_once_in_order() -> Result<(), FrontierError> {
        let mut frontier = Frontier::new();
        let mut seen = Vec::new();
        for leaf in leaves(8) {
            frontier.append_with(leaf, |node, _| seen.push((node.level, node.index)))?;
        }
        let expected = [
            (0, 0),
            (0, 1),
            (1, 0),
            (0, 2),
            (0, 3),
            (1, 1),
            (2, 0),
            (0, 4),
            (0, 5),
            (1, 2),
            (0, 6),
            (0, 7),
            (1, 3),
            (2, 1),
            (3, 0),
        ];
        assert_eq!(seen, expected);
        Ok(())
    }

    #[test]
    fn from_peaks_checks_the_count_and_restores_the_same_state() -> Result<(), FrontierError> {
        let mut frontier = Frontier::new();
        for leaf in leaves(13) {
            frontier.append(leaf)?;
        }
        let restored = Frontier::from_peaks(13, frontier.peaks().to_vec())?;
        assert_eq!(restored, frontier);
        assert_eq!(
            Frontier::from_peaks(12, frontier.peaks().to_vec()),
            Err(FrontierError::PeakCount {
                size: 12,
                expected: 2,
                actual: 3
            })
        );
        Ok(())
    }

    #[test]
    fn a_full_tree_refuses_to_grow_instead_of_wrapping() {
        let peaks = vec![Hash::default(); 64];
        let Ok(mut full) = Frontier::from_peaks(u64::MAX, peaks) else {
            panic!("u64::MAX has 64 set bits");
        };
        assert_eq!(full.append(Hash::default()), Err(FrontierError::Full));
        assert_eq!(full.size(), u64::MAX);
    }

    #[test]
    fn peak_nodes_cover_the_tree_left_to_right() {
        let nodes: Vec<_> = peak_nodes(13).map(|n| (n.level, n.index)).collect();
        // 13 = 8 + 4 + 1: leaves [0, 8), [8, 12), [12, 13).
        assert_eq!(nodes, [(3, 0), (2, 2), (0, 12)]);
        assert_eq!(peak_nodes(0).count(), 0);
    }
}
