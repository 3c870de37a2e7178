//! Model-directory hashing (the recipe behind `ario.artifact_hash`) against
//! `sha256sum` over the same files, warm page cache, with peak memory.

use std::io::Write as _;
use std::process::Command;
use std::time::Instant;

use rand::RngCore as _;
use rand::SeedableRng as _;

use super::{example, json_line, num, Args, Row};
use crate::util::root;

/// Files the model directory is split into.
const FILES: usize = 8;
/// Best of this many runs each.
const RUNS: usize = 3;

/// The directory, written once (deterministic bytes) and kept.
fn model_dir(mib: usize) -> anyhow::Result<std::path::PathBuf> {
    let dir = root().join(format!("target/bench/model-{mib}mib"));
    let per = mib * 1024 * 1024 / FILES;
    let ready = (0..FILES).all(|i| {
        std::fs::metadata(dir.join(format!("weights-{i}.bin"))).is_ok_and(|m| m.len() == per as u64)
    });
    if !ready {
        std::fs::create_dir_all(&dir)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut buf = vec![0u8; 1 << 20];
        for i in 0..FILES {
            let mut f = std::io::BufWriter::new(std::fs::File::create(
                dir.join(format!("weights-{i}.bin")),
            )?);
            for _ in 0..per / buf.len() {
                rng.fill_bytes(&mut buf);
                f.write_all(&buf)?;
            }
        }
        std::fs::write(dir.join("MLmodel"), "flavors: {}\n")?;
    }
    Ok(dir)
}

fn files(dir: &std::path::Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut out: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    Ok(out)
}

/// Peak RSS (KiB) of a command, from GNU time when it is installed.
fn peak_rss_of(cmd: &[&std::ffi::OsStr]) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .args(cmd)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

pub(crate) fn run(args: &Args) -> anyhow::Result<Vec<Row>> {
    eprintln!("[bench] hashing a {} MiB model directory", args.model_mib);
    let dir = model_dir(args.model_mib)?;
    let all = files(&dir)?;
    let bytes: u64 = all
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let sha = || -> anyhow::Result<f64> {
        let t = Instant::now();
        let out = Command::new("sha256sum").args(&all).output()?;
        anyhow::ensure!(out.status.success(), "sha256sum failed");
        Ok(t.elapsed().as_secs_f64())
    };
    sha()?; // warm the page cache
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut rss = None;
    for _ in 0..RUNS {
        let v = json_line(&Command::new(example("bench_hash")).arg(&dir).output()?)?;
        ours.push(num(&v, "seconds")?);
        rss = v["peak_rss_kib"].as_u64();
        theirs.push(sha()?);
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let mibs = |s: f64| bytes as f64 / s / 1048576.0;
    let (o, t) = (mibs(best(&ours)), mibs(best(&theirs)));
    let mut sha_cmd: Vec<&std::ffi::OsStr> = vec![std::ffi::OsStr::new("sha256sum")];
    sha_cmd.extend(all.iter().map(|p| p.as_os_str()));
    let sha_rss = peak_rss_of(&sha_cmd).map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    );
    Ok(vec![
        Row::new(
            format!(
                "model-directory hashing, {} MiB in {} files, warm cache, best of {RUNS} (MiB/s)",
                bytes >> 20,
                all.len()
            ),
            format!("{o:.0}"),
            format!("{t:.0} (sha256sum)"),
            format!("{:.0}%", o / t * 100.0),
            ">= 90%",
        ),
        Row::new(
            "peak RSS while hashing",
            rss.map_or_else(
                || "n/a".to_owned(),
                |k| format!("{:.1} MiB", k as f64 / 1024.0),
            ),
            format!("{sha_rss} (sha256sum)"),
            "",
            "< 64 MiB",
        ),
    ])
}
