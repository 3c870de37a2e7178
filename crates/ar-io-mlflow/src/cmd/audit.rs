//! `audit NAME/VERSION [--format text|json|html] [--output F]`.

use anyhow::Context as _;
use ario_provenance::audit::{intoto, Audit};
use ario_provenance::Status;

use super::common::{block_on, panel, verifier};
use super::verify::name_version;
use crate::output::mark;

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub(crate) enum AuditFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// The `ario.mlflow/audit/v1` bundle (superset).
    Json,
    /// One self-contained HTML file.
    Html,
    /// An in-toto Statement v1 (subjects: the model files; predicate: the lineage).
    #[value(name = "in-toto")]
    InToto,
    /// An offline evidence bundle (`proof verify --bundle` re-checks it), signed with our key.
    Evidence,
}

/// `audit`
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// `NAME/VERSION`.
    model: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: AuditFormat,
    /// Write the report to this file instead of stdout.
    #[arg(long)]
    output: Option<std::path::PathBuf>,
    /// Verify this many of the latest decisions.
    #[arg(long, default_value_t = 20, conflicts_with = "all_decisions")]
    decisions: usize,
    /// Verify every decision.
    #[arg(long)]
    all_decisions: bool,
    /// With `--format in-toto`: wrap the Statement in a DSSE envelope signed
    /// with our key.
    #[arg(long)]
    dsse: bool,
    #[command(flatten)]
    trust: super::common::TrustArg,
}

/// The text form of an audit.
pub(crate) fn audit_text(a: &Audit) -> String {
    let mut out = format!(
        "Auditing model lineage: {}/v{}\n{}\n",
        a.model,
        a.version,
        "=".repeat(50)
    );
    for s in &a.stages {
        out.push_str(&format!(
            "\n{} ({}):\n",
            capitalize(s.stage.stage_name()),
            s.detail
        ));
        if !s.anchored {
            out.push_str("  Not anchored.\n");
            continue;
        }
        if let Some(tx) = &s.tx_id {
            out.push_str(&format!("  TX: {tx}\n"));
        }
        out.push_str(&panel(&s.rows));
    }
    let i = &a.artifact_integrity;
    out.push_str("\nArtifact integrity (re-hashed now):\n");
    match (&i.expected, &i.computed) {
        (Some(e), _) => out.push_str(&format!("  {} anchored {e}\n", mark(i.ok))),
        (None, _) => out.push_str("  No artifact hash recorded.\n"),
    }
    if let Some(c) = &i.computed {
        out.push_str(&format!("    computed {c}\n"));
    }
    for f in i.files.iter().filter(|f| !f.ok) {
        out.push_str(&format!(
            "    {} {} differs (now {}, anchored {})\n",
            mark(Some(false)),
            f.path,
            f.sha256.as_deref().unwrap_or("missing"),
            f.anchored_sha256.as_deref().unwrap_or("not anchored")
        ));
    }
    if let Some(e) = &i.error {
        out.push_str(&format!("    could not re-hash: {e}\n"));
    }
    let d = &a.decisions;
    out.push_str(&format!(
        "\nDecisions: {} of {} verified",
        d.verified, d.audited
    ));
    if d.audited < d.total {
        out.push_str(&format!(
            " (the latest {} of {} recorded)",
            d.audited, d.total
        ));
    }
    out.push('\n');
    out.push_str(&format!(
        "\n{}\nOverall: {}\n",
        "=".repeat(50),
        match a.overall {
            Status::Verified => format!("{} All checks passed", mark(Some(true))),
            Status::Failed | Status::Malformed => format!("{} Issues found", mark(Some(false))),
            Status::NotAnchored => format!("{} Nothing anchored", mark(None)),
            Status::Unavailable | Status::Undetermined => {
                format!("{} Some checks could not run", mark(None))
            }
        }
    ));
    out
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub(crate) fn run(a: &Args) -> anyhow::Result<u8> {
    let (name, version) = name_version(&a.model);
    if a.dsse && a.format != AuditFormat::InToto {
        anyhow::bail!("--dsse signs an in-toto Statement: pass --format in-toto");
    }
    block_on(async {
        // Signing needs our key; auditing alone needs none.
        let signer = if a.dsse || a.format == AuditFormat::Evidence {
            Some(super::common::anchorer()?)
        } else {
            None
        };
        let prov = verifier(&a.trust)?;
        let audit = prov
            .audit(&name, &version, (!a.all_decisions).then_some(a.decisions))
            .await
            .with_context(|| format!("auditing {name}/v{version}"))?;
        let body = match a.format {
            AuditFormat::Text => audit_text(&audit),
            AuditFormat::Json => serde_json::to_string_pretty(&audit)? + "\n",
            AuditFormat::Html => ario_provenance::report::audit_html(&audit, prov.gateway())?,
            AuditFormat::InToto => {
                let statement = intoto::statement(&audit, &|tx| prov.gateway().arweave_url(tx))?;
                let doc = match &signer {
                    Some(s) => s.dsse(&statement)?,
                    None => statement,
                };
                serde_json::to_string_pretty(&doc)? + "\n"
            }
            AuditFormat::Evidence => {
                let signer = signer
                    .as_ref()
                    .context("an evidence bundle is signed with our key")?;
                serde_json::to_string_pretty(&signer.evidence(&audit).await?)? + "\n"
            }
        };
        match &a.output {
            Some(p) => {
                std::fs::write(p, body).with_context(|| format!("writing {}", p.display()))?;
                println!(
                    "audit report written to {} ({} stages, overall_ok={})",
                    p.display(),
                    audit.stages.len(),
                    audit.overall_ok
                );
            }
            None => print!("{body}"),
        }
        Ok(audit.exit_code())
    })
}
