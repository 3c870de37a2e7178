//! RFC 9162 Merkle tree hashing: leaf and node hashes, root, audit paths, inclusion checks.
//!
//! Odd levels are never padded by duplication; the split is at the largest
//! power of two strictly below the leaf count.

use sha2::{Digest, Sha256};

/// A 32-byte SHA-256 digest.
pub type Hash = [u8; 32];

/// Root of the empty tree: SHA-256 of nothing.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Why an audit path could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("leaf index {index} is outside a tree of {size} leaves")]
pub struct IndexOutOfRange {
    /// The requested leaf.
    pub index: usize,
    /// The tree size.
    pub size: usize,
}

/// `SHA-256(0x00 ‖ leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

fn split(n: usize) -> usize {
    // largest power of two strictly below n (n >= 2)
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree head over leaf hashes (already `leaf_hash`ed).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path (bottom-up sibling hashes) proving leaf `index`.
pub fn audit_path(index: usize, leaves: &[Hash]) -> Result<Vec<Hash>, IndexOutOfRange> {
    if index >= leaves.len() {
        return Err(IndexOutOfRange {
            index,
            size: leaves.len(),
        });
    }
    let mut path = Vec::new();
    path_into(index, leaves, &mut path);
    Ok(path)
}

fn path_into(m: usize, leaves: &[Hash], path: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path_into(m, &leaves[..k], path);
        path.push(root(&leaves[k..]));
    } else {
        path_into(m - k, &leaves[k..], path);
        path.push(root(&leaves[..k]));
    }
}

/// True when `path` proves `leaf` at `index` in a tree of `size` leaves with `root`.
///
/// Never panics on hostile input; an out-of-range index, an empty tree, a
/// path too long or too short all give `false`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    path: &[Hash],
    expected_root: &Hash,
) -> bool {
    if size == 0 || index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *expected_root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(root(&[]), crate::encoding::sha256(b""));
        let l = leaves(1);
        assert_eq!(root(&l), l[0]);
        assert!(verify_inclusion(&l[0], 0, 1, &[], &l[0]));
        assert!(audit_path(1, &l).is_err());
    }

    #[test]
    fn rejects_hostile_proofs() {
        let l = leaves(7);
        let r = root(&l);
        let p = audit_path(5, &l).unwrap();
        assert!(verify_inclusion(&l[5], 5, 7, &p, &r));
        assert!(!verify_inclusion(&l[5], 7, 7, &p, &r));
        assert!(!verify_inclusion(&l[5], 5, 0, &p, &r));
        let doubled: Vec<Hash> = p.iter().chain(p.iter()).copied().collect();
        assert!(!verify_inclusion(&l[5], 5, 7, &doubled, &r));
        assert!(!verify_inclusion(&l[5], 5, 7, &p[..p.len() - 1], &r));
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_no_other_index_does(n in 1usize..70, pick in 0usize..70) {
            let l = leaves(n);
            let r = root(&l);
            let m = pick % n;
            let p = audit_path(m, &l).unwrap();
            prop_assert!(verify_inclusion(&l[m], m as u64, n as u64, &p, &r));
            if n > 1 {
                let other = (m + 1) % n;
                prop_assert!(!verify_inclusion(&l[m], other as u64, n as u64, &p, &r));
            }
        }
    }
}
