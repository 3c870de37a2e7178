//! `cargo xtask vectors`: regenerates `test-vectors/` byte for byte.
//!
//! Every input is fixed (seed, event ids, timestamps), Ed25519 is
//! deterministic, and files are written as sorted, two-space-indented JSON, so
//! a regeneration that changes a byte means the kernel's behaviour changed.
//! `--check` compares instead of writing and fails on any drift.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use ario_envelope::encoding::sha256_hex;
use ario_envelope::{
    canonicalize, sign_envelope_with, verify_envelope_bytes, SignPolicy, SigningKey, Verdict,
    VerifyOptions,
};
use serde_json::{json, Value};

use crate::util::root;

/// Arguments of `xtask vectors`.
#[derive(Debug, clap::Args, Default)]
pub(crate) struct Args {
    /// Compare with the committed files instead of writing them.
    #[arg(long)]
    pub(crate) check: bool,
}

/// The published test seed shared with the upstream corpus.
pub(crate) const SEED_HEX: &str =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const FORMAT: &str = "ario-mlflow-rs/envelope-vector/v1";
const JCS_FORMAT: &str = "ario-mlflow-rs/jcs-vector/v1";

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let files = generate()?;
    let dir = root().join("test-vectors");
    if args.check {
        check(&dir, &files)
    } else {
        write(&dir, &files)
    }
}

fn write(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
    if dir.is_dir() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
    }
    eprintln!("wrote {} files under {}", files.len(), dir.display());
    Ok(())
}

fn check(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
    let mut drift = Vec::new();
    for (rel, bytes) in files {
        match std::fs::read(dir.join(rel)) {
            Ok(on_disk) if on_disk == *bytes => {}
            Ok(_) => drift.push(format!("changed: {rel}")),
            Err(_) => drift.push(format!("missing: {rel}")),
        }
    }
    let mut on_disk = Vec::new();
    list(dir, dir, &mut on_disk)?;
    for rel in on_disk {
        if !files.contains_key(&rel) {
            drift.push(format!("not generated: {rel}"));
        }
    }
    if !drift.is_empty() {
        bail!(
            "test-vectors/ is stale (run `cargo xtask vectors` and commit):\n  {}",
            drift.join("\n  ")
        );
    }
    eprintln!("test-vectors/: {} files, no drift", files.len());
    Ok(())
}

fn list(root_dir: &Path, dir: &Path, out: &mut Vec<String>) -> anyhow::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            list(root_dir, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root_dir) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

fn pretty(v: &Value) -> anyhow::Result<Vec<u8>> {
    // serde_json's map is sorted, so this output is stable.
    let mut s = serde_json::to_vec_pretty(v)?;
    s.push(b'\n');
    Ok(s)
}

/// One event of the mlflow profile with fixed identity.
struct Event {
    slug: &'static str,
    description: &'static str,
    event_type: &'static str,
    event_id: &'static str,
    signed_at: &'static str,
    previous_hash: &'static str,
    subject: Value,
    payload: Value,
}

const RUN_ID: &str = "3f2a9c1b7d5e4f60a1b2c3d4e5f60718";
const SOURCE: &str = "{\"url\": \"https://archive.ics.uci.edu/dataset/53/iris\"}";
const SCHEMA_HASH: &str = "d037a8448cec0440eafa2b2a0c94f6010ca003f12bcad28006a19692d95d61d1";

fn events() -> Vec<Event> {
    vec![
        Event {
            slug: "training-complete-01",
            description: "training_complete: params, 6-dp metrics, artifact checksums, one dataset input, metadata",
            event_type: "training_complete",
            event_id: "6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab",
            signed_at: "2026-06-15T12:00:00.123456+00:00",
            previous_hash: "GENESIS",
            subject: json!({"type": "mlflow_run", "run_id": RUN_ID}),
            payload: json!({
                "artifact_checksums": {
                    "MLmodel": "14f9efd2a3039f6fd2a95f6c497ca84aacf5d0528b760e2656f6a66dc4eda727",
                    "conda.yaml": "355a41fc403dbe0e7abc27b08e51543f1be83f1208b406f40678f82e5fe99027",
                    "model.pkl": "32ad9eb9527f0f606ecf7c35c7dd5d734d2f563968a98f0ef3695a3c77427fa0",
                    "python_env.yaml": "b6224d4d0b917277a1d4fff3ed9ec52c7a5d846201d9177e63fb5f31c32590ba",
                    "requirements.txt": "2d3da8c987e5cc58be5be698a8ba234b2b1844fba45446ac31a3a81a6fa6c8ad"
                },
                "dataset_inputs": [{
                    "context": "training", "digest": "5d9c1a7e", "name": "iris-train",
                    "schema_hash": SCHEMA_HASH, "source": SOURCE, "source_type": "http"
                }],
                "event_type": "training_complete", "git_commit": "", "metrics": {"accuracy": 0.966667},
                "params": {"max_iter": "200", "random_state": "42"}, "run_id": RUN_ID,
                "service_name": "ar-io-mlflow-quickstart", "source_name": "train_and_anchor.py"
            }),
        },
        Event {
            slug: "dataset-01",
            description: "standalone dataset anchor (no MLflow artifact; subject carries name and digest)",
            event_type: "dataset",
            event_id: "0b7e3f52-9d41-4c2a-b6e8-5a1f2c3d4e5f",
            signed_at: "2026-06-15T12:00:00.100000+00:00",
            previous_hash: "GENESIS",
            subject: json!({"type": "mlflow_dataset", "name": "iris-train", "digest": "5d9c1a7e"}),
            payload: json!({
                "digest": "5d9c1a7e", "event_type": "dataset", "name": "iris-train",
                "schema_hash": SCHEMA_HASH, "source": SOURCE, "source_type": "http"
            }),
        },
        Event {
            slug: "model-registered-01",
            description: "model_registered chained to the training transaction id",
            event_type: "model_registered",
            event_id: "a5b4c3d2-e1f0-4a9b-8c7d-6e5f4a3b2c1d",
            signed_at: "2026-06-15T12:01:00.000001+00:00",
            previous_hash: "kJ7vX2pQ8mNcLw9Yb4Tz_Fh1aGdRsE6oWpA1b2C3d4E",
            subject: json!({"type": "mlflow_model_version", "name": "iris-classifier", "version": "1"}),
            payload: json!({
                "artifact_hash": "37b40fcd1596ecfc91e656a9bf7cfaf5627ee3d9477cd943503328a511e2d0ee",
                "artifact_verified": true, "event_type": "model_registered", "model_name": "iris-classifier",
                "model_version": "1", "source": format!("runs:/{RUN_ID}/model"), "source_run_id": RUN_ID
            }),
        },
        Event {
            slug: "stage-transition-01",
            description: "stage_transition None -> Production, chained to the registration transaction id",
            event_type: "stage_transition",
            event_id: "c0ffee00-1234-4abc-9def-0123456789ab",
            signed_at: "2026-06-15T12:02:00+00:00",
            previous_hash: "Zq3xY8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA6z",
            subject: json!({"type": "mlflow_model_version", "name": "iris-classifier", "version": "1"}),
            payload: json!({
                "event_type": "stage_transition", "from_stage": "None", "model_name": "iris-classifier",
                "model_version": "1", "to_stage": "Production"
            }),
        },
        Event {
            slug: "prediction-01",
            description: "prediction with trace id, OTel ids and a float latency (exceeds 700 bytes)",
            event_type: "prediction",
            event_id: "1e2d3c4b-5a69-4788-9a6b-5c4d3e2f1a0b",
            signed_at: "2026-06-15T12:05:00.654321+00:00",
            previous_hash: "Zq3xY8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA6z",
            subject: json!({
                "type": "mlflow_prediction", "decision_id": "9c8b7a6f-5e4d-4c3b-a291-8f7e6d5c4b3a",
                "model_run_id": RUN_ID, "trace_id": "tr-0af7651916cd43dd8448eb211c80319c"
            }),
            payload: json!({
                "artifact_verified": true, "decision_id": "9c8b7a6f-5e4d-4c3b-a291-8f7e6d5c4b3a",
                "event_type": "prediction",
                "input_hash": "13d43b8acaa531e1380d1455bc59d1a7623a08374db3fa7f85fdf452f0a529a8",
                "latency_ms": 1.37, "mlflow_trace_id": "tr-0af7651916cd43dd8448eb211c80319c",
                "model_name": "credit-scorer", "model_uri": "models:/credit-scorer/1", "model_version": "1",
                "otel_span_id": "00f067aa0ba902b7", "otel_trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "output_hash": "1eee05979bc26e5bc80028d7b598a5ed9e69af39e95bca31376655e31f6d8d1f",
                "run_id": RUN_ID, "service_name": "credit-api"
            }),
        },
        Event {
            slug: "alias-set-01",
            description: "alias_set (additive ar-io-mlflow-rs event): alias 'champion' moved from no version to 1",
            event_type: "alias_set",
            event_id: "d1a5e7b0-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
            signed_at: "2026-06-15T12:03:00.500000+00:00",
            previous_hash: "Zq3xY8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA6z",
            subject: json!({"type": "mlflow_model_version", "name": "iris-classifier", "version": "1"}),
            payload: json!({
                "alias": "champion", "event_type": "alias_set", "model_name": "iris-classifier",
                "model_version": "1", "previous_version": null
            }),
        },
    ]
}

fn unsigned(e: &Event, payload_hash: &str, spec_version: Option<&str>) -> Value {
    let mut env = json!({
        "event_id": e.event_id,
        "event_type": e.event_type,
        "subject": e.subject,
        "payload_hash": payload_hash,
        "previous_hash": e.previous_hash,
        "signed_at": e.signed_at,
    });
    if let Some(sv) = spec_version {
        env["spec_version"] = json!(sv);
    }
    env
}

fn expect(v: &Verdict) -> Value {
    json!({
        "status": v.status,
        "ok": v.ok,
        "spec_version_status": v.spec_version_status,
        "signature_ok": v.signature_ok,
        "payload_hash_ok": v.payload_hash_ok,
        "legacy": v.legacy,
        "reasons": v.reasons,
    })
}

/// A verification case over (possibly tampered) bytes, with the kernel's verdict recorded.
fn case(envelope_bytes: &[u8], payload: Option<&[u8]>, allow_legacy: bool) -> Value {
    let verdict = verify_envelope_bytes(
        envelope_bytes,
        VerifyOptions {
            payload_bytes: payload,
            allow_legacy,
        },
    );
    json!({
        "envelope_bytes_hex": hex::encode(envelope_bytes),
        "payload_bytes_hex": payload.map(hex::encode),
        "allow_legacy": allow_legacy,
        "expect": expect(&verdict),
    })
}

struct Built {
    vector: Value,
    envelope_bytes: Vec<u8>,
    payload_bytes: Vec<u8>,
}

fn build(e: &Event, key: &SigningKey, spec_version: Option<&str>) -> anyhow::Result<Built> {
    let payload_bytes = canonicalize(&e.payload)?;
    let payload_hash = sha256_hex(&payload_bytes);
    let pre = unsigned(e, &payload_hash, spec_version);
    let signed = sign_envelope_with(&pre, key, SignPolicy::AnySpecVersion)?;
    let mut scope = signed.clone();
    if let Some(m) = scope.as_object_mut() {
        m.remove("signature");
    }
    let envelope_bytes = canonicalize(&signed)?;
    let vector = json!({
        "format": FORMAT,
        "description": e.description,
        "profile": spec_version,
        "fixed_keypair": {"ed25519_seed_hex": SEED_HEX, "ed25519_public_hex": key.public_key_hex()},
        "inputs": {"payload": e.payload, "envelope_pre_signature": pre},
        "expected_outputs": {
            "payload_jcs_bytes_hex": hex::encode(&payload_bytes),
            "payload_hash_hex": payload_hash,
            "envelope_for_sig_jcs_bytes_hex": hex::encode(canonicalize(&scope)?),
            "signature_hex": signed["signature"],
            "envelope_jcs_bytes_hex": hex::encode(&envelope_bytes),
            "envelope_size": envelope_bytes.len(),
        },
    });
    Ok(Built {
        vector,
        envelope_bytes,
        payload_bytes,
    })
}

fn finish(mut vector: Value, id: &str, cases: Vec<Value>) -> Value {
    vector["vector_id"] = json!(id);
    vector["cases"] = Value::Array(cases);
    vector
}

/// (name, description, envelope bytes, committed bytes) of one tampered variant.
type Tamper = (&'static str, &'static str, Vec<u8>, Option<Vec<u8>>);

/// Tampered variants of one valid envelope, each named after what it proves.
fn tampered(b: &Built) -> anyhow::Result<Vec<Tamper>> {
    let env = ario_envelope::json::parse(&b.envelope_bytes)?;
    let mutate = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| -> anyhow::Result<Vec<u8>> {
        let mut e = env.clone();
        if let Some(m) = e.as_object_mut() {
            f(m);
        }
        Ok(canonicalize(&e)?)
    };
    let mut flipped_payload = b.payload_bytes.clone();
    if let Some(last) = flipped_payload.last_mut() {
        *last ^= 0x01;
    }
    Ok(vec![
        (
            "tampered-payload-bytes",
            "one payload byte flipped after anchoring: binding fails, signature still valid",
            b.envelope_bytes.clone(),
            Some(flipped_payload),
        ),
        (
            "tampered-signature",
            "first signature nibble flipped",
            mutate(&|m| {
                if let Some(Value::String(s)) = m.get_mut("signature") {
                    let first = if s.starts_with('0') { "1" } else { "0" };
                    s.replace_range(0..1, first);
                }
            })?,
            Some(b.payload_bytes.clone()),
        ),
        (
            "tampered-previous-hash",
            "previous_hash rewritten after signing",
            mutate(&|m| {
                m.insert("previous_hash".into(), json!("GENESIS-rewritten"));
            })?,
            Some(b.payload_bytes.clone()),
        ),
        (
            "wrong-key",
            "public_key swapped for another key's",
            mutate(&|m| {
                m.insert("public_key".into(), json!(SigningKey::from_seed([9; 32]).public_key_hex()));
            })?,
            Some(b.payload_bytes.clone()),
        ),
        (
            "injected-field",
            "a non-annotation member added after signing",
            mutate(&|m| {
                m.insert("note".into(), json!("added later"));
            })?,
            Some(b.payload_bytes.clone()),
        ),
        (
            "annotation-added",
            "a `_tx_id` annotation added after signing: outside the mlflow signed scope, still verifies",
            mutate(&|m| {
                m.insert("_tx_id".into(), json!("kJ7vX2pQ8mNcLw9Yb4Tz_Fh1aGdRsE6oWpA1b2C3d4E"));
            })?,
            Some(b.payload_bytes.clone()),
        ),
        (
            "duplicate-key",
            "the envelope bytes repeat a member: refused as malformed",
            {
                let mut text = String::from_utf8(b.envelope_bytes.clone())?;
                text.insert_str(1, "\"event_type\":\"prediction\",");
                text.into_bytes()
            },
            Some(b.payload_bytes.clone()),
        ),
    ])
}

fn jcs_vectors() -> anyhow::Result<Value> {
    let inputs: &[(&str, &str)] = &[
        ("numbers-es6", "[333333333.33333329,1E30,4.50,2e-3,0.000001,1e-7,1e21,1e20,-0,-0.0,0.1,5e-324,1.7976931348623157e308]"),
        ("integers-beyond-2^53", "[9007199254740991,9007199254740992,9007199254740993,18446744073709551615,-9007199254740993]"),
        ("utf16-key-order", "{\"\u{E000}\":1,\"\u{1F600}\":2,\"a\":3,\"\u{00FC}\":4,\"\u{00F6}\":5,\"\":6,\"aa\":7}"),
        ("string-escapes", "[\"\\u0000\\u0001\\u001f\\b\\t\\n\\f\\r\\\"\\\\\\/\\u007f\\u2028\\u2029\",\"caf\u{00E9}\",\"\\ud83d\\ude00\"]"),
        ("nested-and-empty", "{\"b\":[],\"a\":{},\"c\":[{\"z\":null,\"y\":true,\"x\":false}]}"),
        ("depth-128", &("[".repeat(128) + &"]".repeat(128))),
        ("depth-129", &("[".repeat(129) + &"]".repeat(129))),
        ("lone-surrogate", "{\"k\":\"\\ud800\"}"),
        ("duplicate-key", "{\"a\":1,\"a\":2}"),
        ("number-overflow", "[1e400]"),
    ];
    let mut cases = Vec::new();
    for (name, text) in inputs {
        let outcome = match ario_envelope::json::parse_str(text) {
            Ok(v) => match canonicalize(&v) {
                Ok(c) => {
                    json!({"canonical_hex": hex::encode(&c), "canonical_text": String::from_utf8(c)?})
                }
                Err(e) => json!({"error": e.to_string()}),
            },
            Err(e) => json!({"error": ario_envelope::envelope::reason_for_json_error(&e).as_str()}),
        };
        cases.push(json!({"name": name, "input_json": text, "expect": outcome}));
    }
    Ok(json!({
        "format": JCS_FORMAT,
        "description": "RFC 8785 edge cases plus the kernel's strict-input refusals",
        "cases": cases,
    }))
}

/// Every file under `test-vectors/`, by relative path.
pub(crate) fn generate() -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let key = SigningKey::from_seed_hex(SEED_HEX)?;
    let mut files = BTreeMap::new();
    for e in events() {
        let b = build(&e, &key, Some("ario.mlflow/v1"))?;
        let id = format!("mlflow-{}", e.slug);
        let cases = vec![
            case(&b.envelope_bytes, Some(&b.payload_bytes), false),
            case(&b.envelope_bytes, None, false),
        ];
        files.insert(
            format!("mlflow/{id}.json"),
            pretty(&finish(b.vector.clone(), &id, cases))?,
        );
        if e.slug == "training-complete-01" {
            for (what, desc, env_bytes, payload) in tampered(&b)? {
                let tid = format!("mlflow-{what}-01");
                let mut v = b.vector.clone();
                v["description"] = json!(desc);
                let cases = vec![case(&env_bytes, payload.as_deref(), false)];
                files.insert(
                    format!("mlflow/{tid}.json"),
                    pretty(&finish(v, &tid, cases))?,
                );
            }
            let legacy = build(&e, &key, None)?;
            let mut v = legacy.vector.clone();
            v["description"] = json!("legacy (pre-0.2.0) envelope: no spec_version; verifies only when legacy is allowed");
            let cases = vec![
                case(&legacy.envelope_bytes, Some(&legacy.payload_bytes), true),
                case(&legacy.envelope_bytes, Some(&legacy.payload_bytes), false),
            ];
            files.insert(
                "mlflow/mlflow-legacy-training-complete-01.json".into(),
                pretty(&finish(v, "mlflow-legacy-training-complete-01", cases))?,
            );
            for (slug, sv) in [
                ("unsupported-major-01", "ario.mlflow/v99"),
                ("unsupported-minor-01", "ario.mlflow/v1.x"),
            ] {
                let u = build(&e, &key, Some(sv))?;
                let mut v = u.vector.clone();
                v["description"] = json!(format!(
                    "spec_version {sv}: validly signed, refused as unsupported"
                ));
                let cases = vec![case(&u.envelope_bytes, Some(&u.payload_bytes), true)];
                files.insert(
                    format!("mlflow/mlflow-{slug}.json"),
                    pretty(&finish(v, &format!("mlflow-{slug}"), cases))?,
                );
            }
        }
    }
    files.insert(
        "jcs/jcs-edge-cases-01.json".into(),
        pretty(&jcs_vectors()?)?,
    );
    files.insert(
        "trust/trust-decisions-01.json".into(),
        pretty(&crate::vectors_trust::trust_decisions()?)?,
    );
    let manifest: BTreeMap<&String, String> =
        files.iter().map(|(k, v)| (k, sha256_hex(v))).collect();
    files.insert(
        "MANIFEST.json".into(),
        pretty(&json!({"format": "ario-mlflow-rs/test-vectors/v1", "files": manifest}))?,
    );
    files.insert("README.md".into(), README.as_bytes().to_vec());
    Ok(files)
}

const README: &str = include_str!("vectors_readme.md");
