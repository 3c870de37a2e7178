//! `reconcile`: what should be anchored and is not, tags that name another
//! object's envelope, and anchors whose MLflow object is gone. Exit 1 when
//! anything is found, 3 when a check could not run.

use anyhow::Context as _;
use ario_provenance::reconcile::{Finding, Reconciliation, Scope};

use super::common::{block_on, verifier};
use crate::output::{print_json, Format};

/// `reconcile`
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Experiments (names or ids) whose finished runs with a model should be anchored.
    #[arg(long = "experiment", value_name = "EXPERIMENT")]
    experiments: Vec<String>,
    /// Registered models to look at (default: every model).
    #[arg(long = "model", value_name = "NAME")]
    models: Vec<String>,
    /// Only objects created since this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
    #[arg(long)]
    since: Option<String>,
    /// Skip the search for orphan anchors on the gateways.
    #[arg(long)]
    no_orphans: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    #[command(flatten)]
    trust: super::common::TrustArg,
}

fn since_ms(s: &str) -> anyhow::Result<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("--since {s:?} is not an RFC 3339 time"))?;
    Ok(t.timestamp_millis())
}

/// The text form.
fn text(r: &Reconciliation) -> String {
    let c = &r.checked;
    let mut out = format!(
        "Checked {} finished run(s), {} version(s), {} alias(es), {} decision trace(s), {} transaction tag(s), {} gateway anchor(s)\n",
        c.runs, c.versions, c.aliases, c.traces, c.tags, c.anchors
    );
    for f in &r.findings {
        out.push_str(&match f {
            Finding::RunNotAnchored { run_id, experiment_id } => {
                format!("  missing   run {run_id} (experiment {experiment_id}) has no training anchor\n")
            }
            Finding::VersionNotAnchored { name, version, .. } => {
                format!("  missing   {name}/v{version} has no registration anchor\n")
            }
            Finding::AliasNotAnchored { name, alias, version } => {
                format!("  missing   {name}@{alias} (v{version}) has no alias anchor\n")
            }
            Finding::TraceNotAnchored {
                trace_id,
                experiment_id,
            } => {
                format!("  missing   trace {trace_id} (experiment {experiment_id}) has no decision anchor\n")
            }
            Finding::TagMismatch { object, tag, tx_id, detail } => {
                format!("  mismatch  {object}: {tag} = {tx_id}: {detail}\n")
            }
            Finding::Orphan { tx_id, event_type, subject } => {
                format!("  orphan    {event_type} {tx_id} names {subject}, which MLflow no longer has\n")
            }
        });
    }
    for u in &r.undetermined {
        out.push_str(&format!("  not run   {u}\n"));
    }
    out.push_str(&format!(
        "Result: {} missing, {} other finding(s), {} check(s) not run\n",
        r.missing(),
        r.findings.len() - r.missing(),
        r.undetermined.len()
    ));
    out
}

pub(crate) fn run(a: &Args) -> anyhow::Result<u8> {
    let scope = Scope {
        experiments: a.experiments.clone(),
        models: a.models.clone(),
        since_ms: a.since.as_deref().map(since_ms).transpose()?,
        orphans: !a.no_orphans && !a.models.is_empty(),
    };
    block_on(async {
        let r = verifier(&a.trust)?
            .reconcile(&scope)
            .await
            .context("reconciling MLflow with the anchors")?;
        if a.format == Format::Json {
            print_json(&r)?;
        } else {
            print!("{}", text(&r));
        }
        Ok(r.exit_code())
    })
}
