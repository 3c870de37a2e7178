//! The generated REST API, reached through [`MlflowClient::api`] and
//! [`MlflowClient::call`]: same authenticated connection, retries on 429, 5xx
//! and transport errors, and MLflow's errors as [`MlflowError`].

use std::future::Future;

use progenitor_client::{Error as ApiError, ResponseValue};
use tokio::time::Instant;

use crate::client::MlflowClient;
use crate::error::MlflowError;
use crate::generated::{types, Client};

impl MlflowClient {
    /// The generated client, sharing this connection (auth, TLS, user agent).
    pub fn api(&self) -> Client {
        Client::new_with_client(&self.config.tracking_uri, self.http.clone())
    }

    /// Runs one generated call with the retry policy and typed errors.
    ///
    /// ```no_run
    /// # async fn f(c: &ario_mlflow_client::MlflowClient) -> Result<(), ario_mlflow_client::MlflowError> {
    /// let run = c.call(|api| async move { api.get_run("0123").await }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call<T, F, Fut>(&self, mut op: F) -> Result<T, MlflowError>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, ApiError<types::MlflowError>>>,
    {
        let deadline = Instant::now() + self.config.timeout * (self.policy.max_retries + 1);
        let mut attempt = 0u32;
        loop {
            self.count_request();
            let result = tokio::time::timeout(self.config.timeout, op(self.api())).await;
            let retryable = match &result {
                Err(_) => true,
                Ok(Ok(_)) => false,
                Ok(Err(e)) => {
                    e.status().is_some_and(ario_http::retryable)
                        || matches!(e, ApiError::CommunicationError(_))
                }
            };
            if !retryable || attempt >= self.policy.max_retries {
                return match result {
                    Ok(Ok(v)) => Ok(v.into_inner()),
                    Ok(Err(e)) => Err(self.convert(e).await),
                    Err(_) => Err(MlflowError::Unreachable {
                        url: self.config.tracking_uri.clone(),
                        detail: "timed out".into(),
                    }),
                };
            }
            let wait = ario_http::backoff(&self.policy, attempt);
            if Instant::now() + wait >= deadline {
                return Err(MlflowError::Unreachable {
                    url: self.config.tracking_uri.clone(),
                    detail: "retry deadline passed".into(),
                });
            }
            attempt += 1;
            tokio::time::sleep(wait).await;
        }
    }

    async fn convert(&self, e: ApiError<types::MlflowError>) -> MlflowError {
        match e {
            ApiError::ErrorResponse(v) => {
                let status = v.status().as_u16();
                let body = v.into_inner();
                MlflowError::Api {
                    status,
                    error_code: body.error_code,
                    message: body.message,
                }
            }
            ApiError::UnexpectedResponse(resp) => crate::client::error_from(resp).await,
            ApiError::InvalidResponsePayload(bytes, err) => {
                // MLflow's authentication answers in text; an HTML page means
                // an unknown route on this server version.
                if let Some(status) = crate::error::auth_refusal(&bytes) {
                    MlflowError::Unauthorized {
                        url: self.config.tracking_uri.clone(),
                        status,
                    }
                } else if bytes.starts_with(b"<") {
                    MlflowError::Http { status: 404 }
                } else {
                    MlflowError::Decode(err.to_string())
                }
            }
            ApiError::CommunicationError(err)
            | ApiError::ResponseBodyError(err)
            | ApiError::InvalidUpgrade(err) => MlflowError::Unreachable {
                url: self.config.tracking_uri.clone(),
                detail: ario_http::describe(&err),
            },
            other => MlflowError::Decode(other.to_string()),
        }
    }
}
