//! `cargo xtask bench`: one table of measurements, every ratio against the
//! peer measured in the same run on the same machine. Targets are printed
//! beside the figures, never asserted.
//!
//! - `envelope`: envelope verification, one at a time and batched, one core
//!   and both, against the Python kernel and bare `ed25519-dalek`;
//! - `decisions`: recording decisions — the batched recorder, our
//!   per-decision mode and the Python plugin's `VerifiedModel.predict` —
//!   against a real MLflow and the devnet;
//! - `hashing`: model-directory hashing against `sha256sum`;
//! - `verify-run`: `verify run` end to end against the Python plugin's.

mod decisions;
mod envelope;
mod hashing;
mod verify_run;

use std::process::{Command, Output};

use anyhow::{bail, Context as _};
use serde_json::Value;

use crate::util::root;

/// Arguments of `xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What to measure: `envelope`, `decisions`, `hashing`, `verify-run` or `all`.
    #[arg(default_value = "all")]
    target: String,
    /// Seconds per throughput measurement.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Decisions recorded by the batched recorder at full speed.
    #[arg(long, default_value_t = 1_000_000)]
    decisions: usize,
    /// Size of the model directory hashed, in MiB.
    #[arg(long, default_value_t = 1024)]
    model_mib: usize,
}

/// One line of the table.
pub(crate) struct Row {
    pub(crate) what: String,
    pub(crate) ours: String,
    pub(crate) peer: String,
    pub(crate) ratio: String,
    pub(crate) target: String,
}

impl Row {
    pub(crate) fn new(
        what: impl Into<String>,
        ours: impl Into<String>,
        peer: impl Into<String>,
        ratio: impl Into<String>,
        target: impl Into<String>,
    ) -> Self {
        Row {
            what: what.into(),
            ours: ours.into(),
            peer: peer.into(),
            ratio: ratio.into(),
            target: target.into(),
        }
    }
}

/// The last line of a measurement process's stdout, as JSON.
pub(crate) fn json_line(out: &Output) -> anyhow::Result<Value> {
    if !out.status.success() {
        bail!(
            "benchmark process failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().context("no output")?;
    serde_json::from_str(last).with_context(|| format!("not JSON: {last}"))
}

/// A number from a measurement.
pub(crate) fn num(v: &Value, k: &str) -> anyhow::Result<f64> {
    v[k].as_f64().with_context(|| format!("{k} missing in {v}"))
}

/// Builds the release binaries the measurements run.
pub(crate) fn build_release() -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root())
        .args([
            "build",
            "--quiet",
            "--release",
            "--locked",
            "-p",
            "ar-io-mlflow",
            "--bin",
            "ar-io-mlflow",
        ])
        .args(["-p", "ario-provenance", "--example", "bench_record"])
        .args(["--example", "bench_hash", "--example", "bench_verify_run"])
        .args(["-p", "ario-envelope", "--example", "verify_throughput"])
        .status()?;
    anyhow::ensure!(status.success(), "release build failed");
    Ok(())
}

/// A release example's path.
pub(crate) fn example(name: &str) -> std::path::PathBuf {
    root().join("target/release/examples").join(name)
}

/// The machine, for the table's heading.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or_else(String::new, |k| format!(", {} GiB", k / 1024 / 1024));
    format!("{cores} cores, {cpu}{mem}")
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let known = ["envelope", "decisions", "hashing", "verify-run", "all"];
    if !known.contains(&args.target.as_str()) {
        bail!(
            "unknown benchmark {:?} (known: {})",
            args.target,
            known.join(", ")
        );
    }
    let all = args.target == "all";
    let peers = crate::peers::install()?;
    build_release()?;
    let mut rows = Vec::new();
    if all || args.target == "decisions" {
        rows.extend(decisions::run(&peers, args)?);
    }
    if all || args.target == "envelope" {
        rows.extend(envelope::run(&peers, args)?);
    }
    if all || args.target == "hashing" {
        rows.extend(hashing::run(args)?);
    }
    if all || args.target == "verify-run" {
        rows.extend(verify_run::run(&peers)?);
    }
    println!("\nMachine: {}; {}", machine(), chrono_like_now());
    println!("\n| measurement | ours | peer | ratio | target |");
    println!("|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.what, r.ours, r.peer, r.ratio, r.target
        );
    }
    Ok(())
}

/// `date -u` (no date crate in the xtask).
fn chrono_like_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
