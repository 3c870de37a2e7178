//! Where the tracking server is and how to talk to it, from MLflow's own
//! environment variables.

use std::time::Duration;

use crate::error::MlflowError;

/// How requests authenticate.
#[derive(Clone, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// `MLFLOW_TRACKING_TOKEN`: `Authorization: Bearer`.
    Token(String),
    /// `MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD`: HTTP basic.
    Basic {
        /// User.
        username: String,
        /// Password.
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Token(_) => "Auth::Token(***)",
            Auth::Basic { .. } => "Auth::Basic(***)",
        })
    }
}

/// Client configuration.
#[derive(Debug, Clone)]
pub struct TrackingConfig {
    /// `http(s)://host:port[/prefix]`, without a trailing slash.
    pub tracking_uri: String,
    /// Credentials.
    pub auth: Auth,
    /// `MLFLOW_TRACKING_INSECURE_TLS=true`: skip certificate checks.
    pub insecure_tls: bool,
    /// `MLFLOW_TRACKING_SERVER_CERT_PATH`: extra trusted CA (PEM).
    pub server_cert_path: Option<String>,
    /// Per-request timeout (`MLFLOW_HTTP_REQUEST_TIMEOUT`, seconds; default 120).
    pub timeout: Duration,
    /// Retries on 429/5xx/transport errors (`MLFLOW_HTTP_REQUEST_MAX_RETRIES`; default 5).
    pub max_retries: u32,
    /// First backoff (`MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR`, seconds; default 0.5), doubling.
    pub backoff: Duration,
}

impl TrackingConfig {
    /// A configuration for `tracking_uri` with defaults.
    pub fn new(tracking_uri: &str) -> Result<Self, MlflowError> {
        Self::from_lookup(|k| (k == "MLFLOW_TRACKING_URI").then(|| tracking_uri.to_owned()))
    }

    /// From the process environment.
    pub fn from_env() -> Result<Self, MlflowError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any variable lookup.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, MlflowError> {
        let val = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let uri = val("MLFLOW_TRACKING_URI").unwrap_or_else(|| "./mlruns".into());
        check_uri(&uri)?;
        let auth = match (
            val("MLFLOW_TRACKING_TOKEN"),
            val("MLFLOW_TRACKING_USERNAME"),
            val("MLFLOW_TRACKING_PASSWORD"),
        ) {
            (Some(t), _, _) => Auth::Token(t),
            (None, Some(username), password) => Auth::Basic {
                username,
                password: password.unwrap_or_default(),
            },
            _ => Auth::None,
        };
        let secs = |k: &str, d: f64| {
            val(k)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .unwrap_or(d)
        };
        Ok(TrackingConfig {
            tracking_uri: uri.trim_end_matches('/').to_owned(),
            auth,
            insecure_tls: val("MLFLOW_TRACKING_INSECURE_TLS")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            server_cert_path: val("MLFLOW_TRACKING_SERVER_CERT_PATH"),
            timeout: Duration::from_secs_f64(secs("MLFLOW_HTTP_REQUEST_TIMEOUT", 120.0)),
            max_retries: val("MLFLOW_HTTP_REQUEST_MAX_RETRIES")
                .and_then(|v| v.parse().ok())
                .unwrap_or(5),
            backoff: Duration::from_secs_f64(secs("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", 0.5)),
        })
    }
}

fn check_uri(uri: &str) -> Result<(), MlflowError> {
    let lower = uri.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(());
    }
    let hint = if lower.starts_with("databricks") {
        "Databricks workspaces are not supported; point MLFLOW_TRACKING_URI at an MLflow tracking server"
    } else {
        "this client speaks MLflow's REST API; start a server over that store, e.g. \
         `mlflow server --backend-store-uri sqlite:///mlflow.db --serve-artifacts --host 127.0.0.1 --port 5000`, \
         and set MLFLOW_TRACKING_URI=http://127.0.0.1:5000"
    };
    Err(MlflowError::UnsupportedTrackingUri {
        uri: uri.to_owned(),
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<TrackingConfig, MlflowError> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        TrackingConfig::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn mlflow_conventions() {
        let c = from(&[
            ("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000/"),
            ("MLFLOW_TRACKING_TOKEN", "t"),
        ])
        .unwrap();
        assert_eq!(c.tracking_uri, "http://127.0.0.1:5000");
        assert!(matches!(c.auth, Auth::Token(_)));
        assert!(!format!("{c:?}").contains("\"t\""));
        let c = from(&[
            ("MLFLOW_TRACKING_URI", "https://m"),
            ("MLFLOW_TRACKING_USERNAME", "u"),
            ("MLFLOW_TRACKING_PASSWORD", "p"),
            ("MLFLOW_TRACKING_INSECURE_TLS", "TRUE"),
            ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"),
        ])
        .unwrap();
        assert!(matches!(c.auth, Auth::Basic { .. }) && c.insecure_tls && c.max_retries == 2);
    }

    #[test]
    fn file_stores_get_a_clear_error() {
        for uri in [
            "file:///tmp/mlruns",
            "./mlruns",
            "sqlite:///mlflow.db",
            "databricks",
        ] {
            let e = from(&[("MLFLOW_TRACKING_URI", uri)]).unwrap_err();
            assert!(
                e.to_string().contains("MLFLOW_TRACKING_URI")
                    || e.to_string().contains("mlflow server"),
                "{e}"
            );
        }
        assert!(from(&[]).is_err(), "no URI means the local file store");
    }
}
