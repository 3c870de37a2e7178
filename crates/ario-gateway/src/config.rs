//! One configuration for upload, fetch and Verify, from the plugin's
//! environment variables with the plugin's defaults (production Turbo and
//! gateways), plus a switch that points everything at a devnet.

use std::path::PathBuf;
use std::time::Duration;

/// Default Turbo upload service.
pub const DEFAULT_UPLOAD_URL: &str = "https://upload.ardrive.io";
/// Default gateway host (also the host of the `ario.arweave_url` tag).
pub const DEFAULT_GATEWAY_HOST: &str = "turbo-gateway.com";
/// Gateways appended after the configured host when no explicit list is given.
pub const DEFAULT_FALLBACK_GATEWAYS: [&str; 2] = ["turbo-gateway.com", "ardrive.net"];

pub use ario_http::RetryPolicy;

/// Everything the gateway side needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayConfig {
    /// Turbo upload service base URL.
    pub upload_url: String,
    /// Base URL of the Turbo status endpoint (`{status_url}/v1/tx/{id}/status`).
    pub status_url: String,
    /// Host used in `ario.arweave_url` (`https://{host}/{tx}`).
    pub gateway_host: String,
    /// Ordered, de-duplicated gateways to read from: bare hosts (https) or URLs.
    pub gateways: Vec<String>,
    /// ar.io Verify base URL, if the fourth check is enabled.
    pub verify_url: Option<String>,
    /// Upload wallet path (`ARIO_MLFLOW_ARWEAVE_WALLET`), if configured.
    pub wallet_path: Option<PathBuf>,
    /// Retries for every call.
    pub retry: RetryPolicy,
    /// Timeout of an upload request.
    pub upload_timeout: Duration,
    /// Timeout of one gateway read.
    pub fetch_timeout: Duration,
    /// Deadline for a whole `fetch_envelope` across all gateways.
    pub fetch_deadline: Duration,
    /// Largest body accepted from a gateway (an envelope is under 2 KiB).
    pub max_envelope_bytes: u64,
    /// Timeout of Verify calls.
    pub verify_timeout: Duration,
    /// Pinned Turbo receipt-signer address; receipts signed by others are refused.
    pub receipt_signer: Option<String>,
    /// True when pointed at a devnet.
    pub devnet: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self::from_lookup(|_| None)
    }
}

/// De-duplicates, trims and drops empty entries, keeping first occurrences.
pub fn dedup_gateways<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in items {
        let g = g.trim().trim_end_matches('/');
        if !g.is_empty() && !out.iter().any(|o| o == g) {
            out.push(g.to_owned());
        }
    }
    out
}

impl GatewayConfig {
    /// From the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any variable lookup (tests pass a map).
    ///
    /// Variables: `ARIO_MLFLOW_GATEWAY_HOST`, `ARIO_MLFLOW_GATEWAYS` (replaces
    /// the default list), `ARIO_MLFLOW_ARIO_VERIFY_URL`, `ARIO_MLFLOW_ARWEAVE_WALLET`,
    /// `ARIO_MLFLOW_TURBO_UPLOAD_URL`, `ARIO_MLFLOW_TURBO_STATUS_URL`,
    /// `ARIO_MLFLOW_TURBO_RECEIPT_SIGNER`, and `ARIO_MLFLOW_DEVNET=<url>` which
    /// points upload, reads and Verify at a devnet.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let gateway_host = non_empty("ARIO_MLFLOW_GATEWAY_HOST")
            .unwrap_or_else(|| DEFAULT_GATEWAY_HOST.to_owned());
        let gateways = match non_empty("ARIO_MLFLOW_GATEWAYS") {
            Some(list) => dedup_gateways(list.split(',')),
            None => dedup_gateways(
                std::iter::once(gateway_host.as_str()).chain(DEFAULT_FALLBACK_GATEWAYS),
            ),
        };
        let upload_url = non_empty("ARIO_MLFLOW_TURBO_UPLOAD_URL")
            .unwrap_or_else(|| DEFAULT_UPLOAD_URL.to_owned());
        let mut cfg = GatewayConfig {
            status_url: non_empty("ARIO_MLFLOW_TURBO_STATUS_URL")
                .unwrap_or_else(|| upload_url.clone()),
            upload_url,
            gateway_host,
            gateways,
            verify_url: non_empty("ARIO_MLFLOW_ARIO_VERIFY_URL")
                .map(|u| u.trim_end_matches('/').to_owned()),
            wallet_path: non_empty("ARIO_MLFLOW_ARWEAVE_WALLET").map(PathBuf::from),
            retry: RetryPolicy::default(),
            upload_timeout: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(30),
            fetch_deadline: Duration::from_secs(90),
            max_envelope_bytes: 64 * 1024,
            verify_timeout: Duration::from_secs(30),
            receipt_signer: non_empty("ARIO_MLFLOW_TURBO_RECEIPT_SIGNER"),
            devnet: false,
        };
        if let Some(url) = non_empty("ARIO_MLFLOW_DEVNET") {
            cfg = cfg.with_devnet(&url);
        }
        cfg
    }

    /// Points upload, status, reads and Verify at the devnet at `url`.
    pub fn with_devnet(mut self, url: &str) -> Self {
        let base = url.trim_end_matches('/');
        self.upload_url = format!("{base}/turbo");
        self.status_url = self.upload_url.clone();
        self.gateways = vec![base.to_owned()];
        self.gateway_host = base
            .split_once("://")
            .map_or(base, |(_, rest)| rest)
            .to_owned();
        self.verify_url = Some(format!("{base}/verify"));
        self.devnet = true;
        self
    }

    /// Base URL of a gateway entry: bare hosts are https, URLs are kept.
    pub fn gateway_base(gateway: &str) -> String {
        if gateway.contains("://") {
            gateway.trim_end_matches('/').to_owned()
        } else {
            format!("https://{}", gateway.trim_end_matches('/'))
        }
    }

    /// The `ario.arweave_url` value for a transaction.
    pub fn arweave_url(&self, tx_id: &str) -> String {
        if self.devnet {
            format!(
                "{}/{tx_id}",
                Self::gateway_base(self.gateways.first().map_or(&self.gateway_host, |g| g))
            )
        } else {
            format!("https://{}/{tx_id}", self.gateway_host)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> GatewayConfig {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        GatewayConfig::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn plugin_defaults() {
        let c = cfg(&[]);
        assert_eq!(c.gateways, vec!["turbo-gateway.com", "ardrive.net"]);
        assert_eq!(c.upload_url, "https://upload.ardrive.io");
        assert_eq!(c.verify_url, None);
        assert_eq!(c.retry.max_retries, 2);
        assert_eq!(c.arweave_url("TX"), "https://turbo-gateway.com/TX");
    }

    #[test]
    fn host_is_first_and_list_replaces() {
        let c = cfg(&[("ARIO_MLFLOW_GATEWAY_HOST", "g0.io")]);
        assert_eq!(
            c.gateways,
            vec!["g0.io", "turbo-gateway.com", "ardrive.net"]
        );
        let c = cfg(&[
            ("ARIO_MLFLOW_GATEWAY_HOST", "g0.io"),
            ("ARIO_MLFLOW_GATEWAYS", "g1.com, g2.com ,g3.com,,g1.com"),
        ]);
        assert_eq!(c.gateways, vec!["g1.com", "g2.com", "g3.com"]);
    }

    #[test]
    fn devnet_switch() {
        let c = cfg(&[("ARIO_MLFLOW_DEVNET", "http://127.0.0.1:4000/")]);
        assert!(c.devnet);
        assert_eq!(c.upload_url, "http://127.0.0.1:4000/turbo");
        assert_eq!(c.gateways, vec!["http://127.0.0.1:4000"]);
        assert_eq!(
            c.verify_url.as_deref(),
            Some("http://127.0.0.1:4000/verify")
        );
        assert_eq!(c.arweave_url("TX"), "http://127.0.0.1:4000/TX");
        assert_eq!(
            GatewayConfig::gateway_base("ardrive.net"),
            "https://ardrive.net"
        );
    }
}
