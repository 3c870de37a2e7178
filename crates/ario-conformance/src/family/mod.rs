//! The vector families of a corpus: which file belongs to which, and the check
//! each one runs. One module per family.

mod decisions;
mod envelope;
mod events;
mod evidence;
pub(crate) mod integrity;
mod jcs;
mod merkle;
mod mlflow;
mod negatives;

use serde::Serialize;

/// A family of conformance vectors.
///
/// The variants are ordered by [`Family::name`], the order reports list them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub enum Family {
    /// `ario.events-v1/`: event-record windows and chains.
    #[serde(rename = "ario.events-v1")]
    Events,
    /// `envelope-*.json`, `agent-envelope-*.json`: `ario.agent/v1` envelopes.
    #[serde(rename = "envelope")]
    Envelope,
    /// `evidence-export/`: evidence bundles, exports and attestations.
    #[serde(rename = "evidence-export")]
    EvidenceExport,
    /// File digests against `CORPUS-v1.md` (not vectors; not counted as such).
    #[serde(rename = "integrity")]
    Integrity,
    /// `jcs/`: our RFC 8785 vectors.
    #[serde(rename = "jcs")]
    Jcs,
    /// `merkle-tree-*.json`: RFC 9162 trees and inclusion proofs.
    #[serde(rename = "merkle")]
    Merkle,
    /// `mlflow/decisions/`: batched decisions, Merkle checkpoints and proofs.
    #[serde(rename = "mlflow-decisions")]
    MlflowDecisions,
    /// `mlflow/`: our `ario.mlflow/v1` envelope vectors.
    #[serde(rename = "mlflow-envelope")]
    MlflowEnvelope,
    /// `negatives/`: envelopes that must be rejected for a pinned reason.
    #[serde(rename = "negatives")]
    Negatives,
}

impl Family {
    /// Every family, in report order.
    pub const ALL: [Family; 9] = [
        Family::Events,
        Family::Envelope,
        Family::EvidenceExport,
        Family::Integrity,
        Family::Jcs,
        Family::Merkle,
        Family::MlflowDecisions,
        Family::MlflowEnvelope,
        Family::Negatives,
    ];

    /// The family's name as reports print it (`"envelope"`, `"ario.events-v1"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Family::Events => "ario.events-v1",
            Family::Envelope => "envelope",
            Family::EvidenceExport => "evidence-export",
            Family::Integrity => "integrity",
            Family::Jcs => "jcs",
            Family::Merkle => "merkle",
            Family::MlflowDecisions => "mlflow-decisions",
            Family::MlflowEnvelope => "mlflow-envelope",
            Family::Negatives => "negatives",
        }
    }

    /// True for the families whose files are vectors (all but [`Family::Integrity`]).
    pub fn is_vector_family(self) -> bool {
        self != Family::Integrity
    }

    /// The family of the file at `rel` (a `/`-separated path relative to the
    /// corpus directory); `None` for files that are not vectors.
    pub fn classify(rel: &str) -> Option<Family> {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if !name.ends_with(".json") {
            return None;
        }
        if rel.starts_with("mlflow/decisions/") {
            Some(Family::MlflowDecisions)
        } else if rel.starts_with("mlflow/") {
            Some(Family::MlflowEnvelope)
        } else if rel.starts_with("jcs/") {
            Some(Family::Jcs)
        } else if rel.starts_with("evidence-export/") {
            Some(Family::EvidenceExport)
        } else if rel.starts_with("negatives/") {
            Some(Family::Negatives)
        } else if rel.starts_with("ario.events-v1/") {
            Some(Family::Events)
        } else if name.starts_with("merkle-tree-") {
            Some(Family::Merkle)
        } else if name.starts_with("envelope-") || name.starts_with("agent-envelope-") {
            Some(Family::Envelope)
        } else {
            None
        }
    }

    /// Runs one vector of this family: `file_name` is the vector's file name
    /// (some vectors are identified by it), `bytes` its content. No I/O.
    ///
    /// `Err` says what differs from the vector's expectations.
    pub fn check(self, file_name: &str, bytes: &[u8]) -> Result<(), String> {
        let stem = file_name.trim_end_matches(".json");
        if self == Family::EvidenceExport && evidence::RAW_BUNDLES.contains(&stem) {
            return evidence::check_raw_bundle(stem, bytes);
        }
        let v = ario_envelope::json::parse(bytes)
            .map_err(|e| format!("vector is not strict JSON: {e}"))?;
        match self {
            Family::Envelope => envelope::check(&v, stem),
            Family::Merkle => merkle::check(&v),
            Family::Events => events::check(&v),
            Family::Negatives => negatives::check(&v),
            Family::MlflowDecisions => decisions::check(&v),
            Family::MlflowEnvelope => mlflow::check(&v, stem),
            Family::Jcs => jcs::check(&v),
            Family::EvidenceExport => evidence::check_value(&v, stem),
            Family::Integrity => Err("integrity checks a directory, not a vector".into()),
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Family;

    #[test]
    fn report_order_is_name_order() {
        let mut by_name = Family::ALL;
        by_name.sort_by_key(|f| f.name());
        assert_eq!(by_name, Family::ALL);
        let mut by_ord = Family::ALL;
        by_ord.sort();
        assert_eq!(by_ord, Family::ALL);
    }

    #[test]
    fn serialized_as_its_name() {
        for f in Family::ALL {
            assert_eq!(
                serde_json::to_value(f).ok(),
                Some(serde_json::Value::String(f.name().into()))
            );
            assert_eq!(format!("{f:<18}|"), format!("{:<18}|", f.name()));
        }
    }

    #[test]
    fn classify_by_path() {
        let cases = [
            (
                "mlflow/mlflow-dataset-01.json",
                Some(Family::MlflowEnvelope),
            ),
            ("jcs/jcs-numbers.json", Some(Family::Jcs)),
            (
                "evidence-export/negatives/deep-nesting.json",
                Some(Family::EvidenceExport),
            ),
            ("negatives/bad-sig.json", Some(Family::Negatives)),
            ("ario.events-v1/window-01.json", Some(Family::Events)),
            ("merkle-tree-3.json", Some(Family::Merkle)),
            ("envelope-01.json", Some(Family::Envelope)),
            ("agent-envelope-01.json", Some(Family::Envelope)),
            ("README.md", None),
            ("other.json", None),
            ("mlflow/notes.txt", None),
        ];
        for (rel, want) in cases {
            assert_eq!(Family::classify(rel), want, "{rel}");
        }
    }

    #[test]
    fn integrity_is_not_a_vector_family() {
        assert!(!Family::Integrity.is_vector_family());
        assert!(Family::Integrity.check("x.json", b"{}").is_err());
        assert!(Family::ALL
            .iter()
            .filter(|f| **f != Family::Integrity)
            .all(|f| f.is_vector_family()));
    }

    #[test]
    fn a_vector_that_is_not_strict_json_fails() {
        let err = Family::Merkle.check("merkle-tree-1.json", b"{\"a\":1,\"a\":2}");
        assert!(err.is_err_and(|e| e.contains("not strict JSON")));
    }
}
