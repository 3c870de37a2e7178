//! `serve`: a long-running service beside MLflow. It receives MLflow's
//! registry webhooks (HMAC and timestamp checked, queued durably before the
//! answer), anchors each change as our CLI would, scans chosen experiments
//! for finished runs, and answers verification over HTTP.
//!
//! - `POST /webhooks/mlflow` — MLflow's deliveries.
//! - `GET /v1/verify/run/{id}`, `/v1/verify/model/{name}/{version}`,
//!   `/v1/verify/trace/{id}`, `/v1/audit/{name}/{version}` — read-only, the
//!   CLI's JSON (HTML audit with `Accept: text/html`); `X-Ario-Exit-Code`
//!   carries the CLI's exit code. A bearer token protects them when set.
//! - `GET /healthz`, `/readyz`, `/metrics`.
//!
//! SIGINT or SIGTERM stops accepting, lets the workers finish what is due,
//! and retries the outbox once more.

mod http;
mod metrics;
mod scan;
mod workers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ario_mlflow_client::webhooks::{WebhookSetup, WebhookSpec};
use ario_provenance::inbox::{webhook::SUBSCRIBED, Queue, WebhookSecret};
use ario_provenance::Verifier;
use tokio::sync::{watch, Notify};

use super::common::{anchorer, block_on, shutdown_signal};
use http::Shared;

/// The name `--register-webhooks` gives (and finds) its webhook by.
const WEBHOOK_NAME: &str = "ar-io-mlflow-serve";
/// The path MLflow delivers to.
const WEBHOOK_PATH: &str = "/webhooks/mlflow";

/// `serve`
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on (port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:8789")]
    listen: SocketAddr,
    /// TLS certificate chain (PEM); with --tls-key, serve HTTPS (MLflow
    /// delivers webhooks to https URLs only).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The webhook's HMAC secret; without one, webhooks are refused.
    #[arg(long, env = "ARIO_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// Largest distance, in seconds, between a delivery's timestamp and our clock.
    #[arg(long, default_value_t = ario_provenance::inbox::webhook::DEFAULT_TOLERANCE_SECS)]
    webhook_tolerance: u64,
    /// Create (or update) the webhook in MLflow, delivering to this base URL
    /// (e.g. `https://anchors.example.org:8789`).
    #[arg(long, value_name = "PUBLIC_URL")]
    register_webhooks: Option<String>,
    /// Event queue: a SQLite file (default: `serve-queue.sqlite` in the home
    /// directory), or `postgres://user@host/db` shared by several replicas.
    #[arg(long)]
    queue: Option<String>,
    /// Queue workers (0: receive and queue only).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Bearer token required by the read-only API and /metrics.
    #[arg(long, env = "ARIO_SERVE_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// Experiments (names or ids) whose finished runs are anchored by a periodic scan.
    #[arg(long, num_args = 1.., value_name = "EXPERIMENT")]
    anchor_runs: Vec<String>,
    /// Seconds between scans (training runs and reconciliation).
    #[arg(long, default_value_t = 300)]
    scan_interval: u64,
    /// Seconds between outbox upload retries.
    #[arg(long, default_value_t = 30)]
    outbox_interval: u64,
    /// Longest wait for the workers at shutdown, in seconds.
    #[arg(long, default_value_t = 60)]
    shutdown_wait: u64,
}

async fn open_queue(a: &Args, home: &std::path::Path) -> anyhow::Result<Queue> {
    let spec = match a.queue.as_deref() {
        Some(q) => q.to_owned(),
        None => home.join("serve-queue.sqlite").display().to_string(),
    };
    // Never print a URL's password.
    let shown = spec.split_once('@').map_or(spec.as_str(), |(_, host)| host);
    Queue::open(&spec)
        .await
        .with_context(|| format!("opening the event queue {shown}"))
}

async fn register(
    prov: &ario_provenance::Anchorer,
    base: &str,
    secret: &str,
) -> anyhow::Result<()> {
    let url = format!("{}{WEBHOOK_PATH}", base.trim_end_matches('/'));
    let spec = WebhookSpec {
        name: WEBHOOK_NAME,
        url: &url,
        events: SUBSCRIBED,
        secret,
    };
    let done = prov
        .mlflow()
        .ensure_webhook(&spec)
        .await
        .context("registering the webhook in MLflow")?;
    match done {
        WebhookSetup::Created(id) => println!("webhook {id} created: {url}"),
        WebhookSetup::Updated(id) => println!("webhook {id} updated: {url}"),
    }
    Ok(())
}

pub(crate) fn run(a: &Args) -> anyhow::Result<u8> {
    block_on(async {
        let prov = anchorer()?;
        let queue = open_queue(a, prov.home()).await?;
        let verifier = Verifier::from_env().context("setting up the read-only verifier")?;
        if let Some(base) = &a.register_webhooks {
            let secret = a
                .webhook_secret
                .as_deref()
                .context("--register-webhooks needs --webhook-secret (or ARIO_WEBHOOK_SECRET)")?;
            register(&prov, base, secret).await?;
        }
        let shared = Arc::new(Shared {
            queue,
            secret: a.webhook_secret.as_deref().map(WebhookSecret::new),
            tolerance_secs: a.webhook_tolerance,
            verifier,
            metrics: metrics::Metrics::new(),
            token: a.api_token.clone(),
            wake: Notify::new(),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        for n in 0..a.workers {
            tasks.push(tokio::spawn(workers::worker(
                n,
                prov.clone(),
                shared.clone(),
                stop_rx.clone(),
            )));
        }
        let outbox = tokio::spawn(workers::outbox_loop(
            prov.clone(),
            shared.clone(),
            Duration::from_secs(a.outbox_interval.max(1)),
            stop_rx.clone(),
        ));
        let scanner = tokio::spawn(scan::scan_loop(
            prov.clone(),
            shared.clone(),
            a.anchor_runs.clone(),
            Duration::from_secs(a.scan_interval.max(1)),
            stop_rx.clone(),
        ));
        serve_http(a, shared.clone()).await?;
        tracing::info!("stopping: draining the queue");
        let _ = stop_tx.send(true);
        let wait = Duration::from_secs(a.shutdown_wait);
        let drained = tokio::time::timeout(wait, async {
            for t in tasks {
                let _ = t.await;
            }
            let _ = outbox.await;
        })
        .await;
        scanner.abort();
        let stats = shared.queue.stats().await?;
        println!(
            "stopped: {} anchored, {} ignored, {} left in the queue",
            stats.done,
            stats.ignored,
            stats.queued + stats.leased
        );
        drained.map_err(|_| {
            anyhow::anyhow!("the workers did not finish in {wait:?}; the queue keeps what is left")
        })?;
        Ok(crate::exit::OK)
    })
}

async fn serve_http(a: &Args, shared: Arc<Shared>) -> anyhow::Result<()> {
    let app = http::router(shared.clone());
    let stop = shutdown_signal();
    let handle: axum_server::Handle<SocketAddr> = axum_server::Handle::new();
    let h = handle.clone();
    let scheme = if a.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let webhooks = if shared.secret.is_some() {
        "on"
    } else {
        "off (no --webhook-secret)"
    };
    tokio::spawn(async move {
        if let Some(addr) = h.listening().await {
            println!("serving on {scheme}://{addr} (webhooks {webhooks})");
        }
    });
    let h = handle.clone();
    tokio::spawn(async move {
        stop.await;
        h.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let service = app.into_make_service();
    match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .with_context(|| format!("loading TLS {} and {}", cert.display(), key.display()))?;
            axum_server::bind_rustls(a.listen, config)
                .handle(handle)
                .serve(service)
                .await
        }
        _ => {
            axum_server::bind(a.listen)
                .handle(handle)
                .serve(service)
                .await
        }
    }
    .with_context(|| format!("serving on {}", a.listen))
}
