//! `ar-io-mlflow proof …`: offline verification of envelopes.

use std::path::PathBuf;

use anyhow::Context as _;
use ario_envelope::{verify_envelope_bytes, Status, Verdict, VerifyOptions};
use ario_provenance::trust::TrustPolicy;
use ario_provenance::verify::check::{Check, CheckOutcome, NotRunCause};
use serde::Serialize;

use crate::output::{mark, print_json, Format};

/// Offline proof operations.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ProofCommand {
    /// Verify one envelope (and, optionally, the payload bytes it commits to).
    ///
    /// Exit status: 0 verified, 1 failed, 2 malformed input, 3 undetermined
    /// (nothing failed, but a check could not run — e.g. no payload given).
    Verify(VerifyArgs),
}

/// Arguments of `proof verify`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["envelope", "bundle", "decision"])))]
pub(crate) struct VerifyArgs {
    /// The envelope file (JSON, as fetched from `/raw/<tx>`).
    #[arg(long)]
    envelope: Option<PathBuf>,
    /// The committed payload bytes (e.g. `ario/payload.json` from MLflow).
    #[arg(long, requires = "envelope")]
    payload: Option<PathBuf>,
    /// An evidence bundle (`audit --format evidence`): every stage re-checked
    /// offline, with no MLflow and no network.
    #[arg(long, conflicts_with = "envelope")]
    bundle: Option<PathBuf>,
    /// A decision's evidence (`verify decision ID --evidence F`): its
    /// record, proof and checkpoint re-checked offline.
    #[arg(long, conflicts_with_all = ["envelope", "bundle"])]
    decision: Option<PathBuf>,
    /// Accept envelopes minted before `spec_version` existed.
    #[arg(long)]
    allow_legacy: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    #[command(flatten)]
    trust: super::common::TrustArg,
}

#[derive(Serialize)]
struct Report<'a> {
    envelope: String,
    payload: Option<String>,
    #[serde(flatten)]
    verdict: &'a Verdict,
    signer_trusted: &'a Check,
    exit_code: u8,
}

/// The signer against the trust policy; offline, no uploader can be found out.
fn signer_check(policy: Option<&TrustPolicy>, envelope: &[u8]) -> Check {
    let Some(policy) = policy else {
        return Check::not_run(
            NotRunCause::NoTrustPolicy,
            "not checked: no trust policy given, so any signing key was accepted",
        );
    };
    let env = ario_envelope::json::parse(envelope).unwrap_or_default();
    let member = |k: &str| env.get(k).and_then(serde_json::Value::as_str);
    let owner = if policy.uploaders.is_empty() {
        Ok(None)
    } else {
        Err("offline: the uploader of a bare envelope is not known")
    };
    policy.judge(member("public_key"), member("signed_at"), owner)
}

/// The kernel's verdict with the trust decision folded in.
fn overall(v: &Verdict, signer: &Check) -> Status {
    match (v.status, signer.outcome) {
        (Status::Malformed, _) => Status::Malformed,
        (_, CheckOutcome::Failed(_)) => Status::Failed,
        (Status::Verified, CheckOutcome::NotRun(c)) if c != NotRunCause::NoTrustPolicy => {
            Status::Undetermined
        }
        (s, _) => s,
    }
}

pub(crate) fn run(cmd: &ProofCommand) -> anyhow::Result<u8> {
    match cmd {
        ProofCommand::Verify(args) => verify(args),
    }
}

fn verify(args: &VerifyArgs) -> anyhow::Result<u8> {
    if let Some(b) = &args.bundle {
        return verify_bundle(b, args);
    }
    if let Some(d) = &args.decision {
        return verify_decision_evidence(d, args);
    }
    let Some(envelope_path) = &args.envelope else {
        anyhow::bail!("pass --envelope, --bundle or --decision");
    };
    let envelope = std::fs::read(envelope_path)
        .with_context(|| format!("reading {}", envelope_path.display()))?;
    let payload = match &args.payload {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let verdict = verify_envelope_bytes(
        &envelope,
        VerifyOptions {
            payload_bytes: payload.as_deref(),
            allow_legacy: args.allow_legacy,
        },
    );
    let signer = signer_check(args.trust.policy()?.as_ref(), &envelope);
    let status = overall(&verdict, &signer);
    let code = u8::try_from(status.exit_code()).unwrap_or(crate::exit::MALFORMED);
    if args.format == Format::Json {
        print_json(&Report {
            envelope: envelope_path.display().to_string(),
            payload: args.payload.as_ref().map(|p| p.display().to_string()),
            verdict: &verdict,
            signer_trusted: &signer,
            exit_code: code,
        })?;
    } else {
        print_text(envelope_path, args, &verdict, &signer, status);
    }
    Ok(code)
}

fn print_text(
    path: &std::path::Path,
    args: &VerifyArgs,
    v: &Verdict,
    signer: &Check,
    status: Status,
) {
    println!("Envelope  {}", path.display());
    if v.status != Status::Malformed {
        let spec = match v.spec_version_status {
            ario_envelope::SpecVersionStatus::Supported => Some(true),
            ario_envelope::SpecVersionStatus::Legacy if v.ok || v.signature_ok => None,
            _ => Some(false),
        };
        let profile = v.profile.map_or_else(
            || format!("{:?}", v.spec_version_status).to_lowercase(),
            |p| p.major().to_owned(),
        );
        println!("  {:<14} {} {profile}", "spec_version", mark(spec));
        println!(
            "  {:<14} {} {}",
            "signature",
            mark(Some(v.signature_ok)),
            if v.signature_ok { "valid" } else { "not valid" }
        );
        let binding = match (v.payload_hash_ok, &args.payload) {
            (Some(true), _) => "payload_hash matches".to_owned(),
            (Some(false), _) => "payload_hash does not match".to_owned(),
            (None, None) => "undetermined: no payload supplied (--payload)".to_owned(),
            (None, Some(_)) => "undetermined".to_owned(),
        };
        println!("  {:<14} {} {binding}", "payload", mark(v.payload_hash_ok));
    }
    if v.status != Status::Malformed {
        println!(
            "  {:<14} {} {}",
            "signer",
            mark(signer.ok()),
            signer.message
        );
    }
    if !v.reasons.is_empty() {
        let list: Vec<&str> = v.reasons.iter().map(|r| r.as_str()).collect();
        println!("  {:<14} {}", "reasons", list.join(", "));
    }
    println!(
        "{}",
        match status {
            Status::Verified => "VERIFIED",
            Status::Failed => "FAILED",
            Status::Undetermined => "UNDETERMINED (not verified: a check could not run)",
            Status::Malformed => "MALFORMED",
        }
    );
}

/// Reads a JSON document given on the command line.
fn read_json(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ario_envelope::json::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not a JSON document: {e}", path.display()))
}

/// `proof verify --decision F`: one decision's panel, offline.
fn verify_decision_evidence(path: &std::path::Path, args: &VerifyArgs) -> anyhow::Result<u8> {
    let ev = read_json(path)?;
    let report =
        ario_provenance::evidence::check_decision_evidence(&ev, args.trust.policy()?.as_ref());
    let code = report.status.exit_code();
    if args.format == Format::Json {
        print_json(&report)?;
        return Ok(code);
    }
    println!(
        "Decision evidence {} ({}) — checkpoint tx {}",
        path.display(),
        report.detail,
        report.tx_id.as_deref().unwrap_or("none")
    );
    print!("{}", super::common::panel(&report.rows));
    println!(
        "Not shown offline: that the checkpoint is on Arweave, the only one of its batch, and linked to the one before (`verify decision` shows these live)."
    );
    println!("Result: {}", super::common::status_word(report.status));
    Ok(code)
}

/// `proof verify --bundle F`: the wrapper, then each stage's panel.
fn verify_bundle(path: &std::path::Path, args: &VerifyArgs) -> anyhow::Result<u8> {
    let bundle = read_json(path)?;
    let report = ario_provenance::evidence::check_bundle(&bundle, args.trust.policy()?.as_ref());
    let code = report.status.exit_code();
    if args.format == Format::Json {
        print_json(&report)?;
        return Ok(code);
    }
    println!(
        "Evidence bundle {} ({})",
        path.display(),
        report.model.as_deref().unwrap_or("no model named")
    );
    print!("{}", super::common::panel(&report.bundle_rows));
    for s in &report.stages {
        println!(
            "\n{} ({}) — tx {}",
            s.stage,
            s.detail,
            s.tx_id.as_deref().unwrap_or("none")
        );
        print!("{}", super::common::panel(&s.rows));
        println!("  => {}", super::common::status_word(s.status));
    }
    println!("\nResult: {}", super::common::status_word(report.status));
    Ok(code)
}
