//! Fuzzing of every parser of outside input, on the stable toolchain:
//! structured mutation of seed corpora (built-in seeds plus the checked-in
//! `fuzz/corpus/<target>/`), each input run under `catch_unwind`. A panic —
//! a crash or a broken invariant — is saved under the crash folder so it
//! can become a regression test.
//!
//! ```
//! use ario_fuzz::{fuzz, Target};
//!
//! let dir = std::env::temp_dir();
//! let report = fuzz(Target::Json, 0.2, 1, None, &dir);
//! assert!(report.inputs > 0 && report.crashes.is_empty());
//! ```

mod devnet;
pub mod mutate;
pub mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest as _, Sha256};

pub use targets::Target;

/// Most distinct crashes kept per run.
const MAX_CRASHES: usize = 10;

/// What one fuzzing run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target.
    pub target: Target,
    /// Inputs tried.
    pub inputs: u64,
    /// Seeds the run started from.
    pub seeds: usize,
    /// Saved crashing inputs, with the panic message.
    pub crashes: Vec<(PathBuf, String)>,
    /// Wall time spent.
    pub elapsed: Duration,
}

/// The seeds of a target: built in, plus every file of `corpus/<name>/`.
pub fn seeds(target: Target, corpus: Option<&Path>) -> Vec<Vec<u8>> {
    let mut out = target.seeds();
    if let Some(dir) = corpus.map(|c| c.join(target.name())) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        out.extend(files.iter().filter_map(|f| std::fs::read(f).ok()));
    }
    out.retain(|s| !s.is_empty());
    out
}

fn message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Fuzzes `target` for `secs` seconds from a deterministic `seed`; crashing
/// inputs are written to `crash_dir`.
pub fn fuzz(
    target: Target,
    secs: f64,
    seed: u64,
    corpus: Option<&Path>,
    crash_dir: &Path,
) -> Report {
    let seeds = seeds(target, corpus);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs.max(0.0));
    let mut report = Report {
        target,
        inputs: 0,
        seeds: seeds.len(),
        crashes: vec![],
        elapsed: Duration::ZERO,
    };
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let try_one = |input: &[u8], report: &mut Report| {
        report.inputs += 1;
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| target.run(input))) {
            let name = format!(
                "{}-{}",
                target.name(),
                &hex::encode(Sha256::digest(input))[..16]
            );
            let path = crash_dir.join(name);
            if report.crashes.len() < MAX_CRASHES && !report.crashes.iter().any(|(p, _)| *p == path)
            {
                let _ = std::fs::create_dir_all(crash_dir);
                let _ = std::fs::write(&path, input);
                report.crashes.push((path, message(p.as_ref())));
            }
        }
    };
    for s in &seeds {
        try_one(s, &mut report);
    }
    while Instant::now() < deadline && !seeds.is_empty() {
        for _ in 0..64 {
            let s = &seeds[rng.gen_range(0..seeds.len())];
            let input = mutate::mutate(&mut rng, s, &seeds);
            try_one(&input, &mut report);
        }
    }
    std::panic::set_hook(previous);
    report.elapsed = started.elapsed();
    report
}
