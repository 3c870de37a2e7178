//! Typed errors of the MLflow client.

/// What went wrong talking to MLflow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MlflowError {
    /// MLflow answered with its JSON error (`error_code`, `message`).
    #[error("MLflow {error_code} (HTTP {status}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// MLflow's code, e.g. `RESOURCE_DOES_NOT_EXIST`, `INVALID_PARAMETER_VALUE`.
        error_code: String,
        /// MLflow's message.
        message: String,
    },
    /// A non-JSON error page (unknown route, wrong method, a 2.x server asked for a 3.x API).
    #[error("MLflow answered HTTP {status} without an MLflow error body (route missing on this server version?)")]
    Http {
        /// HTTP status.
        status: u16,
    },
    /// MLflow's authentication refused the request: no credentials, wrong
    /// ones (401), or a user without permission for it (403).
    #[error("MLflow at {url} refused the request (HTTP {status}): {}", auth_hint(*status))]
    Unauthorized {
        /// The tracking URI.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// The server could not be reached (after retries).
    #[error("MLflow at {url} is unreachable: {detail}")]
    Unreachable {
        /// The tracking URI.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The answer did not have the expected shape.
    #[error("unexpected MLflow response: {0}")]
    Decode(String),
    /// The tracking URI is not an HTTP(S) server.
    #[error("tracking URI {uri:?} is not an MLflow server; {hint}")]
    UnsupportedTrackingUri {
        /// The URI.
        uri: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// Configuration is invalid (bad certificate file, bad header value…).
    #[error("invalid MLflow client configuration: {0}")]
    Config(String),
    /// Local file I/O while moving artifacts.
    #[error("artifact file {path}")]
    Io {
        /// The local path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An artifact path tries to leave its root (`..`, absolute).
    #[error("unsafe artifact path {0:?}")]
    UnsafePath(String),
    /// An artifact read whole is larger than the reader allows (reading
    /// stopped at the cap).
    #[error("artifact {path} is larger than {cap} bytes, the most read back")]
    TooLarge {
        /// The artifact path.
        path: String,
        /// The cap, in bytes.
        cap: u64,
    },
}

fn auth_hint(status: u16) -> &'static str {
    if status == 403 {
        "the user has no permission for this (ask an MLflow admin to grant it)"
    } else {
        "credentials are missing or wrong; set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)"
    }
}

/// The status of MLflow's authentication refusals, recognised by their
/// fixed bodies where the status itself was not kept (`basic-auth` app).
pub(crate) fn auth_refusal(body: &[u8]) -> Option<u16> {
    if body.starts_with(b"You are not authenticated") {
        Some(401)
    } else if body == b"Permission denied" {
        Some(403)
    } else {
        None
    }
}

impl MlflowError {
    /// MLflow's error code, when there is one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            MlflowError::Api { error_code, .. } => Some(error_code),
            _ => None,
        }
    }

    /// True for `RESOURCE_DOES_NOT_EXIST` (and plain 404s).
    pub fn is_not_found(&self) -> bool {
        matches!(self, MlflowError::Api { error_code, .. } if error_code == "RESOURCE_DOES_NOT_EXIST")
            || matches!(
                self,
                MlflowError::Api { status: 404, .. } | MlflowError::Http { status: 404 }
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlflow_auth_refusals_are_recognised_and_say_what_to_do() {
        assert_eq!(auth_refusal(b"You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate."), Some(401));
        assert_eq!(auth_refusal(b"Permission denied"), Some(403));
        assert_eq!(auth_refusal(b"<html>Not Found</html>"), None);
        let e = MlflowError::Unauthorized {
            url: "http://m".into(),
            status: 401,
        };
        assert!(e.to_string().contains("MLFLOW_TRACKING_PASSWORD"));
        let e = MlflowError::Unauthorized {
            url: "http://m".into(),
            status: 403,
        };
        assert!(e.to_string().contains("no permission"));
    }
}
