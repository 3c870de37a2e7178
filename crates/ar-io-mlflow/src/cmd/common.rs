//! What the lifecycle commands share: the runtime, the provenance context,
//! `--metadata k=v` parsing and the verification panel.

use std::collections::BTreeMap;
use std::future::Future;

use anyhow::Context as _;
use ario_provenance::trust::TrustPolicy;
use ario_provenance::{
    AnchorStatus, Anchorer, Outcome, ProvenanceError, Row, Status, Verification, Verifier,
};
use serde_json::Value;

/// Runs `f` on a fresh multi-threaded runtime.
pub(crate) fn block_on<T>(f: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
}

/// The anchorer from the environment (MLflow, signing key, wallet, outbox).
pub(crate) fn anchorer() -> anyhow::Result<Anchorer> {
    Anchorer::from_env().context("setting up (MLflow, signing key, wallet, outbox)")
}

/// The trust policy option of every verifying command.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TrustArg {
    /// Trust policy (TOML): the signing keys accepted, their windows, and
    /// optionally the allowed uploaders. Without one, any key is accepted.
    #[arg(long = "trust", env = "ARIO_MLFLOW_TRUST", value_name = "FILE")]
    pub(crate) trust: Option<std::path::PathBuf>,
}

impl TrustArg {
    /// The policy, when a file was named (a bad file is an error, exit 2).
    pub(crate) fn policy(&self) -> anyhow::Result<Option<TrustPolicy>> {
        match &self.trust {
            Some(p) => Ok(Some(TrustPolicy::load(p).map_err(ProvenanceError::from)?)),
            None => Ok(None),
        }
    }
}

/// A verifier from the environment: it creates no key, wallet or outbox file.
pub(crate) fn verifier(trust: &TrustArg) -> anyhow::Result<Verifier> {
    let v = Verifier::from_env().context("setting up (MLflow, gateways)")?;
    Ok(match trust.policy()? {
        Some(p) => v.with_trust(p),
        None => v,
    })
}

/// Options of every command that anchors in the background and waits.
#[derive(Debug, clap::Args)]
pub(crate) struct AnchorOpts {
    /// Extra payload member KEY=VALUE (repeatable).
    #[arg(long = "metadata", value_name = "KEY=VALUE")]
    pub(crate) metadata: Vec<String>,
    /// Seconds to wait for the anchor (then it goes on in the outbox; see `retry`).
    #[arg(long, env = "ARIO_MLFLOW_WAIT", default_value_t = 60)]
    pub(crate) wait: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: crate::output::Format,
}

/// Parses `k=v` pairs into payload metadata (string values).
pub(crate) fn metadata(pairs: &[String]) -> anyhow::Result<BTreeMap<String, Value>> {
    pairs
        .iter()
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .with_context(|| format!("--metadata {p:?}: expected KEY=VALUE"))?;
            anyhow::ensure!(!k.is_empty(), "--metadata {p:?}: empty key");
            Ok((k.to_owned(), Value::String(v.to_owned())))
        })
        .collect()
}

/// Glyph of a row outcome.
pub(crate) fn glyph(o: Outcome) -> String {
    crate::output::mark(match o {
        Outcome::Pass => Some(true),
        Outcome::Fail => Some(false),
        Outcome::Undetermined | Outcome::Pending | Outcome::NotApplicable => None,
    })
}

/// The panel: one line per row, label padded to 28 columns.
pub(crate) fn panel(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| format!("  {:<28} {} {}\n", r.label, glyph(r.outcome), r.detail))
        .collect()
}

/// Header, panel and verdict of one verification.
pub(crate) fn verification_text(v: &Verification) -> String {
    let mut out = format!("Verifying {}\n", v.target);
    if let Some(tx) = &v.tx_id {
        out.push_str(&format!("  TX: {tx}\n"));
    }
    out.push_str(&panel(&v.rows));
    if v.tags_written > 0 {
        out.push_str(&format!("  -> updated {} MLflow tag(s)\n", v.tags_written));
    }
    out.push_str(&format!("Result: {}\n", status_word(v.status)));
    out
}

/// Human word for a status.
pub(crate) fn status_word(s: Status) -> &'static str {
    use Status::*;
    match s {
        Verified => "verified",
        Failed => "FAILED",
        NotAnchored => "not anchored",
        Malformed => "malformed envelope",
        Unavailable => "gateway unavailable",
        Undetermined => "undetermined",
    }
}

/// Exit code of an anchor that may still be pending: 0 anchored, 3 signed
/// only or still anchoring (the outbox holds it), 1 failed.
pub(crate) fn anchor_exit(s: &AnchorStatus) -> u8 {
    match s {
        AnchorStatus::Anchored { .. } => crate::exit::OK,
        AnchorStatus::Signed { .. } | AnchorStatus::Anchoring => crate::exit::UNDETERMINED,
        AnchorStatus::Failed { .. } | AnchorStatus::Unknown => crate::exit::FAILED,
    }
}

/// One line describing an anchor status.
pub(crate) fn anchor_line(
    s: &AnchorStatus,
    gateway: &ario_gateway::config::GatewayConfig,
) -> String {
    use AnchorStatus::*;
    match s {
        Anchored { tx_id } => format!("anchored: {tx_id} ({})", gateway.arweave_url(tx_id)),
        Signed { error } => format!(
            "signed only — upload failed ({}); kept in the outbox, run `ar-io-mlflow retry`",
            error.as_deref().unwrap_or("unknown error")
        ),
        Anchoring => "still anchoring (timed out waiting); `ar-io-mlflow status` shows it".into(),
        Failed { error } => format!("FAILED: {error}"),
        Unknown => "unknown".into(),
    }
}

/// Listens for SIGINT and SIGTERM from the moment it is called (so a
/// signal sent right after a readiness line is not lost to the default
/// action); the future resolves on the first. Needs a Tokio runtime.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        async fn first(s: Option<Signal>) {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            tokio::select! {
                _ = first(term) => {}
                _ = first(int) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
