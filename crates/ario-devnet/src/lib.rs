//! A local devnet that speaks the Turbo upload, ar.io gateway and ar.io
//! Verify wire protocols, for tests and offline use.
//!
//! It checks what the real services check: every uploaded data item is parsed
//! strictly and its signature verified (types 1, 2 and 4); ids are
//! `base64url(SHA-256(signature))`; receipts are signed with the Turbo
//! algorithm by a devnet key; Verify attestations are RSA-PSS-SHA256 (salt 32)
//! over JCS by a devnet operator key. Items persist in the data dir.
//!
//! Layout of the base URL: `/turbo/...` is the upload service, `/raw/<id>`,
//! `/<id>`, `/tx/<id>/status` and `/graphql` are the gateway, `/verify/...` is
//! the Verify API, `/v1/verify-status/<asset>` is an agent gate, and
//! `/__devnet/...` is the control plane (faults, request log).
//!
//! The devnet is a separate crate so that the HTTP server stack (axum,
//! async-graphql) is compiled only into the CLI's `devnet` command and the
//! tests, never into users of `ario-gateway`. It is built from `ario-gateway`'s
//! public API: data items are parsed and verified with [`ario_gateway::ans104`],
//! receipts use [`ario_gateway::turbo::Receipt`], keys are stored with
//! [`ario_gateway::wallet`].
//!
//! ```no_run
//! use ario_devnet::{Devnet, DevnetOptions};
//! use ario_gateway::config::GatewayConfig;
//! use ario_gateway::fetch::GatewayReader;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join("ario-devnet-example");
//! let devnet = Devnet::start(DevnetOptions::new(&dir)).await?;
//! // Point the gateway clients (or `ARIO_MLFLOW_DEVNET`) at it.
//! let reader = GatewayReader::new(GatewayConfig::default().with_devnet(&devnet.url()));
//! println!("devnet at {}, {} items", devnet.url(), devnet.store().len());
//! # drop(reader);
//! devnet.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod faults;
mod graphql;
mod routes;
pub mod store;
mod verify;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use ario_envelope::encoding::{b64url_encode, sha256};
use axum::extract::Request;
use rand::SeedableRng as _;
use rsa::traits::PublicKeyParts as _;
use rsa::RsaPrivateKey;
use serde::Serialize;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub use faults::Faults;
pub use store::{ItemStore, StoreError, Stored};

/// How to start a devnet.
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// Where items and keys persist.
    pub data_dir: PathBuf,
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// RSA size of the receipt and operator keys created on first start.
    pub key_bits: usize,
    /// Largest accepted item, in bytes.
    pub max_item_bytes: usize,
    /// Items above this size get 402 (insufficient balance), as an unfunded wallet would.
    pub free_limit_bytes: Option<usize>,
    /// Seed of the fault-injection dice.
    pub fault_seed: u64,
    /// `asset_id -> status JSON` served at `/v1/verify-status/<asset_id>`, and its secret.
    pub verify_status: Option<(String, BTreeMap<String, Value>)>,
}

impl DevnetOptions {
    /// Defaults for `data_dir`: any port, 2048-bit keys, 10 MiB items, no fee.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        DevnetOptions {
            data_dir: data_dir.into(),
            port: 0,
            key_bits: 2048,
            max_item_bytes: 10 * 1024 * 1024,
            free_limit_bytes: None,
            fault_seed: 7,
            verify_status: None,
        }
    }
}

/// Why the devnet did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevnetError {
    /// The data dir or a key is unusable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}")]
    Bind {
        /// The port.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
}

/// One request as the devnet saw it (header names only, never values).
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Lower-case header names present.
    pub headers: Vec<String>,
}

pub(crate) struct DevnetState {
    store: ItemStore,
    receipt_key: RsaPrivateKey,
    operator_key: RsaPrivateKey,
    faults: RwLock<Faults>,
    fail_next: Mutex<u32>,
    rng: Mutex<rand::rngs::StdRng>,
    log: Mutex<Vec<RequestRecord>>,
    verifications: Mutex<HashMap<String, Value>>,
    base_url: String,
    max_item_bytes: usize,
    free_limit_bytes: Option<usize>,
    verify_status: Option<(String, BTreeMap<String, Value>)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DevnetState {
    pub(crate) fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_faults(&self, f: Faults) {
        *lock(&self.fail_next) = f.fail_next;
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = f;
    }

    pub(crate) fn take_fail_next(&self) -> bool {
        let mut n = lock(&self.fail_next);
        if *n > 0 {
            *n -= 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn rng(&self) -> MutexGuard<'_, rand::rngs::StdRng> {
        lock(&self.rng)
    }

    pub(crate) fn record(&self, req: &Request) {
        lock(&self.log).push(RequestRecord {
            method: req.method().to_string(),
            path: req.uri().to_string(),
            headers: req
                .headers()
                .keys()
                .map(|k| k.as_str().to_owned())
                .collect(),
        });
    }

    /// The Arweave address of the receipt signer.
    fn receipt_address(&self) -> String {
        b64url_encode(&sha256(&self.receipt_key.n().to_bytes_be()))
    }

    fn operator_address(&self) -> String {
        b64url_encode(&sha256(&self.operator_key.n().to_bytes_be()))
    }
}

/// Accepts connections unless the devnet is "down" (then drops them at once).
struct SwitchedListener {
    inner: TcpListener,
    state: Arc<DevnetState>,
}

impl axum::serve::Listener for SwitchedListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if self.state.faults().down {
                        drop(stream);
                        continue;
                    }
                    return (stream, addr);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "devnet accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A running devnet; stops when dropped or on [`Devnet::shutdown`].
pub struct Devnet {
    state: Arc<DevnetState>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Devnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Devnet({})", self.url())
    }
}

impl Devnet {
    /// Opens the data dir (creating keys on first start) and serves on 127.0.0.1.
    pub async fn start(opts: DevnetOptions) -> Result<Self, DevnetError> {
        let store = ItemStore::open(&opts.data_dir)?;
        let bits = opts.key_bits;
        let (receipt_key, operator_key) = {
            let dir = opts.data_dir.join("keys");
            let (r, o) = (
                dir.join("turbo-receipt.jwk.json"),
                dir.join("verify-operator.jwk.json"),
            );
            tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
                Ok((
                    store::load_or_create_key(&r, bits)?,
                    store::load_or_create_key(&o, bits)?,
                ))
            })
            .await
            .map_err(|e| StoreError::Key {
                path: opts.data_dir.clone(),
                detail: e.to_string(),
            })??
        };
        let listener = TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|source| DevnetError::Bind {
                port: opts.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| DevnetError::Bind {
            port: opts.port,
            source,
        })?;
        let state = Arc::new(DevnetState {
            store,
            receipt_key,
            operator_key,
            faults: RwLock::new(Faults::default()),
            fail_next: Mutex::new(0),
            rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(opts.fault_seed)),
            log: Mutex::new(Vec::new()),
            verifications: Mutex::new(HashMap::new()),
            base_url: format!("http://{addr}"),
            max_item_bytes: opts.max_item_bytes,
            free_limit_bytes: opts.free_limit_bytes,
            verify_status: opts.verify_status,
        });
        let app = routes::router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let listener = SwitchedListener {
            inner: listener,
            state: state.clone(),
        };
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "devnet server stopped");
            }
        });
        tracing::info!(url = %format!("http://{addr}"), items = state.store.len(), "devnet listening");
        Ok(Devnet {
            state,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:4000` (use with `ARIO_MLFLOW_DEVNET`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the active faults.
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    /// Requests seen so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.state.log).clone()
    }

    /// Stored items.
    pub fn store(&self) -> &ItemStore {
        &self.state.store
    }

    /// Address of the key that signs receipts (pin it with `ARIO_MLFLOW_TURBO_RECEIPT_SIGNER`).
    pub fn receipt_signer(&self) -> String {
        self.state.receipt_address()
    }

    /// Address of the Verify operator key.
    pub fn operator_address(&self) -> String {
        self.state.operator_address()
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The default data dir of `ar-io-mlflow devnet`: `~/.ario-mlflow/devnet`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("HOME").map_or_else(
        || PathBuf::from(".ario-mlflow-devnet"),
        |h| Path::new(&h).join(".ario-mlflow").join("devnet"),
    )
}
