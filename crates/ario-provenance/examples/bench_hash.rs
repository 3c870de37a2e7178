//! Model-directory hashing throughput, for `cargo xtask bench hashing`.
//!
//! Usage: `bench_hash <DIR>`. Hashes every file below DIR the way a model's
//! `ario.artifact_hash` is computed and prints one JSON object: bytes, seconds,
//! MiB/s, and this process's peak resident memory (`VmHWM`).

// A measurement tool over fixed inputs: a failure means the inputs are wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: bench_hash <DIR>")?);
    let bytes: u64 = walk_size(&dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let start = Instant::now();
    let files = rt.block_on(ario_provenance::check_model_dir(&dir, None));
    let secs = start.elapsed().as_secs_f64();
    let computed = files.computed.ok_or("hashing failed")?;
    println!(
        "{}",
        serde_json::json!({
            "bytes": bytes, "files": files.checksums.len(), "seconds": secs,
            "mib_per_s": bytes as f64 / secs / 1048576.0,
            "peak_rss_kib": peak_rss_kib(), "digest": computed,
        })
    );
    Ok(())
}

fn walk_size(dir: &std::path::Path) -> std::io::Result<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        if t.is_dir() {
            n += walk_size(&e.path())?;
        } else if t.is_file() {
            n += e.metadata()?.len();
        }
    }
    Ok(n)
}
