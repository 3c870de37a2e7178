//! `cargo xtask bench envelope`: Rust vs the Python kernel, measured in the same run.

use std::process::Command;

use anyhow::{bail, Context as _};
use ario_envelope::{canonicalize, sign_envelope, SigningKey};
use serde_json::{json, Value};

use crate::util::root;

/// Arguments of `xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What to measure (only `envelope` today).
    #[arg(default_value = "envelope")]
    target: String,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
}

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

fn json_line(out: &std::process::Output) -> anyhow::Result<Value> {
    if !out.status.success() {
        bail!(
            "benchmark process failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().context("no output")?;
    Ok(serde_json::from_str(last)?)
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if args.target != "envelope" {
        bail!("unknown benchmark {:?} (known: envelope)", args.target);
    }
    let peers = crate::peers::install()?;
    let envs = envelopes()?;
    let sizes: Vec<usize> = envs.iter().map(String::len).collect();
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("envelopes.json");
    std::fs::write(&file, serde_json::to_vec(&envs)?)?;
    let secs = args.seconds.to_string();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rust = json_line(
        &Command::new(cargo)
            .current_dir(root())
            .args([
                "run",
                "--quiet",
                "--release",
                "--locked",
                "-p",
                "ario-envelope",
                "--example",
                "verify_throughput",
                "--",
            ])
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

    let r = rust["rust_verify_per_s"].as_f64().context("rust rate")?;
    let bare = rust["bare_dalek_verify_per_s"]
        .as_f64()
        .context("bare rate")?;
    let p = py["python_verify_per_s"].as_f64().context("python rate")?;
    let avg = sizes.iter().sum::<usize>() / sizes.len().max(1);
    println!(
        "envelope verify, {} envelopes of ~{avg} bytes, {secs} s per measurement",
        envs.len()
    );
    println!("  {:<34} {:>12}", "implementation", "verifies/s");
    println!("  {:<34} {:>12.0}", "python ar-io-proof verify_envelope", p);
    println!(
        "  {:<34} {:>12.0}",
        "rust ario-envelope (bytes -> verdict)", r
    );
    println!("  {:<34} {:>12.0}", "rust bare ed25519-dalek verify", bare);
    println!("  rust / python        = {:.1}x   (target >= 50x)", r / p);
    println!(
        "  bare dalek / rust    = {:.2}x   (target <= 1.3x)",
        bare / r
    );
    Ok(())
}
