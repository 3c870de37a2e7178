//! `decide`: record one decision of a checked model.

use std::time::Duration;

use anyhow::Context as _;
use std::sync::Arc;

use ario_gateway::verify_status::{Credential, VerifyStatusClient};
use ario_provenance::{DecisionOptions, Gate, GatePolicy, OpenOptions, VerifiedModel};
use serde_json::{json, Value};

use super::common::{anchor_exit, anchor_line, anchorer, block_on, metadata, AnchorOpts};
use crate::output::{print_json, Format};

/// `decide`
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model URI: `models:/name/version`, `models:/name@alias`, `models:/name/Stage`, `runs:/…`.
    #[arg(long)]
    model: String,
    /// The model input (JSON).
    #[arg(long)]
    input: String,
    /// The model output (JSON).
    #[arg(long)]
    output: String,
    /// Inference latency to record.
    #[arg(long, default_value_t = 0.0)]
    latency_ms: f64,
    /// Refuse when the model has no anchored artifact hash to check.
    #[arg(long)]
    require_verified: bool,
    /// Ask the agent's verify-status endpoint first (secret in ARIO_AGENT_MANAGEMENT_SECRET).
    #[arg(long, requires = "asset_id")]
    verify_status_url: Option<String>,
    /// Asset id to ask the verify-status endpoint about.
    #[arg(long, requires = "verify_status_url")]
    asset_id: Option<String>,
    /// Proceed (with a warning) when the verify-status gate refuses.
    #[arg(long, requires = "verify_status_url")]
    fail_open: bool,
    #[command(flatten)]
    opts: AnchorOpts,
}

fn parse(what: &str, s: &str) -> anyhow::Result<Value> {
    ario_envelope::json::parse(s.as_bytes()).with_context(|| format!("--{what} is not valid JSON"))
}

pub(crate) fn run(a: &Args) -> anyhow::Result<u8> {
    let input = parse("input", &a.input)?;
    let output = parse("output", &a.output)?;
    let opts = DecisionOptions {
        latency_ms: a.latency_ms,
        metadata: metadata(&a.opts.metadata)?,
    };
    block_on(async {
        let prov = anchorer()?;
        let gate = match (&a.verify_status_url, &a.asset_id) {
            (Some(url), Some(asset)) => {
                let secret = std::env::var("ARIO_AGENT_MANAGEMENT_SECRET")
                    .context("--verify-status-url needs ARIO_AGENT_MANAGEMENT_SECRET")?;
                Some(Gate {
                    client: Arc::new(VerifyStatusClient::new(
                        url,
                        Credential::Secret(secret.into()),
                    )),
                    asset_id: asset.clone(),
                    policy: if a.fail_open {
                        GatePolicy::FailOpen
                    } else {
                        GatePolicy::FailClosed
                    },
                    recheck_per_decision: false,
                    max_cache_age: None,
                })
            }
            _ => None,
        };
        let open = OpenOptions {
            require_verified: a.require_verified,
            gate,
            ..Default::default()
        };
        // A refused model (files differ, or the gate says no) exits 1.
        let model = VerifiedModel::open(&prov, &a.model, open).await?;
        let d = model
            .record_decision(&input, &output, opts)
            .await
            .context("recording the decision")?;
        d.handle.wait(Duration::from_secs(a.opts.wait)).await;
        let status = d.handle.status();
        if a.opts.format == Format::Json {
            print_json(&json!({
                "decision_id": d.decision_id, "trace_id": d.trace_id, "model": model.name, "version": model.version,
                "artifact_verified": model.artifact_verified, "payload_hash": d.payload_hash, "anchor": status,
            }))?;
        } else {
            println!(
                "Decision {} by {}/v{}",
                d.decision_id, model.name, model.version
            );
            println!(
                "  model files      {}",
                if model.artifact_verified == Some(true) {
                    "match the anchored hash"
                } else {
                    "not checked (no anchored hash)"
                }
            );
            println!(
                "  trace            {}",
                d.trace_id
                    .as_deref()
                    .unwrap_or("none (server has no v3 traces)")
            );
            println!("  payload hash     {}", d.payload_hash);
            println!(
                "  anchor           {}",
                anchor_line(&status, prov.gateway())
            );
        }
        Ok(anchor_exit(&status))
    })
}
