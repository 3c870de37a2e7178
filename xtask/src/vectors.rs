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
use crate::vectors_events::{events, Event};

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

/// Pretty JSON except `cases`, written one compact case per line (a table
/// of thousands of cases stays readable and small).
fn one_case_per_line(v: &Value) -> anyhow::Result<Vec<u8>> {
    let mut head = v.clone();
    let cases = head
        .as_object_mut()
        .and_then(|o| o.remove("cases"))
        .and_then(|c| c.as_array().cloned())
        .unwrap_or_default();
    let mut s = String::from_utf8(serde_json::to_vec_pretty(&head)?)?;
    // Reopen the object to append `cases` last.
    s.truncate(s.trim_end().len().saturating_sub(1));
    let s = s.trim_end().to_owned();
    let mut out = format!("{s},\n  \"cases\": [\n");
    for (i, c) in cases.iter().enumerate() {
        out.push_str("    ");
        out.push_str(&serde_json::to_string(c)?);
        out.push_str(if i + 1 < cases.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ]\n}\n");
    Ok(out.into_bytes())
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
        pretty(&crate::vectors_jcs::jcs_vectors()?)?,
    );
    files.insert(
        "mlflow/decisions/mlflow-decision-checkpoints-01.json".into(),
        pretty(&crate::vectors_decisions::decision_checkpoints()?)?,
    );
    files.insert(
        "trust/trust-decisions-01.json".into(),
        pretty(&crate::vectors_trust::trust_decisions()?)?,
    );
    files.insert(
        "ans104/ans104-data-items-01.json".into(),
        pretty(&crate::vectors_ans104::data_items()?)?,
    );
    files.insert(
        "attestations/attestations-01.json".into(),
        pretty(&crate::vectors_attestation::attestations()?)?,
    );
    files.insert(
        "recipes/payload-recipes-01.json".into(),
        pretty(&crate::vectors_recipes::payload_recipes()?)?,
    );
    files.insert(
        "verdict/verdict-decision-table-01.json".into(),
        one_case_per_line(&crate::vectors_verdict::decision_table())?,
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
