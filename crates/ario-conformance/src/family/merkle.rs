//! `merkle`: RFC 9162 Merkle tree vectors (`merkle-tree-*.json`): leaf hashes,
//! the root, and every inclusion proof (shared with `ario.events-v1`).

use ario_envelope::merkle::{audit_path, leaf_hash, root, verify_inclusion, Hash};
use serde_json::Value;

use crate::check::{canon, ensure, get, hash32, s, Check};

/// Runs one `merkle` vector.
pub(crate) fn check(v: &Value) -> Check {
    let leaves = get(v, &["leaves"])?
        .as_array()
        .ok_or("leaves is not an array")?;
    let n = get(v, &["leaf_count"])?.as_u64().ok_or("leaf_count")? as usize;
    ensure!(
        n == leaves.len(),
        "leaf_count {n} != {} leaves",
        leaves.len()
    );
    let mut hashes = Vec::with_capacity(n);
    for (i, l) in leaves.iter().enumerate() {
        let h = leaf_hash(&canon(get(l, &["leaf_object"])?)?);
        ensure!(
            hex::encode(h) == s(l, &["leaf_hash_hex"])?,
            "leaf {i} hash differs"
        );
        hashes.push(h);
    }
    let r = root(&hashes);
    ensure!(
        hex::encode(r) == s(v, &["expected_root_hex"])?,
        "root differs"
    );
    let proofs = get(v, &["inclusion_proofs"])?
        .as_array()
        .ok_or("inclusion_proofs")?;
    let expected_proofs = if n == 0 { 0 } else { n.min(3) };
    ensure!(
        proofs.len() == expected_proofs,
        "expected {expected_proofs} proofs, found {}",
        proofs.len()
    );
    check_proofs(proofs, &hashes, &r)?;
    Ok(())
}

/// Checks every `{leaf_index, audit_path_hex}` proof against the leaves and root:
/// it verifies, the audit path is reproduced exactly, and (n > 1) it fails at
/// the next index.
pub(crate) fn check_proofs(proofs: &[Value], hashes: &[Hash], r: &Hash) -> Check {
    let n = hashes.len();
    for p in proofs {
        let i = get(p, &["leaf_index"])?
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or("leaf_index")?;
        ensure!(i < n, "proof index {i} out of range for {n} leaves");
        let path: Vec<Hash> = get(p, &["audit_path_hex"])?
            .as_array()
            .ok_or("audit_path_hex")?
            .iter()
            .map(|h| {
                h.as_str()
                    .ok_or_else(|| "path entry".to_owned())
                    .and_then(hash32)
            })
            .collect::<Result<_, _>>()?;
        ensure!(
            verify_inclusion(&hashes[i], i as u64, n as u64, &path, r),
            "proof for leaf {i} does not verify"
        );
        ensure!(
            audit_path(i, hashes).map_err(|e| e.to_string())? == path,
            "audit path for leaf {i} differs"
        );
        if n > 1 {
            let other = (i + 1) % n;
            ensure!(
                !verify_inclusion(&hashes[i], other as u64, n as u64, &path, r),
                "proof for leaf {i} verifies at index {other}"
            );
        }
    }
    Ok(())
}
