//! The trust policy: which signing keys (and, optionally, which uploaders)
//! an auditor accepts, and over what time. Without a policy, verification
//! can show only that MLflow agrees with *an* envelope signed by *the key in
//! that envelope*; with one, it also shows who signed.
//!
//! ```toml
//! min_attestation_level = 3            # optional, default 3
//! [[signer]]
//! name = "training-ci"
//! public_key = "<64 hex digits, Ed25519>"
//! not_before = "2026-01-01T00:00:00Z"  # optional
//! not_after  = "2027-01-01T00:00:00Z"  # optional
//! retired_at = "2026-09-01T00:00:00Z"  # optional: envelopes signed after it fail
//! [[uploader]]                          # optional
//! address = "<normalized owner address>"
//! ```

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::verify::check::{Check, FailReason, NotRunCause};

/// The attestation level required when no policy lowers it: only level 3
/// means the attesting operator checked the item's signature.
pub const DEFAULT_MIN_ATTESTATION_LEVEL: u8 = 3;

/// Why a trust file was refused (never read as an empty policy).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustFileError {
    /// The file could not be read.
    #[error("trust file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        error: std::io::Error,
    },
    /// Not TOML of the expected shape.
    #[error("trust file {}: {detail}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        detail: String,
    },
    /// Well-formed, but not a usable policy.
    #[error("trust file {}: {detail}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSigner {
    name: String,
    public_key: String,
    not_before: Option<String>,
    not_after: Option<String>,
    retired_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUploader {
    address: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    min_attestation_level: Option<u8>,
    #[serde(default)]
    follow_rotations: bool,
    #[serde(default)]
    signer: Vec<FileSigner>,
    #[serde(default)]
    uploader: Vec<FileUploader>,
}

/// One trusted signing key and its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSigner {
    /// A name for people.
    pub name: String,
    /// Ed25519 public key, lowercase hex.
    pub public_key: String,
    /// Envelopes signed before this are refused.
    pub not_before: Option<DateTime<Utc>>,
    /// Envelopes signed after this are refused.
    pub not_after: Option<DateTime<Utc>>,
    /// Envelopes signed after the key was retired are refused.
    pub retired_at: Option<DateTime<Utc>>,
}

/// A parsed trust policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    /// The attestation level required.
    pub min_attestation_level: u8,
    /// Trusted signing keys.
    pub signers: Vec<TrustedSigner>,
    /// Allowed uploader (owner) addresses; empty: any uploader.
    pub uploaders: Vec<String>,
    /// Accept the successor a trusted key handed over to in an anchored
    /// `key_retired` event (`spec/mlflow/trust.md` §9).
    pub follow_rotations: bool,
}

/// Parses an RFC 3339 time.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl TrustPolicy {
    /// Reads and checks a trust file.
    pub fn load(path: &Path) -> Result<Self, TrustFileError> {
        let text = std::fs::read_to_string(path).map_err(|error| TrustFileError::Read {
            path: path.to_owned(),
            error,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks trust-file text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, TrustFileError> {
        let file: TrustFile = toml::from_str(text).map_err(|e| TrustFileError::Syntax {
            path: path.to_owned(),
            detail: e.message().to_owned(),
        })?;
        let invalid = |detail: String| TrustFileError::Invalid {
            path: path.to_owned(),
            detail,
        };
        let level = file
            .min_attestation_level
            .unwrap_or(DEFAULT_MIN_ATTESTATION_LEVEL);
        if !(1..=3).contains(&level) {
            return Err(invalid(format!(
                "min_attestation_level must be 1, 2 or 3, not {level}"
            )));
        }
        if file.signer.is_empty() {
            return Err(invalid(
                "no [[signer]] is listed: nothing could verify".into(),
            ));
        }
        let mut signers = Vec::new();
        for s in file.signer {
            let key = s.public_key.to_ascii_lowercase();
            if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(format!(
                    "signer {:?}: public_key must be 64 hex digits",
                    s.name
                )));
            }
            let time = |field: &str, v: &Option<String>| match v {
                None => Ok(None),
                Some(t) => parse_time(t).map(Some).ok_or_else(|| {
                    invalid(format!(
                        "signer {:?}: {field} {t:?} is not an RFC 3339 time",
                        s.name
                    ))
                }),
            };
            let signer = TrustedSigner {
                not_before: time("not_before", &s.not_before)?,
                not_after: time("not_after", &s.not_after)?,
                retired_at: time("retired_at", &s.retired_at)?,
                name: s.name,
                public_key: key,
            };
            if let (Some(a), Some(b)) = (signer.not_before, signer.not_after) {
                if a >= b {
                    return Err(invalid(format!(
                        "signer {:?}: not_before is not before not_after",
                        signer.name
                    )));
                }
            }
            signers.push(signer);
        }
        let uploaders = file.uploader.into_iter().map(|u| u.address).collect();
        Ok(TrustPolicy {
            min_attestation_level: level,
            signers,
            uploaders,
            follow_rotations: file.follow_rotations,
        })
    }

    /// Whether `signed_at` lies in a listed window of `public_key`, and
    /// (when uploaders are listed) `owner` is one of them. `owner` is
    /// `Err(why)` when the uploader could not be found out.
    pub fn judge(
        &self,
        public_key: Option<&str>,
        signed_at: Option<&str>,
        owner: Result<Option<&str>, &str>,
    ) -> Check {
        match self.judge_key(public_key, signed_at) {
            Ok(signer) => self.judge_uploader(
                owner,
                format!("signed by {} ({})", signer.name, signer.public_key),
            ),
            Err(refusal) => refusal,
        }
    }

    /// The listed signer whose window holds `signed_at`, or the refusal.
    pub fn judge_key(
        &self,
        public_key: Option<&str>,
        signed_at: Option<&str>,
    ) -> Result<&TrustedSigner, Check> {
        let key = public_key.unwrap_or_default().to_ascii_lowercase();
        let entries: Vec<&TrustedSigner> = self
            .signers
            .iter()
            .filter(|s| s.public_key == key)
            .collect();
        if entries.is_empty() {
            return Err(Check::failed(
                FailReason::UnknownSigner,
                format!("unknown signer: key {key} is not in the trust policy"),
            ));
        }
        let Some(at) = signed_at.and_then(parse_time) else {
            return Err(Check::failed(
                FailReason::UnknownSigner,
                format!("signed_at {signed_at:?} is not a readable time"),
            ));
        };
        let mut refusal = (FailReason::UnknownSigner, String::new());
        for s in entries {
            let fail = if s.not_before.is_some_and(|t| at < t) {
                Some((FailReason::KeyNotYetValid, "key not yet valid"))
            } else if s.not_after.is_some_and(|t| at > t) {
                Some((FailReason::KeyExpired, "key expired"))
            } else if s.retired_at.is_some_and(|t| at > t) {
                Some((FailReason::KeyRetired, "key retired"))
            } else {
                None
            };
            match fail {
                None => return Ok(s),
                Some((r, why)) => refusal = (r, format!("{why}: {} signed at {at}", s.name)),
            }
        }
        Err(Check::failed(refusal.0, refusal.1))
    }

    /// Passes with `passed` unless uploaders are listed and `owner` is not one.
    pub fn judge_uploader(&self, owner: Result<Option<&str>, &str>, passed: String) -> Check {
        if self.uploaders.is_empty() {
            return Check::passed(passed);
        }
        match owner {
            Err(why) => Check::not_run(
                NotRunCause::UploaderUnknown,
                format!("the uploader could not be found out: {why}"),
            ),
            Ok(o) if !o.is_some_and(|o| self.uploaders.iter().any(|u| u == o)) => Check::failed(
                FailReason::UntrustedUploader,
                format!(
                    "uploaded by {}, not a listed uploader",
                    o.unwrap_or("an unknown owner")
                ),
            ),
            Ok(_) => Check::passed(passed),
        }
    }
}

#[cfg(test)]
mod tests;
