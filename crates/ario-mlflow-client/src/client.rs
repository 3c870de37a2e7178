//! The connection to a tracking server: authenticated HTTP client, retries,
//! and MLflow's error shape turned into [`MlflowError`].

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{RequestBuilder, Response};
use serde_json::Value;
use tokio::time::Instant;

use crate::config::{Auth, TrackingConfig};
use crate::error::MlflowError;

/// A connection to one MLflow tracking server.
#[derive(Debug, Clone)]
pub struct MlflowClient {
    pub(crate) http: reqwest::Client,
    pub(crate) config: TrackingConfig,
    pub(crate) policy: ario_http::RetryPolicy,
    /// Requests sent (every attempt), shared by clones.
    pub(crate) sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl MlflowClient {
    /// A client for `config`.
    pub fn new(config: TrackingConfig) -> Result<Self, MlflowError> {
        let mut headers = HeaderMap::new();
        match &config.auth {
            Auth::None => {}
            Auth::Token(t) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {t}"))
                    .map_err(|_| MlflowError::Config("token is not a valid header value".into()))?;
                v.set_sensitive(true);
                headers.insert(AUTHORIZATION, v);
            }
            Auth::Basic { username, password } => {
                use base64::Engine as _;
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                let mut v = HeaderValue::from_str(&format!("Basic {token}")).map_err(|_| {
                    MlflowError::Config("credentials are not a valid header value".into())
                })?;
                v.set_sensitive(true);
                headers.insert(AUTHORIZATION, v);
            }
        }
        let mut b = ario_http::builder()
            .default_headers(headers)
            .danger_accept_invalid_certs(config.insecure_tls);
        if let Some(path) = &config.server_cert_path {
            let pem = std::fs::read(path)
                .map_err(|e| MlflowError::Config(format!("reading {path}: {e}")))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| MlflowError::Config(format!("{path}: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        let http = b.build().map_err(|e| MlflowError::Config(e.to_string()))?;
        let policy = ario_http::RetryPolicy {
            max_retries: config.max_retries,
            base_backoff: config.backoff,
            max_backoff: config.backoff * 16,
        };
        Ok(MlflowClient {
            http,
            config,
            policy,
            sent: Default::default(),
        })
    }

    /// A client configured from MLflow's environment variables.
    pub fn from_env() -> Result<Self, MlflowError> {
        Self::new(TrackingConfig::from_env()?)
    }

    /// HTTP requests this client (and its clones) sent so far, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn count_request(&self) {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The tracking URI.
    pub fn tracking_uri(&self) -> &str {
        &self.config.tracking_uri
    }

    /// The underlying HTTP client (authenticated, shared with the generated API).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `{tracking_uri}{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.tracking_uri)
    }

    /// Sends with retries; a non-2xx answer becomes a typed error.
    pub(crate) async fn send(
        &self,
        mut make: impl FnMut() -> RequestBuilder,
    ) -> Result<Response, MlflowError> {
        let deadline = Instant::now() + self.config.timeout * (self.policy.max_retries + 1);
        let counted = || {
            self.count_request();
            make()
        };
        let resp = ario_http::send_keep_last(&self.policy, self.config.timeout, deadline, counted)
            .await
            .map_err(|e| MlflowError::Unreachable {
                url: self.config.tracking_uri.clone(),
                detail: e.to_string(),
            })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(error_from(resp).await)
    }

    /// GET returning JSON.
    pub(crate) async fn get_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Value, MlflowError> {
        let url = self.url(path);
        let resp = self.send(|| self.http.get(&url).query(query)).await?;
        resp.json()
            .await
            .map_err(|e| MlflowError::Decode(e.to_string()))
    }
}

/// Turns an error answer into [`MlflowError`] (MLflow JSON, or an HTML page).
pub(crate) async fn error_from(resp: Response) -> MlflowError {
    let status = resp.status().as_u16();
    if matches!(status, 401 | 403) {
        let url = resp.url();
        return MlflowError::Unauthorized {
            url: format!("{}://{}", url.scheme(), url.authority()),
            status,
        };
    }
    let body = ario_http::read_capped(resp, 64 * 1024)
        .await
        .unwrap_or_default();
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v.get("error_code").is_some() => MlflowError::Api {
            status,
            error_code: v["error_code"].as_str().unwrap_or_default().to_owned(),
            message: v
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        },
        Ok(v) if v.get("detail").is_some() => MlflowError::Api {
            status,
            error_code: "BAD_REQUEST".into(),
            message: v["detail"]
                .as_str()
                .map_or_else(|| v["detail"].to_string(), str::to_owned),
        },
        _ => MlflowError::Http { status },
    }
}
