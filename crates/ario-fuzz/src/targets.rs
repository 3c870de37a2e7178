//! The fuzz targets: one per parser of outside input, each with built-in
//! seeds and the invariants that must hold on whatever it accepts.

// A broken invariant is reported by panicking: the runner catches it and
// saves the input.
#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use ario_envelope::envelope::{verify_envelope_bytes, Envelope, VerifyOptions};
use ario_envelope::keys::SigningKey;
use ario_envelope::rsa_pss::RsaJwk;
use ario_envelope::Status;
use ario_gateway::ans104::item::{DataItem, UnsignedItem};
use ario_gateway::ans104::tags::{decode, Tag};
use ario_gateway::config::GatewayConfig;
use ario_gateway::turbo::Receipt;
use ario_gateway::verify_service::{check_attestation, VerifyClient};
use ario_gateway::wallet::Wallet;
use ario_provenance::trust::TrustPolicy;
use serde_json::{json, Value};

/// A fuzz target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Strict JSON reader and RFC 8785 canonicalizer.
    Json,
    /// Envelope bytes to a verdict.
    Envelope,
    /// ANS-104 data items and their Avro tags.
    Ans104,
    /// Wallet files (RSA JWK, Solana `id.json`).
    Wallet,
    /// Trust files.
    Trust,
    /// MLflow `runs/get` answers fed to the training payload builder.
    MlflowRun,
    /// Turbo upload receipts.
    Receipt,
    /// ar.io Verify answers and their attestation check.
    Attestation,
    /// The devnet's HTTP handlers (uploads, GraphQL, Verify, reads).
    Devnet,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 9] = [
        Target::Json,
        Target::Envelope,
        Target::Ans104,
        Target::Wallet,
        Target::Trust,
        Target::MlflowRun,
        Target::Receipt,
        Target::Attestation,
        Target::Devnet,
    ];

    /// Its name (the corpus folder).
    pub fn name(self) -> &'static str {
        match self {
            Target::Json => "json",
            Target::Envelope => "envelope",
            Target::Ans104 => "ans104",
            Target::Wallet => "wallet",
            Target::Trust => "trust",
            Target::MlflowRun => "mlflow-run",
            Target::Receipt => "receipt",
            Target::Attestation => "attestation",
            Target::Devnet => "devnet",
        }
    }

    /// Built-in seeds (the checked-in corpus adds to them).
    pub fn seeds(self) -> Vec<Vec<u8>> {
        match self {
            Target::Json | Target::Envelope => vec![
                signed_envelope(),
                br#"{"a":[1,2.5e-7,-0,"\u00e9\ud83d\ude00"],"b":{"c":null,"d":true}}"#.to_vec(),
                format!("{}1{}", "[".repeat(127), "]".repeat(127)).into_bytes(),
            ],
            Target::Ans104 => vec![data_item(), data_item()[..80].to_vec()],
            Target::Wallet => vec![
                Wallet::generate_solana().1.as_bytes().to_vec(),
                br#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB","p":"AQAB","q":"AQAB","dp":"AQAB","dq":"AQAB","qi":"AQAB"}"#.to_vec(),
                b"5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3LLE".to_vec(),
            ],
            Target::Trust => vec![format!(
                "min_attestation_level = 3\n[[signer]]\nname = \"ci\"\npublic_key = \"{}\"\nnot_before = \"2026-01-01T00:00:00Z\"\nretired_at = \"2026-09-01T00:00:00+02:00\"\n[[uploader]]\naddress = \"owner\"\n",
                key().public_key_hex()
            )
            .into_bytes()],
            Target::MlflowRun => vec![json!({"run": {
                "info": {"run_id": "r1", "experiment_id": "1", "artifact_uri": "mlflow-artifacts:/1/r1/artifacts"},
                "data": {
                    "params": [{"key": "C", "value": "1.0"}],
                    "metrics": [{"key": "accuracy", "value": 0.97, "timestamp": 1, "step": 0}],
                    "tags": [{"key": "mlflow.source.name", "value": "train.py"}]
                },
                "inputs": {"dataset_inputs": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
                    "dataset": {"name": "iris", "digest": "2bf3ace3", "source_type": "local",
                                "source": "{\"uri\": \"x\"}", "schema": "{\"a\": 1}"}}]}
            }})
            .to_string()
            .into_bytes()],
            Target::Receipt => vec![json!({
                "id": "x".repeat(43), "owner": "y".repeat(43), "version": "0.2.0", "timestamp": 1,
                "deadlineHeight": 2, "dataCaches": ["arweave.net"], "fastFinalityIndexes": [],
                "winc": "0", "public": "AQAB", "signature": "AQAB"
            })
            .to_string()
            .into_bytes()],
            Target::Devnet => {
                let mut upload = vec![0u8, 0u8];
                upload.extend(data_item());
                vec![
                    upload,
                    [&[2u8, 0][..], br#"{"query":"{ transactions(first: 5) { edges { node { id } } } }"}"#].concat(),
                    [&[3u8, 0][..], format!(r#"{{"txId":"{}"}}"#, "t".repeat(43)).as_bytes()].concat(),
                    [&[4u8][..], "x".repeat(43).as_bytes(), &[0]].concat(),
                    [&[8u8, 0][..], br#"{"down":false}"#].concat(),
                ]
            }
            Target::Attestation => vec![json!({
                "verificationId": "vrf-1", "txId": "t".repeat(43), "level": 3,
                "existence": {"status": "confirmed"},
                "authenticity": {"signatureValid": true, "dataHash": "AQAB"},
                "owner": {"address": "owner"},
                "links": {"dashboard": "/verify/report/vrf-1"},
                "operatorPublicKey": "AQAB",
                "attestation": {"operator": "op", "gateway": "g", "attestedAt": "2026-01-01T00:00:00Z",
                    "signature": "AQAB", "payload": {"data_hash": "00", "tx_id": "t", "owner_address": "owner",
                    "operator": "op", "signature_verified": true}}
            })
            .to_string()
            .into_bytes()],
        }
    }

    /// Feeds one input; panics (caught by the runner) on a crash or a broken invariant.
    pub fn run(self, input: &[u8]) {
        match self {
            Target::Json => json_target(input),
            Target::Envelope => envelope_target(input),
            Target::Ans104 => ans104_target(input),
            Target::Wallet => {
                let _ = Wallet::from_json_text(&String::from_utf8_lossy(input), "fuzz");
            }
            Target::Trust => {
                if let Ok(p) =
                    TrustPolicy::parse(&String::from_utf8_lossy(input), Path::new("fuzz.toml"))
                {
                    let _ = p.judge(
                        Some(&key().public_key_hex()),
                        Some("2026-06-01T00:00:00Z"),
                        Ok(Some("owner")),
                    );
                }
            }
            Target::MlflowRun => {
                let _ = ario_provenance::training_payload_from_response(input, BTreeMap::new());
            }
            Target::Receipt => {
                if let Ok(r) = serde_json::from_slice::<Receipt>(input) {
                    let _ = (r.signature_valid(), r.signer_address(), r.signing_message());
                }
            }
            Target::Attestation => attestation_target(input),
            Target::Devnet => crate::devnet::run(input),
        }
    }
}

fn key() -> SigningKey {
    SigningKey::from_seed_hex(&"01".repeat(32)).unwrap_or_else(|_| SigningKey::generate())
}

fn signed_envelope() -> Vec<u8> {
    let env = json!({
        "event_id": "6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab", "event_type": "training_complete",
        "subject": {"type": "mlflow_run", "run_id": "r1"}, "payload_hash": "0".repeat(64),
        "previous_hash": "GENESIS", "signed_at": "2026-06-15T12:00:00+00:00",
        "spec_version": "ario.mlflow/v1", "public_key": key().public_key_hex(),
    });
    ario_envelope::envelope::sign_envelope(&env, &key())
        .ok()
        .and_then(|v| ario_envelope::jcs::canonicalize(&v).ok())
        .unwrap_or_default()
}

fn data_item() -> Vec<u8> {
    let (wallet, _) = Wallet::generate_solana();
    UnsignedItem {
        data: signed_envelope(),
        tags: vec![
            Tag::new("Content-Type", "application/json"),
            Tag::new("App-Name", "ar-io-mlflow"),
        ],
        target: None,
        anchor: Some([7; 32]),
    }
    .sign(wallet.signer())
    .map(|i| i.to_bytes())
    .unwrap_or_default()
}

fn json_target(input: &[u8]) {
    let Ok(v) = ario_envelope::json::parse(input) else {
        return;
    };
    let Ok(canon) = ario_envelope::jcs::canonicalize(&v) else {
        return;
    };
    let again = ario_envelope::json::parse(&canon).expect("canonical output parses");
    let twice = ario_envelope::jcs::canonicalize(&again).expect("canonical output canonicalizes");
    assert_eq!(canon, twice, "canonicalization is idempotent");
}

fn envelope_target(input: &[u8]) {
    for payload in [None, Some(input)] {
        let v = verify_envelope_bytes(
            input,
            VerifyOptions {
                payload_bytes: payload,
                allow_legacy: true,
            },
        );
        if v.status == Status::Verified {
            assert!(
                v.signature_ok && v.payload_hash_ok == Some(true),
                "verified needs both"
            );
        }
    }
    if let Ok(v) = ario_envelope::json::parse(input) {
        let _ = Envelope::from_value(v);
    }
}

fn ans104_target(input: &[u8]) {
    let _ = decode(input);
    if let Ok(item) = DataItem::parse(input) {
        let again =
            DataItem::parse(&item.to_bytes()).expect("a parsed item serializes to a parsable one");
        assert_eq!(again.id(), item.id(), "the id survives a round trip");
        let _ = item.verify();
    }
}

fn attestation_target(input: &[u8]) {
    let Ok(raw) = serde_json::from_slice::<Value>(input) else {
        return;
    };
    let Some(client) =
        VerifyClient::from_config(&GatewayConfig::default().with_devnet("http://127.0.0.1:9"))
    else {
        return;
    };
    let key = raw
        .get("operatorPublicKey")
        .and_then(Value::as_str)
        .map(|n| RsaJwk {
            n: n.to_owned(),
            e: "AQAB".into(),
        });
    let result = client.read_answer(raw);
    let owner = result.owner_address.clone();
    let _ = check_attestation(&result, key.as_ref(), "t", b"{}", owner.as_deref());
}
