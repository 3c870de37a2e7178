//! `verify run | model | trace | dataset | decision`.

use anyhow::Context as _;
use ario_provenance::checkpoint::DecisionId;
use ario_provenance::verify::decision::DecisionVerification;
use ario_provenance::{ProvenanceError, Status, Verification};

use super::common::{block_on, panel, status_word, verification_text, verifier};
use crate::output::{print_json, Format};

/// `verify …`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum VerifyCommand {
    /// A training run (`ario.training_tx`).
    Run {
        /// Run id.
        run_id: String,
        #[command(flatten)]
        common: Common,
    },
    /// A model version's registration (`ario.registration_tx`).
    Model {
        /// `NAME/VERSION` (version 1 when omitted).
        model: String,
        #[command(flatten)]
        common: Common,
    },
    /// A decision's trace (`ario.prediction_tx`).
    Trace {
        /// Trace id.
        trace_id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Batched decisions (`<stream>-<batch>-<leaf>`), each proved into its
    /// signed, anchored checkpoint.
    Decision {
        /// Decision ids.
        #[arg(required = true)]
        decision_ids: Vec<String>,
        /// Also write the decision's evidence here (one id; only when it
        /// verifies): checkable offline with `proof verify --decision`.
        #[arg(long)]
        evidence: Option<std::path::PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// A dataset anchor, by transaction.
    Dataset {
        /// Transaction id (may begin with `-`: base64url).
        #[arg(allow_hyphen_values = true)]
        tx_id: String,
        /// Re-derive the payload from this run's logged input.
        #[arg(long)]
        run: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

/// Options of every `verify` command.
#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Do not write the outcome (`ario.verify_status` …) back to MLflow.
    #[arg(long)]
    no_write_back: bool,
    #[command(flatten)]
    trust: super::common::TrustArg,
}

/// Splits `NAME/VERSION` (the version is the part after the last `/`).
pub(crate) fn name_version(s: &str) -> (String, String) {
    match s.rsplit_once('/') {
        Some((n, v)) if !v.is_empty() => (n.to_owned(), v.to_owned()),
        _ => (s.trim_end_matches('/').to_owned(), "1".to_owned()),
    }
}

pub(crate) fn run(cmd: &VerifyCommand) -> anyhow::Result<u8> {
    let common = match cmd {
        VerifyCommand::Run { common, .. }
        | VerifyCommand::Model { common, .. }
        | VerifyCommand::Trace { common, .. }
        | VerifyCommand::Dataset { common, .. }
        | VerifyCommand::Decision { common, .. } => common,
    };
    if let VerifyCommand::Decision {
        decision_ids,
        evidence,
        ..
    } = cmd
    {
        return decisions(decision_ids, evidence.as_deref(), common);
    }
    let wb = !common.no_write_back;
    block_on(async {
        let prov = verifier(&common.trust)?;
        let r: Result<Verification, ario_mlflow_client::MlflowError> = match cmd {
            VerifyCommand::Run { run_id, .. } => prov.verify_run(run_id, wb).await,
            VerifyCommand::Model { model, .. } => {
                let (n, v) = name_version(model);
                prov.verify_model(&n, &v, wb).await
            }
            VerifyCommand::Trace { trace_id, .. } => prov.verify_trace(trace_id, wb).await,
            VerifyCommand::Dataset { tx_id, run, .. } => {
                Ok(prov.verify_dataset(tx_id, run.as_deref()).await)
            }
            VerifyCommand::Decision { .. } => return Ok(crate::exit::MALFORMED),
        };
        let v = r.map_err(ProvenanceError::from)?;
        if common.format == Format::Json {
            print_json(&v)?;
        } else {
            print!("{}", verification_text(&v));
        }
        Ok(v.status.exit_code())
    })
}

/// `verify decision ID...`: one panel per decision; the exit code of the
/// worst outcome (failed, then not anchored, then undetermined).
fn decisions(
    ids: &[String],
    evidence: Option<&std::path::Path>,
    common: &Common,
) -> anyhow::Result<u8> {
    let parsed: Vec<DecisionId> = ids
        .iter()
        .map(|s| s.parse::<DecisionId>())
        .collect::<Result<_, _>>()
        .map_err(ProvenanceError::from)?;
    if evidence.is_some() && parsed.len() != 1 {
        anyhow::bail!("--evidence takes exactly one decision id");
    }
    block_on(async {
        let prov = verifier(&common.trust)?;
        let all = prov.verify_decisions(&parsed).await;
        if common.format == Format::Json {
            if let [one] = all.as_slice() {
                print_json(one)?;
            } else {
                print_json(&all)?;
            }
        } else {
            for d in &all {
                print!("{}", decision_text(d));
            }
        }
        let worst = all
            .iter()
            .map(|d| d.status)
            .max_by_key(|s| severity(*s))
            .unwrap_or(Status::Undetermined);
        if let (Some(path), [id], Status::Verified) = (evidence, parsed.as_slice(), worst) {
            let ev = prov.decision_evidence(id).await?;
            let bytes = serde_json::to_vec_pretty(&ev).context("encoding the evidence")?;
            std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("decision evidence written to {}", path.display());
        } else if let Some(path) = evidence {
            eprintln!(
                "no evidence written to {}: the decision did not verify",
                path.display()
            );
        }
        Ok(worst.exit_code())
    })
}

fn severity(s: Status) -> u8 {
    match s {
        Status::Verified => 0,
        Status::Unavailable | Status::Undetermined => 1,
        Status::NotAnchored | Status::Malformed => 2,
        Status::Failed => 3,
    }
}

fn decision_text(d: &DecisionVerification) -> String {
    let mut out = format!("Verifying decision {}\n", d.decision_id);
    if let Some(tx) = &d.checkpoint.tx_id {
        out.push_str(&format!("  Checkpoint TX: {tx}\n"));
    }
    out.push_str(&panel(&d.rows));
    out.push_str(&format!("Result: {}\n", status_word(d.status)));
    out
}
