//! What a run reports: per vector, per family, per corpus.

use std::path::PathBuf;

use serde::Serialize;

use crate::Family;

/// Outcome of one vector.
#[derive(Debug, Clone, Serialize)]
pub struct VectorOutcome {
    /// Path relative to the corpus directory.
    pub file: String,
    /// `None` when it passed; otherwise what failed.
    pub failure: Option<String>,
}

/// Results of one family.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyReport {
    /// The family (serialized as its name).
    pub family: Family,
    /// Number of vectors run.
    pub vectors: usize,
    /// Number that passed.
    pub passed: usize,
    /// Number that failed.
    pub failed: usize,
    /// Per-vector outcomes.
    pub outcomes: Vec<VectorOutcome>,
}

impl FamilyReport {
    /// Counts the outcomes of `family`.
    pub fn new(family: Family, outcomes: Vec<VectorOutcome>) -> Self {
        let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
        FamilyReport {
            family,
            vectors: outcomes.len(),
            passed: outcomes.len() - failed,
            failed,
            outcomes,
        }
    }
}

/// Results of a whole run.
#[derive(Debug, Clone, Serialize)]
pub struct ConformanceReport {
    /// The directory that was run.
    pub dir: String,
    /// Per-family results (only families with vectors), in [`Family`] order.
    pub families: Vec<FamilyReport>,
}

impl ConformanceReport {
    /// Vectors run across all families (the `integrity` digest checks are not vectors).
    pub fn total(&self) -> usize {
        self.vector_families().map(|f| f.vectors).sum()
    }

    /// Failed vectors (the `integrity` family excluded).
    pub fn failed(&self) -> usize {
        self.vector_families().map(|f| f.failed).sum()
    }

    /// True when every vector and every digest check passed.
    pub fn all_passed(&self) -> bool {
        self.families.iter().all(|f| f.failed == 0)
    }

    /// `(family, outcome)` of every failed vector and digest check.
    pub fn failures(&self) -> impl Iterator<Item = (Family, &VectorOutcome)> {
        self.families.iter().flat_map(|f| {
            f.outcomes
                .iter()
                .filter(|o| o.failure.is_some())
                .map(move |o| (f.family, o))
        })
    }

    fn vector_families(&self) -> impl Iterator<Item = &FamilyReport> {
        self.families.iter().filter(|f| f.family.is_vector_family())
    }
}

/// Why a corpus could not be run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConformanceError {
    /// The directory could not be read.
    #[error("cannot read corpus directory {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The directory holds no vector at all.
    #[error("no conformance vectors found under {0}")]
    Empty(PathBuf),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(file: &str, failure: Option<&str>) -> VectorOutcome {
        VectorOutcome {
            file: file.into(),
            failure: failure.map(str::to_owned),
        }
    }

    #[test]
    fn integrity_counts_for_all_passed_but_not_as_vectors() {
        let report = ConformanceReport {
            dir: "d".into(),
            families: vec![
                FamilyReport::new(
                    Family::Envelope,
                    vec![outcome("a", None), outcome("b", Some("x"))],
                ),
                FamilyReport::new(Family::Integrity, vec![outcome("c (digest)", Some("y"))]),
            ],
        };
        assert_eq!(report.total(), 2);
        assert_eq!(report.failed(), 1);
        assert!(!report.all_passed());
        let failures: Vec<_> = report
            .failures()
            .map(|(f, o)| (f, o.file.as_str()))
            .collect();
        assert_eq!(
            failures,
            vec![(Family::Envelope, "b"), (Family::Integrity, "c (digest)")]
        );
    }
}
