//! The one HTTP policy every ar-io-mlflow client uses: bounded retries on 429,
//! 5xx and transport errors with jittered exponential backoff, `Retry-After`
//! honoured (seconds or HTTP-date), an overall deadline, size-capped bodies,
//! and redirects that never change scheme or host.
//!
//! ```
//! use std::time::Duration;
//! let policy = ario_http::RetryPolicy::default();
//! assert!(ario_http::backoff(&policy, 3) <= policy.max_backoff);
//! ```

use std::time::{Duration, SystemTime};

use futures_util::StreamExt as _;
use rand::Rng as _;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::time::Instant;

/// Retry behaviour for one HTTP call.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (the plugin uses 2: three attempts).
    pub max_retries: u32,
    /// First backoff; doubles per retry, with full jitter.
    pub base_backoff: Duration,
    /// Ceiling of one backoff (a `Retry-After` above it is honoured up to the deadline).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// Why a request produced no usable response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestFailure {
    /// The server kept answering 429 or 5xx until the retries ran out.
    #[error("HTTP {status} after {attempts} attempt(s)")]
    Status {
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// Connection refused, reset, timed out…
    #[error("transport error after {attempts} attempt(s): {detail}")]
    Transport {
        /// What the last attempt reported (never includes headers).
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The overall deadline passed before an answer.
    #[error("deadline exceeded after {attempts} attempt(s)")]
    Deadline {
        /// Attempts made.
        attempts: u32,
    },
    /// The body exceeded the size cap.
    #[error("response body larger than {cap} bytes")]
    TooLarge {
        /// The cap.
        cap: u64,
    },
}

/// True for statuses worth retrying.
pub fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The wait a `Retry-After` header asks for (delta-seconds or HTTP-date).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Full-jitter backoff before retry number `retry` (0-based).
pub fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let cap = policy
        .base_backoff
        .checked_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
        .unwrap_or(policy.max_backoff)
        .min(policy.max_backoff);
    let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
}

/// Sends the request `make` builds, retrying per `policy` until `deadline`.
///
/// Returns the first response that is not retryable, or the last retryable
/// one as [`RequestFailure::Status`] once retries are spent.
pub async fn send(
    policy: &RetryPolicy,
    timeout: Duration,
    deadline: Instant,
    make: impl FnMut() -> RequestBuilder,
) -> Result<Response, RequestFailure> {
    send_inner(policy, timeout, deadline, make, false).await
}

/// As [`send`], but once retries are spent the last retryable response is
/// returned as `Ok` (so the caller can read the server's error body).
pub async fn send_keep_last(
    policy: &RetryPolicy,
    timeout: Duration,
    deadline: Instant,
    make: impl FnMut() -> RequestBuilder,
) -> Result<Response, RequestFailure> {
    send_inner(policy, timeout, deadline, make, true).await
}

async fn send_inner(
    policy: &RetryPolicy,
    timeout: Duration,
    deadline: Instant,
    mut make: impl FnMut() -> RequestBuilder,
    keep_last: bool,
) -> Result<Response, RequestFailure> {
    let mut attempts = 0u32;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(RequestFailure::Deadline { attempts });
        }
        attempts += 1;
        let left = deadline - now;
        let result = make().timeout(timeout.min(left)).send().await;
        let last_try = attempts > policy.max_retries;
        let wait = match result {
            Ok(resp) if !retryable(resp.status()) => return Ok(resp),
            Ok(resp) => {
                let status = resp.status().as_u16();
                if last_try {
                    return if keep_last {
                        Ok(resp)
                    } else {
                        Err(RequestFailure::Status { status, attempts })
                    };
                }
                retry_after(resp.headers(), SystemTime::now())
                    .unwrap_or_else(|| backoff(policy, attempts - 1))
            }
            Err(e) => {
                if last_try {
                    return Err(RequestFailure::Transport {
                        detail: describe(&e),
                        attempts,
                    });
                }
                backoff(policy, attempts - 1)
            }
        };
        if Instant::now() + wait >= deadline {
            return Err(RequestFailure::Deadline { attempts });
        }
        tokio::time::sleep(wait).await;
    }
}

/// A short description of a transport error, without URL query or headers.
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body read failed"
    } else if e.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut root = String::new();
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    if root.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {root}")
    }
}

/// Reads at most `cap` bytes of body; refuses (without reading) a declared
/// `Content-Length` above it and stops as soon as a streamed body crosses it.
pub async fn read_capped(resp: Response, cap: u64) -> Result<Vec<u8>, RequestFailure> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(RequestFailure::TooLarge { cap });
    }
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| RequestFailure::Transport {
            detail: describe(&e),
            attempts: 1,
        })?;
        if out.len() as u64 + chunk.len() as u64 > cap {
            return Err(RequestFailure::TooLarge { cap });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A client that follows at most three redirects, never to another scheme or host.
pub fn client() -> reqwest::Client {
    builder().build().unwrap_or_default()
}

/// The builder behind [`client`] (same redirect policy and user agent), for
/// callers that add headers or TLS settings.
pub fn builder() -> reqwest::ClientBuilder {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt.previous().first().is_some_and(|first| {
            first.scheme() == attempt.url().scheme()
                && first.host_str() == attempt.url().host_str()
                && first.port() == attempt.url().port()
        });
        if attempt.previous().len() > 3 || !same_origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .redirect(policy)
        .user_agent(concat!("ar-io-mlflow-rs/", env!("CARGO_PKG_VERSION")))
}

/// A client that never follows redirects (for requests that carry secrets).
pub fn client_no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ar-io-mlflow-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            retry_after(&h, SystemTime::now()),
            Some(Duration::from_secs(7))
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_is_bounded() {
        let p = RetryPolicy {
            max_retries: 10,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        };
        for r in 0..40 {
            assert!(backoff(&p, r) <= Duration::from_secs(1));
        }
    }
}
