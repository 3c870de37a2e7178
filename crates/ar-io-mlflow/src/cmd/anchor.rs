//! `anchor run` and `anchor dataset`.

use anyhow::Context as _;
use ario_envelope::encoding::sha256_hex;
use ario_provenance::payload::DatasetRecord;
use ario_provenance::{layout, AnchorRunOptions, EventKind};
use serde_json::json;

use super::common::{anchor_exit, anchor_line, anchorer, block_on, metadata};
use crate::output::{print_json, Format};

/// `anchor …`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AnchorCommand {
    /// Anchor a finished training run (and each dataset it logged).
    Run(RunArgs),
    /// Anchor one dataset, from a run's logged input or from explicit fields.
    Dataset(DatasetArgs),
}

/// `anchor run`
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The MLflow run id.
    run_id: String,
    /// The logged model's path (needed when the run logged several models).
    #[arg(long)]
    artifact_path: Option<String>,
    /// Anchor even though the run logged no dataset.
    #[arg(long)]
    allow_empty_datasets: bool,
    /// Extra payload member KEY=VALUE (repeatable).
    #[arg(long = "metadata", value_name = "KEY=VALUE")]
    metadata: Vec<String>,
    /// Print the canonical payload and the unsigned envelope; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Anchor a run that is anchored already: an explicit re-anchor that
    /// names the transaction it supersedes (verification will show both).
    #[arg(long, requires = "reason")]
    reanchor: bool,
    /// Why the run is anchored again (with --reanchor).
    #[arg(long, requires = "reanchor")]
    reason: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// `anchor dataset`
#[derive(Debug, clap::Args)]
pub(crate) struct DatasetArgs {
    /// Take the dataset from this run's logged inputs.
    #[arg(long, requires = "name", conflicts_with_all = ["source", "source_type", "digest", "schema"])]
    run: Option<String>,
    /// Dataset name.
    #[arg(long)]
    name: Option<String>,
    /// MLflow's JSON-encoded source string (explicit mode).
    #[arg(long)]
    source: Option<String>,
    /// Source type, e.g. `local`, `http`, `s3` (explicit mode).
    #[arg(long)]
    source_type: Option<String>,
    /// The dataset digest (explicit mode).
    #[arg(long)]
    digest: Option<String>,
    /// File holding the schema JSON (explicit mode).
    #[arg(long)]
    schema: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(cmd: &AnchorCommand) -> anyhow::Result<u8> {
    match cmd {
        AnchorCommand::Run(a) => anchor_run(a),
        AnchorCommand::Dataset(a) => anchor_dataset(a),
    }
}

fn anchor_run(a: &RunArgs) -> anyhow::Result<u8> {
    let opts = AnchorRunOptions {
        artifact_path: a.artifact_path.clone(),
        allow_empty_datasets: a.allow_empty_datasets,
        metadata: metadata(&a.metadata)?,
        dry_run: a.dry_run,
        reanchor: a.reanchor.then(|| a.reason.clone().unwrap_or_default()),
    };
    block_on(async {
        let prov = anchorer()?;
        let r = prov
            .anchor_run(&a.run_id, &opts)
            .await
            .with_context(|| format!("anchoring run {}", a.run_id))?;
        let payload_text = String::from_utf8_lossy(&r.payload_bytes).into_owned();
        if a.dry_run {
            if a.format == Format::Json {
                print_json(
                    &json!({"payload": payload_text, "payload_hash": r.payload_hash, "envelope": r.envelope.to_value()}),
                )?;
            } else {
                println!(
                    "payload ({} bytes, sha256 {}):",
                    r.payload_bytes.len(),
                    r.payload_hash
                );
                println!("{payload_text}");
                println!("unsigned envelope:");
                println!("{}", serde_json::to_string_pretty(&r.envelope.to_value())?);
                println!("dry run: nothing signed, uploaded or written");
            }
            return Ok(0);
        }
        let committed = r
            .committed
            .as_ref()
            .context("anchor returned no envelope")?;
        let status = committed.status();
        if a.format == Format::Json {
            print_json(&json!({
                "run_id": r.run_id,
                "status": status.name(),
                "tx_id": committed.tx_id(),
                "upload_error": committed.upload_error,
                "payload_hash": r.payload_hash,
                "previous_hash": r.previous_hash,
                "registered_model": r.registered_model,
                "artifact_path": r.artifact_path,
                "artifact_status": r.artifact_status,
                "artifact_error": r.artifact_error,
                "artifact_hash": r.artifact_hash,
                "envelope": committed.envelope.to_value(),
                "dataset_anchors": r.dataset_anchors.iter().map(|d| json!({
                    "name": d.name, "payload_hash": d.payload_hash, "tx_id": d.committed.tx_id(),
                    "status": d.committed.status().name(),
                })).collect::<Vec<_>>(),
            }))?;
        } else {
            println!("Anchoring training run {}", r.run_id);
            let files = r.payload["artifact_checksums"]
                .as_object()
                .map_or(0, |m| m.len());
            println!(
                "  model files      {} ({files} file(s), {:?}{})",
                r.artifact_path,
                r.artifact_status,
                r.artifact_hash
                    .as_ref()
                    .map(|h| format!(", artifact hash {h}"))
                    .unwrap_or_default()
            );
            if let Some(e) = &r.artifact_error {
                println!("  ! model files could not be hashed: {e}");
            }
            for d in &r.dataset_anchors {
                println!(
                    "  dataset          {}: {}",
                    d.name,
                    anchor_line(&d.committed.status(), prov.gateway())
                );
            }
            println!(
                "  payload          {} ({} bytes, sha256 {})",
                layout::artifact_path(EventKind::Training, "", layout::ArtifactFile::Payload)
                    .unwrap_or_default(),
                r.payload_bytes.len(),
                r.payload_hash
            );
            println!(
                "  chain            previous {}{}",
                r.previous_hash,
                r.registered_model
                    .as_ref()
                    .map(|m| format!(" (registered model {m})"))
                    .unwrap_or_default()
            );
            println!(
                "  envelope         {} signed by {}",
                committed.event_id(),
                prov.public_key_hex()
            );
            println!(
                "  upload           {}",
                anchor_line(&status, prov.gateway())
            );
        }
        Ok(anchor_exit(&status))
    })
}

fn anchor_dataset(a: &DatasetArgs) -> anyhow::Result<u8> {
    block_on(async {
        let prov = anchorer()?;
        let record = match &a.run {
            Some(run_id) => {
                let name = a.name.clone().unwrap_or_default();
                prov.logged_dataset(run_id, &name).await?
            }
            None => {
                let schema = match &a.schema {
                    Some(p) => Some(
                        std::fs::read_to_string(p)
                            .with_context(|| format!("reading {}", p.display()))?,
                    ),
                    None => None,
                };
                anyhow::ensure!(
                    a.name.is_some() && a.source.is_some() && a.source_type.is_some() && a.digest.is_some(),
                    "explicit mode needs --name, --source, --source-type and --digest (or use --run RUN_ID --name NAME)"
                );
                DatasetRecord {
                    name: a.name.clone(),
                    source: a.source.clone(),
                    source_type: a.source_type.clone(),
                    digest: a.digest.clone(),
                    schema,
                    context: None,
                }
            }
        };
        let d = prov
            .anchor_dataset(&record, a.run.as_deref())
            .await
            .context("anchoring the dataset")?;
        let status = d.committed.status();
        if a.format == Format::Json {
            print_json(&json!({
                "name": d.name, "status": status.name(), "tx_id": d.committed.tx_id(),
                "upload_error": d.committed.upload_error,
                "payload": String::from_utf8_lossy(&d.payload_bytes), "payload_hash": d.payload_hash,
                "envelope": d.committed.envelope.to_value(),
            }))?;
        } else {
            println!("Anchoring dataset {}", d.name);
            println!(
                "  payload          {} bytes, sha256 {}",
                d.payload_bytes.len(),
                sha256_hex(&d.payload_bytes)
            );
            println!(
                "  upload           {}",
                anchor_line(&status, prov.gateway())
            );
        }
        Ok(anchor_exit(&status))
    })
}
