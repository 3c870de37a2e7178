//! `test-vectors/ans104/`: ANS-104 data items of signature types 1 (Arweave
//! RSA-PSS) and 2 (Ed25519): fields → bytes → id, and tampered items a
//! verifier must refuse. Signatures are reproducible: Ed25519 is
//! deterministic and the RSA-PSS salts come from a seeded generator.

use std::sync::Mutex;

use ario_envelope::encoding::sha256_hex;
use ario_gateway::ans104::signer::Ed25519Signer;
use ario_gateway::ans104::{DataItem, ItemSigner, SignItemError, SignatureType, Tag, UnsignedItem};
use rand_chacha::rand_core::SeedableRng as _;
use rsa::pss::BlindedSigningKey;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::util::root;

/// Type 1 with a seeded salt source, so regenerating gives the same bytes.
struct SeededArweave {
    key: RsaPrivateKey,
    rng: Mutex<rand_chacha::ChaCha20Rng>,
}

impl ItemSigner for SeededArweave {
    fn signature_type(&self) -> SignatureType {
        SignatureType::Arweave
    }

    fn owner(&self) -> Vec<u8> {
        // The owner field exactly as the library's type-1 signer writes it.
        match ario_gateway::ans104::ArweaveSigner::new(self.key.clone()) {
            Ok(s) => s.owner(),
            Err(_) => Vec::new(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignItemError> {
        let sk = BlindedSigningKey::<Sha256>::new_with_salt_len(self.key.clone(), 32);
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let sig = sk
            .try_sign_with_rng(&mut *rng, message)
            .map_err(|e| SignItemError::Signer(e.to_string()))?;
        Ok(sig.to_vec())
    }
}

fn fields(item: &DataItem) -> Value {
    json!({
        "signature_type": item.signature_type.as_u16(),
        "owner_hex": hex::encode(&item.owner),
        "target_hex": item.target.map(hex::encode),
        "anchor_hex": item.anchor.map(hex::encode),
        "tags": item.tags.iter().map(|t| json!([t.name, t.value])).collect::<Vec<_>>(),
        "tag_bytes_hex": hex::encode(&item.tag_bytes),
        "data_hex": hex::encode(&item.data),
    })
}

fn valid(name: &str, item: &DataItem) -> Value {
    let bytes = item.to_bytes();
    json!({
        "name": name,
        "fields": fields(item),
        "signing_message_hex": hex::encode(item.signing_message()),
        "item_hex": hex::encode(&bytes),
        "expect": {
            "valid": true,
            "signature_hex": hex::encode(&item.signature),
            "id": item.id(),
            "owner_address": item.owner_address(),
            "item_sha256_hex": sha256_hex(&bytes),
        }
    })
}

fn tampered(name: &str, base: &DataItem, what: &str, mutate: impl Fn(&mut Vec<u8>)) -> Value {
    let mut bytes = base.to_bytes();
    mutate(&mut bytes);
    json!({"name": name, "description": what, "item_hex": hex::encode(&bytes), "expect": {"valid": false}})
}

fn unsigned(
    data: &[u8],
    tags: Vec<Tag>,
    target: Option<[u8; 32]>,
    anchor: Option<[u8; 32]>,
) -> UnsignedItem {
    UnsignedItem {
        target,
        anchor,
        tags,
        data: data.to_vec(),
    }
}

/// The vector file.
pub(crate) fn data_items() -> anyhow::Result<Value> {
    let jwk_path = root().join("crates/ario-gateway/tests/fixtures/arweave-test-wallet.json");
    let jwk: Value = serde_json::from_str(&std::fs::read_to_string(&jwk_path)?)?;
    let rsa = ario_gateway::wallet::rsa_from_jwk(&jwk).map_err(anyhow::Error::msg)?;
    let arweave = SeededArweave {
        key: rsa,
        rng: Mutex::new(rand_chacha::ChaCha20Rng::seed_from_u64(104)),
    };
    let mut seed = [0u8; 32];
    hex::decode_to_slice(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        &mut seed,
    )?;
    let ed = Ed25519Signer::from_seed(seed);
    let envelope = br#"{"event_type":"training_complete","spec_version":"ario.mlflow/v1"}"#;
    let tags = || {
        vec![
            Tag::new("Content-Type", "application/json"),
            Tag::new("App-Name", "ar-io-mlflow"),
            Tag::new("Event-Type", "training_complete"),
        ]
    };
    let mut cases = Vec::new();
    let t1 = unsigned(envelope, tags(), None, None).sign(&arweave)?;
    cases.push(valid("type1-tags-no-target-no-anchor", &t1));
    let t1b = unsigned(b"", vec![], Some([7u8; 32]), Some([9u8; 32])).sign(&arweave)?;
    cases.push(valid("type1-empty-data-target-anchor", &t1b));
    let t2 = unsigned(envelope, tags(), None, None).sign(&ed)?;
    cases.push(valid("type2-tags-no-target-no-anchor", &t2));
    let t2b = unsigned(
        "ünïcode ✓".as_bytes(),
        vec![Tag::new("Ario-Subject-Id", "iris/1")],
        None,
        Some([1u8; 32]),
    )
    .sign(&ed)?;
    cases.push(valid("type2-unicode-data-anchor", &t2b));
    for (base, prefix) in [(&t1, "type1"), (&t2, "type2")] {
        let (sig_len, owner_len) = base.signature_type.lengths();
        let data_at = base.to_bytes().len() - base.data.len();
        cases.push(tampered(
            &format!("{prefix}-data-byte-flipped"),
            base,
            "one byte of the data changed",
            |b| {
                b[data_at] ^= 1;
            },
        ));
        cases.push(tampered(
            &format!("{prefix}-signature-byte-flipped"),
            base,
            "one byte of the signature changed",
            |b| {
                b[2 + sig_len / 2] ^= 1;
            },
        ));
        cases.push(tampered(
            &format!("{prefix}-owner-byte-flipped"),
            base,
            "one byte of the owner key changed",
            |b| {
                b[2 + sig_len + owner_len / 2] ^= 1;
            },
        ));
        cases.push(tampered(
            &format!("{prefix}-truncated"),
            base,
            "the last byte removed",
            |b| {
                b.pop();
            },
        ));
    }
    Ok(json!({
        "format": "ario-mlflow-rs/ans104-vector/v1",
        "vector_id": "ans104-data-items-01",
        "description": "ANS-104 data items (types 1 and 2): fields, signing message, bytes, id; and tampered items",
        "cases": cases,
    }))
}
