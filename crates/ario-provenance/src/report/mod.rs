//! The audit as one self-contained HTML file (no external assets).

pub mod lineage;

use ario_gateway::config::GatewayConfig;
use minijinja::{context, Environment};

use crate::audit::Audit;

const TEMPLATE: &str = include_str!("../../templates/audit.html");

/// Why the report could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error("audit report template: {0}")]
pub struct ReportError(#[from] minijinja::Error);

/// Renders the audit as HTML: failures first, the lineage graph, then each
/// stage's checks; transactions link to `gateway`.
pub fn audit_html(audit: &Audit, gateway: &GatewayConfig) -> Result<String, ReportError> {
    let lineage = lineage::lineage_svg(audit, &|tx| gateway.arweave_url(tx));
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("audit.html", TEMPLATE)?;
    let t = env.get_template("audit.html")?;
    Ok(t.render(context! {
        a => audit,
        exit_code => audit.exit_code(),
        tool_version => crate::pipeline::APP_VERSION,
        lineage => minijinja::Value::from_safe_string(lineage),
    })?)
}
