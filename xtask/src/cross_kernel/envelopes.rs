//! Envelopes signed by each kernel and verified by every other, with the
//! tri-state results compared.

use std::path::Path;

use ario_envelope::encoding::sha256_hex;
use ario_envelope::{
    canonicalize, sign_envelope_with, verify_envelope_bytes, SignPolicy, SigningKey,
    SpecVersionStatus, VerifyOptions,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::documents::gen_value;
use super::{peer_call, Args, Tally, SEED_HEX};

/// Our tri-state record for a verification, in the peers' vocabulary.
pub(super) fn ours_record(envelope: &[u8], payload: Option<&[u8]>, allow_legacy: bool) -> Value {
    let v = verify_envelope_bytes(
        envelope,
        VerifyOptions {
            payload_bytes: payload,
            allow_legacy,
        },
    );
    let spec = match v.spec_version_status {
        SpecVersionStatus::Supported => true,
        SpecVersionStatus::Legacy => allow_legacy,
        SpecVersionStatus::Unsupported => false,
    };
    json!({"ok": v.ok, "phk": v.payload_hash_ok, "sig": v.signature_ok, "spec": spec && v.status != ario_envelope::Status::Malformed})
}

fn peer_record(r: Option<&Value>) -> Value {
    let r = r.cloned().unwrap_or(Value::Null);
    json!({"ok": r["ok"], "phk": r["phk"], "sig": r["sig"], "spec": r["spec"]})
}

struct EnvCase {
    id: String,
    envelope: Vec<u8>,
    payload: Option<Vec<u8>>,
    allow_legacy: bool,
    /// Whether every kernel must accept it.
    must_pass: bool,
}

fn payload_for(rng: &mut ChaCha8Rng) -> Value {
    let mut budget = 12;
    let text = format!(
        "{{\"event_type\":\"training_complete\",\"metrics\":{},\"params\":{}}}",
        gen_value(rng, 1, &mut budget),
        gen_value(rng, 1, &mut budget)
    );
    ario_envelope::json::parse_str(&text)
        .unwrap_or_else(|_| json!({"event_type": "training_complete"}))
}

pub(super) fn envelopes(args: &Args, python: &Path, scripts: &Path) -> anyhow::Result<Tally> {
    let key = SigningKey::from_seed_hex(SEED_HEX)?;
    let mut rng = ChaCha8Rng::seed_from_u64(0xE4E1_0BE5);
    let mut ours: Vec<EnvCase> = Vec::new();
    let mut py_sign = Vec::new();
    for i in 0..args.envelopes {
        let payload = payload_for(&mut rng);
        let bytes = canonicalize(&payload)?;
        let hash = sha256_hex(&bytes);
        let base = json!({"event_id": format!("00000000-0000-4000-8000-{i:012}"), "signed_at": "2026-11-22T00:00:00Z", "previous_hash": "GENESIS"});
        for (profile, inline) in [
            ("ario.mlflow/v1", false),
            ("ario.agent/v1", true),
            ("ario.events/v1", false),
            ("ario.agent/v1.3", true),
        ] {
            let mut pre = base.clone();
            pre["spec_version"] = json!(profile);
            pre["event_type"] = json!("training_complete");
            if inline {
                pre["payload"] = payload.clone();
            } else {
                pre["payload_hash"] = json!(hash);
            }
            let signed = sign_envelope_with(&pre, &key, SignPolicy::AcceptedProfilesOnly)?;
            let env_bytes = canonicalize(&signed)?;
            let committed = (!inline).then(|| bytes.clone());
            let id = format!("ours-{profile}-{i}");
            ours.push(EnvCase {
                id: id.clone(),
                envelope: env_bytes.clone(),
                payload: committed.clone(),
                allow_legacy: false,
                must_pass: true,
            });
            // tampered: signature flipped, wrong committed bytes, injected member
            let mut t = signed.clone();
            t["note"] = json!("injected");
            ours.push(EnvCase {
                id: format!("{id}-injected"),
                envelope: canonicalize(&t)?,
                payload: committed.clone(),
                allow_legacy: false,
                must_pass: false,
            });
            let mut t = signed.clone();
            let sig = t["signature"].as_str().unwrap_or_default().to_owned();
            t["signature"] = json!(format!(
                "{}{}",
                if sig.starts_with('0') { "1" } else { "0" },
                &sig[1..]
            ));
            ours.push(EnvCase {
                id: format!("{id}-badsig"),
                envelope: canonicalize(&t)?,
                payload: committed.clone(),
                allow_legacy: false,
                must_pass: false,
            });
            if !inline {
                ours.push(EnvCase {
                    id: format!("{id}-wrongbytes"),
                    envelope: env_bytes.clone(),
                    payload: Some(b"{\"k\":\"v\"}".to_vec()),
                    allow_legacy: false,
                    must_pass: false,
                });
                ours.push(EnvCase {
                    id: format!("{id}-sigonly"),
                    envelope: env_bytes.clone(),
                    payload: None,
                    allow_legacy: false,
                    must_pass: true,
                });
            }
            let mut t = signed.clone();
            t["_annotation"] = json!("x");
            let must = profile.starts_with("ario.mlflow/");
            ours.push(EnvCase {
                id: format!("{id}-annotated"),
                envelope: canonicalize(&t)?,
                payload: committed.clone(),
                allow_legacy: false,
                must_pass: must,
            });
            py_sign.push(json!({"id": format!("py-{profile}-{i}"), "op": "sign", "envelope_json": pre.to_string(), "seed_hex": SEED_HEX, "_payload_hex": committed.map(hex::encode)}));
        }
        // legacy and unsupported versions
        let mut legacy = base.clone();
        legacy["payload_hash"] = json!(hash);
        let signed = sign_envelope_with(&legacy, &key, SignPolicy::AnySpecVersion)?;
        for allow in [true, false] {
            ours.push(EnvCase {
                id: format!("ours-legacy-{i}-{allow}"),
                envelope: canonicalize(&signed)?,
                payload: Some(bytes.clone()),
                allow_legacy: allow,
                must_pass: allow,
            });
        }
        legacy["spec_version"] = json!("ario.mlflow/v99");
        let signed = sign_envelope_with(&legacy, &key, SignPolicy::AnySpecVersion)?;
        ours.push(EnvCase {
            id: format!("ours-v99-{i}"),
            envelope: canonicalize(&signed)?,
            payload: Some(bytes.clone()),
            allow_legacy: true,
            must_pass: false,
        });
    }

    // Python verifies ours.
    let verify_cases: Vec<Value> = ours
        .iter()
        .map(|c| json!({"id": c.id, "op": "verify", "envelope_json": String::from_utf8_lossy(&c.envelope), "payload_hex": c.payload.as_ref().map(hex::encode), "allow_legacy": c.allow_legacy}))
        .collect();
    let py_verdicts = peer_call(python, &scripts.join("py_peer.py"), &verify_cases)?;
    let mut tally = Tally::default();
    for c in &ours {
        let mine = ours_record(&c.envelope, c.payload.as_deref(), c.allow_legacy);
        let theirs = peer_record(py_verdicts.get(&c.id));
        let pass_ok = mine["ok"] == json!(c.must_pass);
        if mine == theirs && pass_ok {
            tally.agreed += 1;
        } else {
            tally.disagreed.push(format!(
                "{} (must_pass={}): rust={mine} python={theirs}",
                c.id, c.must_pass
            ));
        }
    }

    // Python signs, we verify (and Python re-verifies its own, as a control).
    let signed_by_py = peer_call(python, &scripts.join("py_peer.py"), &py_sign)?;
    for req in &py_sign {
        let id = req["id"].as_str().unwrap_or_default();
        let Some(text) = signed_by_py
            .get(id)
            .and_then(|r| r.get("envelope_json"))
            .and_then(Value::as_str)
        else {
            tally.disagreed.push(format!("{id}: python did not sign"));
            continue;
        };
        let payload = req["_payload_hex"]
            .as_str()
            .and_then(|h| hex::decode(h).ok());
        tally.expect_fully_verified(id, "python", text, payload.as_deref());
        // our own signature of the same pre-image must be byte-identical (Ed25519 is deterministic)
        let pre = ario_envelope::json::parse_str(req["envelope_json"].as_str().unwrap_or("{}"))?;
        let mine_signed = canonicalize(&sign_envelope_with(
            &pre,
            &key,
            SignPolicy::AcceptedProfilesOnly,
        )?)?;
        let theirs = canonicalize(&ario_envelope::json::parse_str(text)?)?;
        if mine_signed == theirs {
            tally.agreed += 1;
        } else {
            tally
                .disagreed
                .push(format!("{id}: signed bytes differ between rust and python"));
        }
    }

    // The plugin (ar-io-mlflow ProofEngine) signs mlflow events; we verify. And it verifies ours.
    let mut plugin_cases = Vec::new();
    for i in 0..args.envelopes.min(40) {
        let payload = canonicalize(&payload_for(&mut rng))?;
        plugin_cases.push(json!({"id": format!("plugin-sign-{i}"), "op": "mlflow_sign", "payload_hex": hex::encode(&payload),
            "event_type": "training_complete", "subject": {"type": "mlflow_run", "run_id": format!("{i:032x}")},
            "previous_hash": "GENESIS", "seed_b64": key.seed_base64().as_str()}));
    }
    for c in ours
        .iter()
        .filter(|c| c.id.starts_with("ours-ario.mlflow/v1-"))
        .take(args.envelopes.min(40) * 3)
    {
        plugin_cases.push(json!({"id": format!("plugin-verify-{}", c.id), "op": "mlflow_verify",
            "envelope_json": String::from_utf8_lossy(&c.envelope), "payload_hex": c.payload.as_ref().map(hex::encode), "_must_pass": c.must_pass}));
    }
    let plugin = peer_call(python, &scripts.join("py_peer.py"), &plugin_cases)?;
    for req in &plugin_cases {
        let id = req["id"].as_str().unwrap_or_default();
        let r = plugin.get(id);
        if req["op"] == "mlflow_sign" {
            let payload = req["payload_hex"]
                .as_str()
                .and_then(|h| hex::decode(h).ok());
            match r
                .and_then(|r| r.get("envelope_json"))
                .and_then(Value::as_str)
            {
                Some(text) => tally.expect_fully_verified(id, "plugin", text, payload.as_deref()),
                None => tally
                    .disagreed
                    .push(format!("{id}: plugin did not sign: {r:?}")),
            }
        } else {
            let overall = r
                .and_then(|r| r.get("overall"))
                .cloned()
                .unwrap_or(Value::Null);
            if overall == req["_must_pass"] {
                tally.agreed += 1;
            } else {
                tally.disagreed.push(format!(
                    "{id}: plugin overall={overall}, expected {}",
                    req["_must_pass"]
                ));
            }
        }
    }
    Ok(tally)
}
