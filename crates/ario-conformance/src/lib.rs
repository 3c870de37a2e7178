//! Runs the shared ar.io conformance corpus (and our own `test-vectors/`)
//! against the `ario-envelope` kernel.
//!
//! A corpus is a directory of JSON vectors. Each file belongs to one
//! [`Family`] (by its path; [`Family::classify`]), and each family reproduces
//! every stage its vectors pin: payload and signed-scope JCS bytes, hashes,
//! deterministic signatures, verdicts and reason codes, Merkle roots and
//! proofs, evidence-bundle verdicts and RSA-PSS attestations. A corpus with a
//! `CORPUS-v1.md` manifest also gets the `integrity` checks: every file's
//! SHA-256 against the digest the manifest pins.
//!
//! The kernel (`ario-envelope`) does no I/O; this crate is the harness that
//! reads directories. [`Family::check`] runs one vector from its bytes.
//!
//! ```
//! use std::path::Path;
//!
//! use ario_conformance::{run_dir, Family};
//!
//! let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors");
//! let report = run_dir(&dir)?;
//! for family in &report.families {
//!     println!("{:<18} {:>3} of {:>3} passed", family.family, family.passed, family.vectors);
//! }
//! assert!(report.all_passed(), "{:?}", report.failures().collect::<Vec<_>>());
//!
//! // One vector, from bytes.
//! let rel = "mlflow/mlflow-dataset-01.json";
//! let family = Family::classify(rel).ok_or("not a vector")?;
//! assert_eq!(family, Family::MlflowEnvelope);
//! family.check("mlflow-dataset-01.json", &std::fs::read(dir.join(rel))?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod check;
mod family;
mod report;

use std::collections::BTreeMap;
use std::path::Path;

pub use family::Family;
pub use report::{ConformanceError, ConformanceReport, FamilyReport, VectorOutcome};

/// Runs every vector found under `dir` (recursively), plus the `integrity`
/// checks when `dir` holds a `CORPUS-v1.md` manifest.
///
/// A vector that cannot be read or fails is reported in its family's
/// outcomes; only an unreadable directory or one without any vector is an
/// error.
pub fn run_dir(dir: &Path) -> Result<ConformanceReport, ConformanceError> {
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    let mut families: BTreeMap<Family, Vec<VectorOutcome>> = BTreeMap::new();
    for rel in &files {
        let Some(family) = Family::classify(rel) else {
            continue;
        };
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let failure = match std::fs::read(dir.join(rel)) {
            Err(e) => Some(format!("unreadable: {e}")),
            Ok(bytes) => family.check(name, &bytes).err(),
        };
        families.entry(family).or_default().push(VectorOutcome {
            file: rel.clone(),
            failure,
        });
    }
    if dir.join("CORPUS-v1.md").is_file() {
        families.insert(Family::Integrity, family::integrity::check(dir, &files));
    }
    if families.is_empty() {
        return Err(ConformanceError::Empty(dir.to_path_buf()));
    }
    Ok(ConformanceReport {
        dir: dir.display().to_string(),
        families: families
            .into_iter()
            .map(|(family, outcomes)| FamilyReport::new(family, outcomes))
            .collect(),
    })
}

/// Collects the `/`-separated paths, relative to `root_dir`, of every file under `dir`.
fn walk(root_dir: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), ConformanceError> {
    let io = |source| ConformanceError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let ft = entry.file_type().map_err(io)?;
        if ft.is_dir() {
            walk(root_dir, &path, out)?;
        } else if ft.is_file() {
            if let Ok(rel) = path.strip_prefix(root_dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(())
}
