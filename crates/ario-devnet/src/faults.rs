//! Fault injection: the weather real gateways have, on demand and reproducible.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::DevnetState;

/// What the devnet does wrong, and to which requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Only requests whose path starts with this are affected (default: all but `/__devnet`).
    pub path_prefix: Option<String>,
    /// Share (0..=1) of requests answered 500.
    pub error_500_share: f64,
    /// Share (0..=1) of requests answered 429.
    pub error_429_share: f64,
    /// The next N matching requests are answered 503 (deterministic).
    pub fail_next: u32,
    /// `Retry-After` seconds sent with 429 and 503 answers.
    pub retry_after_secs: Option<u64>,
    /// Send `Retry-After` as an HTTP-date instead of seconds.
    pub retry_after_as_date: bool,
    /// Added latency per request, in milliseconds.
    pub latency_ms: u64,
    /// Never answer (the client's timeout decides).
    pub hang: bool,
    /// Announce the full length, send half the body, then drop the connection.
    pub truncate: bool,
    /// Answer 200 with a body of this many bytes instead of the real one.
    pub oversize_bytes: Option<u64>,
    /// Answer `302` to this base URL (plus the original path).
    pub redirect_to: Option<String>,
    /// Refuse connections: new ones are dropped at accept, pooled ones get 503 + close.
    pub down: bool,
    /// Highest attestation level the Verify API grants.
    pub verify_level_cap: Option<u8>,
}

fn applies(f: &Faults, path: &str) -> bool {
    if path.starts_with("/__devnet") {
        return false;
    }
    f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
}

fn with_retry_after(mut resp: Response, f: &Faults) -> Response {
    if let Some(secs) = f.retry_after_secs {
        let value = if f.retry_after_as_date {
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(secs))
        } else {
            secs.to_string()
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// The middleware that applies [`Faults`].
pub(crate) async fn inject(
    State(state): State<Arc<DevnetState>>,
    req: Request,
    next: Next,
) -> Response {
    state.record(&req);
    let path = req.uri().path().to_owned();
    let f = state.faults();
    if !applies(&f, &path) {
        return next.run(req).await;
    }
    if f.down {
        let mut resp = (StatusCode::SERVICE_UNAVAILABLE, "devnet is down").into_response();
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return resp;
    }
    if f.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
    }
    if f.hang {
        tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    }
    if state.take_fail_next() {
        return with_retry_after(
            (StatusCode::SERVICE_UNAVAILABLE, "injected 503").into_response(),
            &f,
        );
    }
    let roll: f64 = state.rng().gen();
    if roll < f.error_500_share {
        return (StatusCode::INTERNAL_SERVER_ERROR, "injected 500").into_response();
    }
    if roll < f.error_500_share + f.error_429_share {
        return with_retry_after(
            (
                StatusCode::TOO_MANY_REQUESTS,
                "{\"error\":\"rate limited\"}",
            )
                .into_response(),
            &f,
        );
    }
    if let Some(base) = &f.redirect_to {
        let location = format!("{}{}", base.trim_end_matches('/'), req.uri());
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, location)
            .body(Body::empty())
            .unwrap_or_default();
    }
    if let Some(n) = f.oversize_bytes {
        let chunk = Bytes::from(vec![b' '; 64 * 1024]);
        let chunks = n.div_ceil(64 * 1024);
        let stream = futures_util::stream::iter(
            (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
        );
        return Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, chunks * 64 * 1024)
            .body(Body::from_stream(stream))
            .unwrap_or_default();
    }
    let resp = next.run(req).await;
    if f.truncate {
        let (parts, body) = resp.into_parts();
        let Ok(full) = axum::body::to_bytes(body, usize::MAX).await else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let half = full.slice(..full.len() / 2);
        let stream = futures_util::stream::iter(vec![
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected truncation",
            )),
        ]);
        let mut resp = Response::from_parts(parts, Body::from_stream(stream));
        if let Ok(v) = HeaderValue::from_str(&full.len().to_string()) {
            resp.headers_mut().insert(header::CONTENT_LENGTH, v);
        }
        return resp;
    }
    resp
}
