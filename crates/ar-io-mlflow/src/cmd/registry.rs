//! `register` and `promote`.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use super::common::{anchor_exit, anchor_line, anchorer, block_on, metadata, AnchorOpts};
use crate::output::{print_json, Format};

/// `register`
#[derive(Debug, clap::Args)]
pub(crate) struct RegisterArgs {
    /// Registered model name (created when missing).
    name: String,
    /// Model source URI, e.g. `runs:/<run_id>/model`.
    #[arg(long)]
    source: String,
    /// Source run (must agree with the URI's run).
    #[arg(long)]
    run_id: Option<String>,
    #[command(flatten)]
    opts: AnchorOpts,
}

/// `promote`
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("how").required(true).args(["stage", "alias"])))]
pub(crate) struct PromoteArgs {
    /// Registered model name.
    name: String,
    /// Version.
    version: String,
    /// Transition to this stage (Staging, Production, Archived, None).
    #[arg(long)]
    stage: Option<String>,
    /// Point this alias at the version (MLflow 3's way to promote).
    #[arg(long)]
    alias: Option<String>,
    /// With --stage: archive the versions currently in that stage.
    #[arg(long)]
    archive_existing: bool,
    #[command(flatten)]
    opts: AnchorOpts,
}

pub(crate) fn register(a: &RegisterArgs) -> anyhow::Result<u8> {
    let md = metadata(&a.opts.metadata)?;
    block_on(async {
        let prov = anchorer()?;
        prov.ensure_registered_model(&a.name)
            .await
            .with_context(|| format!("creating registered model {}", a.name))?;
        let (mv, handle) = prov
            .create_model_version(&a.name, &a.source, a.run_id.as_deref(), md)
            .await
            .context("creating the model version")?;
        let version = mv.version.clone();
        handle.wait(Duration::from_secs(a.opts.wait)).await;
        let status = handle.status();
        if a.opts.format == Format::Json {
            print_json(
                &json!({"model": a.name, "version": version, "source": a.source, "anchor": status}),
            )?;
        } else {
            println!("Registered {}/v{version} from {}", a.name, a.source);
            println!(
                "  registration     {}",
                anchor_line(&status, prov.gateway())
            );
        }
        Ok(anchor_exit(&status))
    })
}

pub(crate) fn promote(a: &PromoteArgs) -> anyhow::Result<u8> {
    let md = metadata(&a.opts.metadata)?;
    block_on(async {
        let prov = anchorer()?;
        let (what, handle) = match (&a.stage, &a.alias) {
            (Some(stage), _) => {
                let (_, h) = prov
                    .transition_stage(&a.name, &a.version, stage, a.archive_existing, md)
                    .await
                    .context("transitioning the stage")?;
                (format!("stage {stage}"), h)
            }
            (None, Some(alias)) => {
                let h = prov
                    .set_alias(&a.name, alias, &a.version, md)
                    .await
                    .context("setting the alias")?;
                (format!("alias {alias}"), h)
            }
            (None, None) => anyhow::bail!("pass --stage or --alias"),
        };
        handle.wait(Duration::from_secs(a.opts.wait)).await;
        let status = handle.status();
        if a.opts.format == Format::Json {
            print_json(
                &json!({"model": a.name, "version": a.version, "stage": a.stage, "alias": a.alias, "anchor": status}),
            )?;
        } else {
            println!("Promoted {}/v{} ({what})", a.name, a.version);
            println!(
                "  promotion        {}",
                anchor_line(&status, prov.gateway())
            );
        }
        Ok(anchor_exit(&status))
    })
}
