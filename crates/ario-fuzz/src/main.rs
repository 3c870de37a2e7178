//! `ario-fuzz <TARGET|all> --secs N`: runs the fuzz targets and exits 1
//! when any input crashed (the inputs are saved for regression tests).

use std::path::PathBuf;

use ario_fuzz::{fuzz, seeds, Target};
use clap::Parser;

/// Fuzz the parsers of outside input.
#[derive(Debug, Parser)]
struct Args {
    /// The targets (default: all).
    #[arg(value_enum)]
    targets: Vec<Target>,
    /// Seconds per target.
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    /// Seed of the mutation stream (runs are reproducible).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The checked-in corpus (one folder per target).
    #[arg(long, default_value = "fuzz/corpus")]
    corpus: PathBuf,
    /// Where crashing inputs go.
    #[arg(long, default_value = "target/fuzz-crashes")]
    crashes: PathBuf,
    /// Write the built-in seeds into the corpus folders and stop.
    #[arg(long)]
    write_seeds: bool,
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    let a = Args::parse();
    let targets = if a.targets.is_empty() {
        Target::ALL.to_vec()
    } else {
        a.targets.clone()
    };
    if a.write_seeds {
        for t in targets {
            let dir = a.corpus.join(t.name());
            std::fs::create_dir_all(&dir)?;
            for (i, s) in seeds(t, None).iter().enumerate() {
                std::fs::write(dir.join(format!("seed-{i:02}")), s)?;
            }
        }
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let mut crashed = false;
    for t in targets {
        let r = fuzz(t, a.secs, a.seed, Some(&a.corpus), &a.crashes);
        println!(
            "{:<12} {:>12} inputs in {:>6.1} s from {} seeds, {} crash(es)",
            t.name(),
            r.inputs,
            r.elapsed.as_secs_f64(),
            r.seeds,
            r.crashes.len()
        );
        for (path, msg) in &r.crashes {
            println!("  crash: {} — {msg}", path.display());
        }
        crashed |= !r.crashes.is_empty();
    }
    Ok(if crashed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    })
}
