//! `ar-io-mlflow proof …`: offline verification of envelopes.

use std::path::PathBuf;

use anyhow::Context as _;
use ario_envelope::{verify_envelope_bytes, Status, Verdict, VerifyOptions};
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
pub(crate) struct VerifyArgs {
    /// The envelope file (JSON, as fetched from `/raw/<tx>`).
    #[arg(long)]
    envelope: PathBuf,
    /// The committed payload bytes (e.g. `ario/payload.json` from MLflow).
    #[arg(long)]
    payload: Option<PathBuf>,
    /// Accept envelopes minted before `spec_version` existed.
    #[arg(long)]
    allow_legacy: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Serialize)]
struct Report<'a> {
    envelope: String,
    payload: Option<String>,
    #[serde(flatten)]
    verdict: &'a Verdict,
    exit_code: i32,
}

pub(crate) fn run(cmd: &ProofCommand) -> anyhow::Result<u8> {
    match cmd {
        ProofCommand::Verify(args) => verify(args),
    }
}

fn verify(args: &VerifyArgs) -> anyhow::Result<u8> {
    let envelope = std::fs::read(&args.envelope)
        .with_context(|| format!("reading {}", args.envelope.display()))?;
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
    let code = verdict.status.exit_code();
    if args.format == Format::Json {
        print_json(&Report {
            envelope: args.envelope.display().to_string(),
            payload: args.payload.as_ref().map(|p| p.display().to_string()),
            verdict: &verdict,
            exit_code: code,
        })?;
    } else {
        print_text(args, &verdict);
    }
    Ok(u8::try_from(code).unwrap_or(2))
}

fn print_text(args: &VerifyArgs, v: &Verdict) {
    println!("Envelope  {}", args.envelope.display());
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
    if !v.reasons.is_empty() {
        let list: Vec<&str> = v.reasons.iter().map(|r| r.as_str()).collect();
        println!("  {:<14} {}", "reasons", list.join(", "));
    }
    println!(
        "{}",
        match v.status {
            Status::Verified => "VERIFIED",
            Status::Failed => "FAILED",
            Status::Undetermined => "UNDETERMINED (not verified: a check could not run)",
            Status::Malformed => "MALFORMED",
        }
    );
}
