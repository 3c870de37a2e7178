//! Envelope verification: Rust one at a time and batched (one core and
//! both) against the Python kernel and bare `ed25519-dalek`.

use std::process::Command;

use anyhow::Context as _;
use ario_envelope::{canonicalize, sign_envelope, SigningKey};
use serde_json::json;

use super::{example, json_line, num, Args, Row};
use crate::peers::Peers;
use crate::util::root;

/// ~600-byte mlflow envelopes with varied subjects, signed by varied keys.
fn envelopes() -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for i in 0u8..64 {
        let key = SigningKey::from_seed([i; 32]);
        let unsigned = json!({
            "spec_version": "ario.mlflow/v1",
            "event_id": format!("6f1c2d3e-4b5a-4c6d-8e7f-{:012x}", i),
            "event_type": "prediction",
            "subject": {"type": "mlflow_prediction", "decision_id": format!("9c8b7a6f-5e4d-4c3b-a291-{:012x}", i),
                        "model_run_id": "3f2a9c1b7d5e4f60a1b2c3d4e5f60718"},
            "payload_hash": ario_envelope::encoding::sha256_hex(&[i]),
            "previous_hash": "Zq3xY8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA6z",
            "signed_at": "2026-06-15T12:05:00.654321+00:00",
        });
        out.push(String::from_utf8(canonicalize(&sign_envelope(
            &unsigned, &key,
        )?)?)?);
    }
    Ok(out)
}

pub(crate) fn run(peers: &Peers, args: &Args) -> anyhow::Result<Vec<Row>> {
    let envs = envelopes()?;
    let sizes: Vec<usize> = envs.iter().map(String::len).collect();
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("envelopes.json");
    std::fs::write(&file, serde_json::to_vec(&envs)?)?;
    let secs = args.seconds.to_string();
    eprintln!("[bench] envelope verification ({secs} s per measurement)");
    let rust = json_line(
        &Command::new(example("verify_throughput"))
            .arg(&file)
            .arg(&secs)
            .output()?,
    )?;
    let py = json_line(
        &Command::new(&peers.python)
            .arg(root().join("xtask/python/bench_verify.py"))
            .arg(&file)
            .arg(&secs)
            .output()?,
    )?;
    let single = num(&rust, "rust_verify_per_s")?;
    let bare = num(&rust, "bare_dalek_verify_per_s")?;
    let batched = num(&rust, "rust_batched_per_s")?;
    let batched2 = num(&rust, "rust_batched_2_cores_per_s")?;
    let single2 = num(&rust, "rust_single_2_cores_per_s")?;
    let p = py["python_verify_per_s"].as_f64().context("python rate")?;
    let avg = sizes.iter().sum::<usize>() / sizes.len().max(1);
    let what = |s: &str| format!("envelope verify/s, {s} (~{avg} B envelopes)");
    let r = |x: f64| format!("{x:.0}");
    Ok(vec![
        Row::new(
            what("one at a time, 1 core"),
            r(single),
            format!("{} (Python ar-io-proof)", r(p)),
            format!("{:.1}x", single / p),
            "",
        ),
        Row::new(
            what("bare ed25519-dalek floor, 1 core"),
            r(bare),
            r(single),
            format!("{:.2}x of ours", bare / single),
            "<= 1.3x",
        ),
        Row::new(
            what("batched, 1 core"),
            r(batched),
            format!("{} (ours, one at a time)", r(single)),
            format!("{:.2}x", batched / single),
            ">= 2x",
        ),
        Row::new(
            what("batched, 2 cores"),
            r(batched2),
            format!("{} (ours one at a time, 2 cores)", r(single2)),
            format!("{:.2}x; {:.1}x Python", batched2 / single2, batched2 / p),
            "",
        ),
    ])
}
