//! Test support shared by the integration tests: a real MLflow tracking server
//! (SQLite store, proxied artifacts, bound to 127.0.0.1) started once per test
//! binary, a throwaway PostgreSQL ([`postgres::PgServer`]), and the helpers
//! that find the installed peers.
//!
//! The server runs under a small Python supervisor in its own process group.
//! The supervisor waits on its stdin; when the test process ends for any
//! reason (success, panic, abort, kill) the pipe closes and the supervisor
//! terminates the whole group. Nothing is left running.
//!
//! No silent skips: a test without its MLflow server, peer or corpus prints
//! `SKIPPED: <reason>` and records it in `ARIO_SKIP_LOG` (see [`env`]);
//! a variable that is set but names nothing usable fails the test.
//!
//! ```no_run
//! if let Some(server) = ario_test_support::mlflow() {
//!     println!("MLflow at {}", server.url());
//! }
//! ```

pub mod chromium;
pub mod env;
pub mod postgres;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use env::{env_path, env_path_or_skip, repo_root, skip, PathKind, SkipKind};

/// The variable naming the venv Python with MLflow and the peers.
pub const PEER_PYTHON_VAR: &str = "ARIO_PEER_PYTHON";

/// The venv Python with MLflow and the peers (`ARIO_PEER_PYTHON`, set by
/// `cargo xtask test`; a relative path is taken from the workspace root).
/// `None` when unset; the calling test fails when it is set but names no
/// executable file.
pub fn peer_python() -> Option<PathBuf> {
    env_path(PEER_PYTHON_VAR, PathKind::Executable)
}

/// A running MLflow server.
#[derive(Debug)]
pub struct MlflowServer {
    url: String,
    dir: PathBuf,
    version: String,
    credentials: Option<Credentials>,
    // Held open for the life of the process; dropping it stops the server.
    _supervisor: Mutex<(Child, ChildStdin)>,
}

/// The admin login of a server started with authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `admin`.
    pub username: String,
    /// Its password (at least 12 characters, as MLflow requires).
    pub password: String,
}

impl MlflowServer {
    /// The admin login, for a server started by [`MlflowServer::start_with_auth`].
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Base URL, e.g. `http://127.0.0.1:43121`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's temporary directory (SQLite store and artifacts).
    pub fn dir(&self) -> &PathBuf {
        &self.dir
    }

    /// The MLflow version reported by `GET /version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Creates a fresh experiment (named `<prefix>-<unique>`) and a run in it over
    /// REST; returns `(experiment_id, run_id, artifact_uri)`.
    pub async fn create_run(&self, prefix: &str) -> Result<(String, String, String), String> {
        let http = reqwest::Client::new();
        let post = |path: &str, body: serde_json::Value| {
            let req = http.post(format!("{}{path}", self.url)).json(&body);
            async move {
                let v: serde_json::Value = req
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(v)
            }
        };
        let exp = post(
            "/api/2.0/mlflow/experiments/create",
            serde_json::json!({"name": unique(prefix)}),
        )
        .await?;
        let exp_id = exp["experiment_id"]
            .as_str()
            .ok_or(format!("no experiment id: {exp}"))?
            .to_owned();
        let run = post(
            "/api/2.0/mlflow/runs/create",
            serde_json::json!({"experiment_id": exp_id}),
        )
        .await?;
        let info = &run["run"]["info"];
        let field = |k: &str| {
            info[k]
                .as_str()
                .map(str::to_owned)
                .ok_or(format!("no {k}: {run}"))
        };
        Ok((exp_id.clone(), field("run_id")?, field("artifact_uri")?))
    }

    /// Runs a Python helper script from `xtask/python/` against this server and
    /// returns the JSON object it prints last on stdout.
    pub fn python(&self, script: &str, args: &[&str]) -> Result<serde_json::Value, String> {
        self.python_env(script, args, &[])
    }

    /// [`Self::python`] with extra environment variables.
    pub fn python_env(
        &self,
        script: &str,
        args: &[&str],
        envs: &[(&str, &std::ffi::OsStr)],
    ) -> Result<serde_json::Value, String> {
        let py = peer_python().ok_or(format!("{PEER_PYTHON_VAR} is not set"))?;
        let path = repo_root().join("xtask/python").join(script);
        let mut cmd = Command::new(py);
        if let Some(c) = &self.credentials {
            cmd.env("MLFLOW_TRACKING_USERNAME", &c.username)
                .env("MLFLOW_TRACKING_PASSWORD", &c.password);
        }
        let out = cmd
            .arg(&path)
            .args(args)
            .envs(envs.iter().map(|(k, v)| (*k, *v)))
            .env("MLFLOW_TRACKING_URI", &self.url)
            .env("MLFLOW_DISABLE_TELEMETRY", "true")
            .env("DO_NOT_TRACK", "true")
            .output()
            .map_err(|e| format!("running {script}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{script} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .ok_or("no JSON line on stdout")?;
        serde_json::from_str(last).map_err(|e| format!("{script} printed bad JSON: {e}"))
    }
}

/// `<prefix>-<nanoseconds>-<pid>-<counter>`: a name no other test (in this
/// process or another one sharing the server) uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{nanos}-{}-{n}", std::process::id())
}

/// A loopback address nothing listens on: the discard port `127.0.0.1:9`.
///
/// A port freed by closing a listener can be taken again by any process; the
/// discard port is never handed out by the kernel. Checked on each call, so a
/// machine that does run something there fails loudly instead of silently.
pub fn closed_addr() -> std::net::SocketAddr {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 9));
    #[allow(clippy::panic)]
    if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
        panic!("something listens on {addr}; the tests need it closed");
    }
    addr
}

/// The Python supervisor of a test server (`supervisor.py`).
const SUPERVISOR: &str = include_str!("supervisor.py");

pub(crate) fn free_port() -> Option<u16> {
    TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()
        .map(|a| a.port())
}

/// A minimal HTTP GET on loopback (no client dependency for a readiness
/// probe), with a basic-auth login when given.
fn get(port: u16, path: &str, login: Option<&Credentials>) -> Option<(u16, String)> {
    use base64::Engine as _;
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = login
        .map(|c| {
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", c.username, c.password));
            format!("Authorization: Basic {token}\r\n")
        })
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

/// The shared server of this test binary, or why there is none.
enum Shared {
    /// `ARIO_PEER_PYTHON` is unset: tests skip.
    Unset,
    /// Running.
    Ready(MlflowServer),
    /// `ARIO_PEER_PYTHON` is unusable, or the server did not start: tests fail.
    Failed(String),
}

fn start() -> Shared {
    let py = match env::resolve_path(
        PEER_PYTHON_VAR,
        std::env::var_os(PEER_PYTHON_VAR).as_deref(),
        &repo_root(),
        PathKind::Executable,
    ) {
        Ok(None) => return Shared::Unset,
        Ok(Some(py)) => py,
        Err(why) => return Shared::Failed(why),
    };
    match MlflowServer::start(&py) {
        Ok(s) => Shared::Ready(s),
        Err(e) => Shared::Failed(format!("MLflow test server failed: {e}")),
    }
}

impl MlflowServer {
    /// Starts a fresh server with the `mlflow` next to `py` (stopped when
    /// the returned value is dropped or this process exits).
    pub fn start(py: &std::path::Path) -> Result<MlflowServer, String> {
        start_with(py.to_owned(), false)
    }

    /// Starts a fresh server with MLflow's authentication on
    /// (`--app-name basic-auth`, its own user database, default permission
    /// READ) and an admin login ([`MlflowServer::credentials`]).
    pub fn start_with_auth(py: &std::path::Path) -> Result<MlflowServer, String> {
        start_with(py.to_owned(), true)
    }
}

/// How long a server may take to answer `/health` (`ARIO_MLFLOW_START_TIMEOUT_SECS`,
/// default 300 s: a cold first start on a loaded 2-core machine is slow).
fn start_timeout() -> Duration {
    let secs = std::env::var("ARIO_MLFLOW_START_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// Why one start attempt failed.
enum StartFailure {
    /// The server process exited (e.g. another process took the free port
    /// between our probe and its bind): worth one more try on a new port.
    Exited(String),
    /// Anything else: reported as is.
    Fatal(String),
}

fn start_with(py: PathBuf, auth: bool) -> Result<MlflowServer, String> {
    match start_once(&py, auth) {
        Ok(server) => Ok(server),
        Err(StartFailure::Fatal(e)) => Err(e),
        Err(StartFailure::Exited(first)) => {
            eprintln!("mlflow server exited during start; retrying on a new port");
            start_once(&py, auth).map_err(|second| match second {
                StartFailure::Exited(e) | StartFailure::Fatal(e) => {
                    format!("{e}\n(first attempt: {first})")
                }
            })
        }
    }
}

/// The admin password of servers started with authentication.
const ADMIN_PASSWORD: &str = "ario-test-admin-password";

fn start_once(py: &std::path::Path, auth: bool) -> Result<MlflowServer, StartFailure> {
    use StartFailure::Fatal;
    let mlflow = py
        .parent()
        .ok_or(Fatal("bad python path".into()))?
        .join("mlflow");
    let port = free_port().ok_or(Fatal("no free port".into()))?;
    let dir = std::env::temp_dir().join(format!("ario-mlflow-test-{}-{port}", std::process::id()));
    std::fs::create_dir_all(dir.join("artifacts")).map_err(|e| Fatal(e.to_string()))?;
    let started = Instant::now();
    let mut cmd = Command::new(py);
    let credentials = if auth {
        let ini = dir.join("basic_auth.ini");
        let config = format!(
            "[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///{}\nadmin_username = admin\nadmin_password = {ADMIN_PASSWORD}\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
            dir.join("basic_auth.db").display()
        );
        std::fs::write(&ini, config).map_err(|e| Fatal(e.to_string()))?;
        cmd.env("MLFLOW_AUTH_CONFIG_PATH", &ini).env(
            "MLFLOW_FLASK_SERVER_SECRET_KEY",
            format!("ario-test-{port}-{}", std::process::id()),
        );
        Some(Credentials {
            username: "admin".into(),
            password: ADMIN_PASSWORD.into(),
        })
    } else {
        None
    };
    let mut child = cmd
        .args(["-c", SUPERVISOR])
        .arg(&mlflow)
        .args(["server"])
        .args(if auth {
            &["--app-name", "basic-auth"][..]
        } else {
            &[][..]
        })
        .args(["--backend-store-uri"])
        .arg(format!("sqlite:///{}", dir.join("mlflow.db").display()))
        .arg("--artifacts-destination")
        .arg(dir.join("artifacts"))
        .args([
            "--serve-artifacts",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--workers",
            "1",
        ])
        .env("ARIO_MLFLOW_DIR", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Fatal(format!("starting mlflow: {e}")))?;
    let stdin = child.stdin.take().ok_or(Fatal("no stdin".into()))?;
    let stdout = child.stdout.take().ok_or(Fatal("no stdout".into()))?;
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .map_err(|e| Fatal(e.to_string()))?;
    // Readiness: poll /health until it answers, bounded (a warm start takes ~7 s).
    let timeout = start_timeout();
    let deadline = started + timeout;
    let log = || std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let version = loop {
        // Healthy, and able to say its version (tests branch on it, so an
        // answer lost to a slow machine must not read as "no version").
        if let Some((200, _)) = get(port, "/health", None) {
            match get(port, "/version", credentials.as_ref()) {
                Some((200, v)) if v.trim().starts_with(|c: char| c.is_ascii_digit()) => {
                    break v.trim().to_owned()
                }
                _ => {}
            }
        }
        // The supervisor exits as soon as the server does.
        if let Ok(Some(status)) = child.try_wait() {
            let text = log();
            // Its supervisor kept the directory for this log; nothing else will.
            let _ = std::fs::remove_dir_all(&dir);
            return Err(StartFailure::Exited(format!(
                "mlflow server exited ({status}):\n{text}"
            )));
        }
        if Instant::now() > deadline {
            return Err(Fatal(format!(
                "mlflow server not healthy (or without a version) after {} s (ARIO_MLFLOW_START_TIMEOUT_SECS):\n{}",
                timeout.as_secs(),
                log()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "mlflow {version} ready on 127.0.0.1:{port} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(MlflowServer {
        url: format!("http://127.0.0.1:{port}"),
        dir,
        version,
        credentials,
        _supervisor: Mutex::new((child, stdin)),
    })
}

/// The MLflow server shared by this test binary, started on first use.
///
/// `None` (after [`skip`]: one `SKIPPED:` line, recorded in `ARIO_SKIP_LOG`)
/// when `ARIO_PEER_PYTHON` is unset. The calling test fails when the variable
/// names no executable (a relative path is taken from the workspace root) or
/// the server does not start.
pub fn mlflow() -> Option<&'static MlflowServer> {
    static SERVER: OnceLock<Shared> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Shared::Ready(s) => Some(s),
        Shared::Unset => {
            skip(
                SkipKind::Mlflow,
                &format!("{PEER_PYTHON_VAR} is not set, so there is no MLflow server; run through `cargo xtask test`"),
            );
            None
        }
        #[allow(clippy::panic)]
        Shared::Failed(e) => panic!("{e}"),
    }
}
