//! Arweave deep hash (SHA-384 over a tree of blobs and lists).

use sha2::{Digest, Sha384};

/// A 48-byte deep-hash digest.
pub type DeepHash = [u8; 48];

/// A node of the structure being hashed.
#[derive(Debug, Clone, Copy)]
pub enum Chunk<'a> {
    /// A byte string.
    Blob(&'a [u8]),
    /// An ordered list of nodes.
    List(&'a [Chunk<'a>]),
}

fn sha384(parts: &[&[u8]]) -> DeepHash {
    let mut h = Sha384::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The deep hash of `chunk`.
pub fn deep_hash(chunk: &Chunk<'_>) -> DeepHash {
    match chunk {
        Chunk::Blob(b) => {
            let tag = sha384(&[b"blob", b.len().to_string().as_bytes()]);
            sha384(&[&tag, &sha384(&[b])])
        }
        Chunk::List(items) => {
            let mut acc = sha384(&[b"list", items.len().to_string().as_bytes()]);
            for item in *items {
                acc = sha384(&[&acc, &deep_hash(item)]);
            }
            acc
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_known_answers() {
        assert_eq!(
            hex::encode(deep_hash(&Chunk::Blob(&[1, 2, 3]))),
            "41300af79285f856e833164518c7ec4974f5869ec77ca3458113fe6c587680d050f9f6864fd77f9eb62bd4e2faea9ae8"
        );
        assert_eq!(
            hex::encode(deep_hash(&Chunk::Blob(&[]))),
            "fbf00cc444f5fea9dc3bedf62a13fba8ae87e7445fc910567a23bec4eb82fadb1143c433069314d8362983dc3c2e4a38"
        );
        assert_eq!(
            hex::encode(deep_hash(&Chunk::List(&[Chunk::Blob(&[1, 2, 3]), Chunk::Blob(&[4, 5, 6])]))),
            "4dacdcc81acd09f38c77a07a2a7ae81f77c61e6b97ee5cc7b92f3a7f258e8d5ba69d14d7d66070797b083873717c9896"
        );
    }
}
