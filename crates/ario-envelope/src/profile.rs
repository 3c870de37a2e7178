//! Envelope profiles and the accepted-major rule.

use serde::Serialize;

/// A `spec_version` major this kernel accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Profile {
    /// `ario.mlflow/v1`: external commitment, promoted disclosure.
    Mlflow,
    /// `ario.agent/v1`: inline payload, promoted disclosure.
    Agent,
    /// `ario.events/v1`: external commitment, minimal disclosure.
    Events,
}

impl Profile {
    /// Every accepted profile (the accept set lives here and nowhere else).
    pub const ACCEPTED: [Profile; 3] = [Profile::Agent, Profile::Mlflow, Profile::Events];

    /// The major token, e.g. `ario.mlflow/v1`.
    pub fn major(self) -> &'static str {
        match self {
            Profile::Mlflow => "ario.mlflow/v1",
            Profile::Agent => "ario.agent/v1",
            Profile::Events => "ario.events/v1",
        }
    }

    /// The accepted profile `spec_version` names, if any.
    ///
    /// Matches the major exactly, or the major followed by `.` and one or more
    /// ASCII digits (`ario.agent/v1.3` yes; `v1.x`, `v1.`, `v1.3.2`, `v10` no).
    pub fn of_spec_version(spec_version: &str) -> Option<Profile> {
        Self::ACCEPTED
            .into_iter()
            .find(|p| matches_major(spec_version, p.major()))
    }
}

/// True when `spec_version` belongs to `major` under the minor-version rule.
pub fn matches_major(spec_version: &str, major: &str) -> bool {
    match spec_version.strip_prefix(major) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .is_some_and(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

/// Where an envelope's `spec_version` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecVersionStatus {
    /// An accepted profile.
    Supported,
    /// No `spec_version` at all (pre-0.2.0 mlflow envelopes).
    Legacy,
    /// Present but not accepted (unknown namespace, major or minor syntax).
    Unsupported,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_rule() {
        for ok in [
            "ario.agent/v1",
            "ario.agent/v1.3",
            "ario.agent/v1.10",
            "ario.mlflow/v1.2",
            "ario.events/v1",
        ] {
            assert!(Profile::of_spec_version(ok).is_some(), "{ok}");
        }
        for bad in [
            "ario.agent/v1.x",
            "ario.agent/v1.3abc",
            "ario.agent/v1.",
            "ario.agent/v1.3.2",
            "ario.agent/v10",
            "ario.mlflow/v11.2",
            "ario.mlflow/v99",
            "ario.future/v1",
            "",
            "ARIO.agent/v1",
            "ario.mlflow/v2",
        ] {
            assert!(Profile::of_spec_version(bad).is_none(), "{bad}");
        }
    }
}
