//! `cargo xtask fuzz [TARGET…] --secs N [--release]`: the fuzz targets of
//! `ario-fuzz` over the checked-in corpus (`fuzz/corpus/`). CI runs a short
//! smoke; `docs/fuzzing.md` records the long runs.

use std::process::Command;

use crate::util::{root, sh};

/// Arguments of `xtask fuzz`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Targets (json, envelope, ans104, wallet, trust, mlflow-run, receipt,
    /// attestation); all when none is named.
    targets: Vec<String>,
    /// Seconds per target.
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    /// Seed of the mutation stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Build optimized (for long runs).
    #[arg(long)]
    release: bool,
}

impl Args {
    /// The short run of the test command: every target, two seconds each.
    pub(crate) fn smoke() -> Self {
        Args {
            targets: vec![],
            secs: 2.0,
            seed: 1,
            release: false,
        }
    }
}

pub(crate) fn run(a: &Args) -> anyhow::Result<()> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(root())
        .args(["run", "--quiet", "--locked", "-p", "ario-fuzz"]);
    if a.release {
        cargo.arg("--release");
    }
    cargo.arg("--").args(&a.targets).args([
        "--secs",
        &a.secs.to_string(),
        "--seed",
        &a.seed.to_string(),
    ]);
    sh(&mut cargo)
}
