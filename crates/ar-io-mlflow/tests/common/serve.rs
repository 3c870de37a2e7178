//! What the `serve` tests share: the process, MLflow and devnet around it.

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use ario_gateway::config::GatewayConfig;
use ario_gateway::fetch::GatewayReader;
use ario_provenance::EventKind;
use ario_test_support::MlflowServer;
use serde_json::Value;

use super::{cli, spawn_serving};

pub const SECRET: &str = "serve-test-webhook-secret";
pub const TOKEN: &str = "serve-test-api-token";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// Polls `cond` until it holds (bounded by `ARIO_TEST_EVENTUALLY_SECS`,
/// default 300 s: longer than serve's retry backoff can reach, since a slow
/// machine may push an event through several retries); the last value
/// explains a failure.
pub fn eventually<T: std::fmt::Debug>(what: &str, mut cond: impl FnMut() -> (bool, T)) -> T {
    let secs = std::env::var("ARIO_TEST_EVENTUALLY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (ok, last) = cond();
        if ok {
            return last;
        }
        assert!(Instant::now() < deadline, "{what}: still {last:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub struct Bed<'a> {
    pub server: &'a MlflowServer,
    pub rt: tokio::runtime::Runtime,
    pub devnet: ario_devnet::Devnet,
    pub home: std::path::PathBuf,
    /// A SQLite path or a PostgreSQL URL.
    pub queue: String,
    pub port: u16,
    pub http: reqwest::Client,
}

impl<'a> Bed<'a> {
    /// MLflow, a fresh devnet in `dir`, a home in `dir/home`, and `queue`.
    pub fn new(server: &'a MlflowServer, dir: &Path, queue: String) -> Bed<'a> {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let devnet = super::devnet(&rt, dir);
        Bed {
            server,
            devnet,
            rt,
            home: dir.join("home"),
            queue,
            port: free_port(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    pub fn cmd(&self) -> Command {
        cli(self.server.url(), &self.devnet.url(), &self.home)
    }

    pub fn serve(&self, extra: &[&str]) -> (Running, String) {
        self.serve_as(&self.home, self.port, extra)
    }

    /// A `serve` with its own home (key, outbox) and port, on the shared queue.
    pub fn serve_as(&self, home: &Path, port: u16, extra: &[&str]) -> (Running, String) {
        let mut c = cli(self.server.url(), &self.devnet.url(), home);
        c.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--queue", &self.queue])
            .env("ARIO_WEBHOOK_SECRET", SECRET)
            .env("ARIO_SERVE_TOKEN", TOKEN)
            .args(extra);
        let (child, url) = spawn_serving(c, "serving on");
        eprintln!("serve {extra:?} on {url}");
        (Running(child), url)
    }

    pub fn python(&self, args: &[&str]) -> Value {
        self.server.python("registry_client.py", args).unwrap()
    }

    pub fn version_tags(&self, name: &str, version: &str) -> Value {
        let url = format!(
            "{}/api/2.0/mlflow/model-versions/get?name={name}&version={version}",
            self.server.url()
        );
        let v: Value = self
            .rt
            .block_on(async { self.http.get(url).send().await?.json().await })
            .unwrap();
        let mut tags = serde_json::Map::new();
        for t in v["model_version"]["tags"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            tags.insert(t["key"].as_str().unwrap().into(), t["value"].clone());
        }
        Value::Object(tags)
    }

    /// Registration anchors of one version on the devnet (by our item tags).
    pub fn registrations(&self, name: &str, version: &str) -> usize {
        let reader = GatewayReader::new(
            GatewayConfig::from_lookup(|_| None).with_devnet(&self.devnet.url()),
        );
        let id = format!("{name}/{version}");
        self.rt
            .block_on(reader.transactions_tagged(
                &[
                    ("App-Name", &["ar-io-mlflow"]),
                    ("Event-Type", &[EventKind::Registration.wire_name()]),
                    ("Ario-Subject-Id", &[id.as_str()]),
                ],
                100,
            ))
            .unwrap()
            .len()
    }

    pub fn get(
        &self,
        base: &str,
        path: &str,
        token: Option<&str>,
    ) -> (u16, Option<String>, String) {
        self.rt.block_on(async {
            let mut r = self.http.get(format!("{base}{path}"));
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let resp = r.send().await.unwrap();
            let exit = resp
                .headers()
                .get("x-ario-exit-code")
                .map(|v| v.to_str().unwrap().to_owned());
            (resp.status().as_u16(), exit, resp.text().await.unwrap())
        })
    }

    /// Deletes a model version through MLflow's REST API.
    pub fn delete_version(&self, name: &str, version: &str) {
        let url = format!("{}/api/2.0/mlflow/model-versions/delete", self.server.url());
        let status = self.rt.block_on(async {
            self.http
                .delete(url)
                .json(&serde_json::json!({"name": name, "version": version}))
                .send()
                .await
                .unwrap()
                .status()
        });
        assert!(status.is_success(), "{status}");
    }

    /// `GET` with `Accept: text/html`.
    pub fn get_html(&self, base: &str, path: &str, token: &str) -> (u16, Option<String>, String) {
        self.rt.block_on(async {
            let resp = self
                .http
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .header("accept", "text/html")
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), None, resp.text().await.unwrap())
        })
    }

    pub fn post_webhook(
        &self,
        base: &str,
        id: &str,
        ts: u64,
        sig: &str,
        body: &str,
    ) -> (u16, String) {
        self.rt.block_on(async {
            let resp = self
                .http
                .post(format!("{base}/webhooks/mlflow"))
                .header("content-type", "application/json")
                .header("x-mlflow-delivery-id", id)
                .header("x-mlflow-timestamp", ts.to_string())
                .header("x-mlflow-signature", sig)
                .body(body.to_owned())
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        })
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A `serve` process, killed if the test ends without stopping it.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    pub fn sigkill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

pub fn sigterm(running: &mut Running) -> Option<i32> {
    let child = &mut running.0;
    let out = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success());
    child.wait().unwrap().code()
}

pub fn anchored(bed: &Bed<'_>, name: &str, version: &str, tag: &'static str) -> Value {
    eventually(&format!("{name}/{version} gets {tag}"), || {
        let t = bed.version_tags(name, version);
        (t.get(tag).is_some(), t)
    })
}

pub fn logged_run(server: &MlflowServer, experiment: &str) -> String {
    let logged = server
        .python("log_trivial_model.py", &["--experiment", experiment])
        .unwrap();
    logged["run_id"].as_str().unwrap().to_owned()
}

/// A gauge's value in exposition text (-1 when absent).
pub fn gauge(text: &str, name: &str) -> i64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(-1)
}

/// Drops members that differ between two runs of the same verification
/// (the attestation's time and report id), at any depth.
pub fn strip_times(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                o.remove("attested_at");
                o.remove("report_url");
                o.remove("generated_at");
                o.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

pub fn parse_metrics(server: &MlflowServer, dir: &Path, text: &str) -> Value {
    let f = dir.join("metrics.txt");
    std::fs::write(&f, text).unwrap();
    server
        .python("parse_metrics.py", &[f.to_str().unwrap()])
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}
