//! `test-vectors/attestations/`: ar.io Verify answers with operator
//! attestations, and the decision a verifier must reach on each (signature,
//! operator binding, data and transaction binding, level).

use std::sync::Mutex;

use ario_envelope::encoding::sha256_hex;
use ario_envelope::rsa_pss::RsaJwk;
use ario_gateway::verify_service::{check_attestation, VerifyResult};
use rand_chacha::rand_core::SeedableRng as _;
use rsa::pss::BlindedSigningKey;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
use rsa::traits::PublicKeyParts as _;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::util::root;

fn b64url(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn public_jwk(k: &RsaPrivateKey) -> Value {
    json!({"kty": "RSA", "n": b64url(&k.n().to_bytes_be()), "e": b64url(&k.e().to_bytes_be())})
}

struct Operator {
    key: RsaPrivateKey,
    rng: Mutex<rand_chacha::ChaCha20Rng>,
}

impl Operator {
    fn address(&self) -> String {
        b64url(&ario_envelope::encoding::sha256(
            &self.key.n().to_bytes_be(),
        ))
    }

    /// RSA-PSS-SHA256, salt 32, over JCS(payload); base64url.
    fn sign(&self, payload: &Value) -> anyhow::Result<String> {
        let msg = ario_envelope::jcs::canonicalize(payload)?;
        let sk = BlindedSigningKey::<Sha256>::new_with_salt_len(self.key.clone(), 32);
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        Ok(b64url(&sk.try_sign_with_rng(&mut *rng, &msg)?.to_vec()))
    }
}

const TX: &str = "2o8Uj3X7KqGEgIXMQb6qLc6ETeYjGrTdxNearCn8Jvw";
const OWNER: &str = "9e6wNQb_7yJv6a6Zp1cZ9Z2lrx7zD0iYbq3o2GJ6mFw";

fn payload(op: &Operator, envelope: &[u8], tx: &str, level: u8) -> Value {
    json!({
        "attestation_version": "ario.evidence.attestation/v1",
        "attested_at": "2026-12-02T12:00:00.000Z",
        "block_height": 1_650_000,
        "block_timestamp": 1_796_205_600,
        "data_hash": sha256_hex(envelope),
        "data_size": envelope.len(),
        "gateway": "https://gateway.example",
        "level": level,
        "operator": op.address(),
        "owner_address": OWNER,
        "signature_verified": level == 3,
        "tx_id": tx,
    })
}

fn answer(envelope: &[u8], level: u8, attestation: Option<Value>) -> Value {
    json!({
        "verificationId": "vrf-0001",
        "level": level,
        "existence": {"status": "confirmed"},
        "authenticity": {
            "status": if level == 3 { "signature_verified" } else { "hash_verified" },
            "signatureValid": level == 3,
            "dataHash": b64url(&ario_envelope::encoding::sha256(envelope)),
        },
        "owner": {"address": OWNER},
        "attestation": attestation,
    })
}

fn attestation(op: &Operator, p: &Value) -> anyhow::Result<Value> {
    Ok(json!({
        "operator": op.address(),
        "gateway": "https://gateway.example",
        "attestedAt": "2026-12-02T12:00:00.000Z",
        "payloadHash": b64url(&ario_envelope::encoding::sha256(&ario_envelope::jcs::canonicalize(p)?)),
        "payload": p,
        "signature": op.sign(p)?,
    }))
}

fn case(name: &str, raw: Value, jwk: &Value, envelope: &[u8]) -> anyhow::Result<Value> {
    let result = VerifyResult {
        verification_id: None,
        status: "confirmed".into(),
        level: raw
            .get("level")
            .and_then(Value::as_u64)
            .and_then(|l| u8::try_from(l).ok()),
        signature_valid: raw
            .pointer("/authenticity/signatureValid")
            .and_then(Value::as_bool),
        data_hash: raw
            .pointer("/authenticity/dataHash")
            .and_then(Value::as_str)
            .map(str::to_owned),
        owner_address: Some(OWNER.into()),
        report_url: None,
        pdf_url: None,
        attested_by: None,
        attested_at: None,
        raw: raw.clone(),
    };
    let key = RsaJwk::from_value(jwk).ok();
    let c = check_attestation(&result, key.as_ref(), TX, envelope, Some(OWNER));
    Ok(json!({
        "name": name,
        "inputs": {"answer": raw, "operator_jwk": jwk, "tx_id": TX, "envelope_hex": hex::encode(envelope), "owner_address": OWNER},
        "expect": {
            "signature_ok": c.signature_ok,
            "operator_bound": c.operator_bound,
            "data_hash_bound": c.data_hash_bound,
            "tx_bound": c.tx_bound,
            "level_ok": c.level_ok,
            "passed": c.passed(),
        }
    }))
}

/// The vector file.
pub(crate) fn attestations() -> anyhow::Result<Value> {
    let jwk_path = root().join("crates/ario-gateway/tests/fixtures/arweave-test-wallet.json");
    let jwk: Value = serde_json::from_str(&std::fs::read_to_string(&jwk_path)?)?;
    let op = Operator {
        key: ario_gateway::wallet::rsa_from_jwk(&jwk).map_err(anyhow::Error::msg)?,
        rng: Mutex::new(rand_chacha::ChaCha20Rng::seed_from_u64(3)),
    };
    let mut keygen = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let other = RsaPrivateKey::new(&mut keygen, 2048)?;
    let op_jwk = public_jwk(&op.key);
    let envelope = br#"{"event_type":"training_complete","spec_version":"ario.mlflow/v1"}"#;
    let good = payload(&op, envelope, TX, 3);
    let mut cases = vec![
        case(
            "valid-level-3",
            answer(envelope, 3, Some(attestation(&op, &good)?)),
            &op_jwk,
            envelope,
        )?,
        case(
            "wrong-operator-key",
            answer(envelope, 3, Some(attestation(&op, &good)?)),
            &public_jwk(&other),
            envelope,
        )?,
    ];
    let mut other_bytes = good.clone();
    other_bytes["data_hash"] = json!(sha256_hex(b"some other envelope"));
    cases.push(case(
        "attests-other-bytes",
        answer(envelope, 3, Some(attestation(&op, &other_bytes)?)),
        &op_jwk,
        envelope,
    )?);
    let other_tx = payload(
        &op,
        envelope,
        "UF1AQ8_f7fgo4Pcc8qNHfEBiS-VX1WKz2GBd9nIZ2QI",
        3,
    );
    cases.push(case(
        "attests-other-transaction",
        answer(envelope, 3, Some(attestation(&op, &other_tx)?)),
        &op_jwk,
        envelope,
    )?);
    let level2 = payload(&op, envelope, TX, 2);
    cases.push(case(
        "level-2-signature-not-checked",
        answer(envelope, 2, Some(attestation(&op, &level2)?)),
        &op_jwk,
        envelope,
    )?);
    let mut forged = op_jwk.clone();
    forged["e"] = json!("AQ");
    cases.push(case(
        "exponent-one-forgery",
        answer(envelope, 3, Some(attestation(&op, &good)?)),
        &forged,
        envelope,
    )?);
    let mut flipped = attestation(&op, &good)?;
    let sig = flipped["signature"].as_str().unwrap_or_default().to_owned();
    let swapped = match sig.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", sig.get(1..).unwrap_or_default()),
    };
    flipped["signature"] = json!(swapped);
    cases.push(case(
        "signature-changed",
        answer(envelope, 3, Some(flipped)),
        &op_jwk,
        envelope,
    )?);
    cases.push(case(
        "no-attestation",
        answer(envelope, 3, None),
        &op_jwk,
        envelope,
    )?);
    Ok(json!({
        "format": "ario-mlflow-rs/attestation-vector/v1",
        "vector_id": "attestations-01",
        "description": "ar.io Verify answers with operator attestations and the decision on each",
        "cases": cases,
    }))
}
