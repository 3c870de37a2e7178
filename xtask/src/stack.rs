//! The local stack the demo and the benchmarks run on: the `ar-io-mlflow`
//! CLI driven with MLflow's and the devnet's addresses, and child processes
//! stopped when dropped.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context as _;

/// A child process killed when dropped.
pub(crate) struct Guard(pub(crate) Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) struct Env {
    pub(crate) cli: PathBuf,
    /// Print each command and its output.
    pub(crate) echo: bool,
    pub(crate) vars: Vec<(String, String)>,
}

impl Env {
    /// Runs the CLI, echoing its output; returns the exit code and stdout.
    pub(crate) fn cli(&self, args: &[&str]) -> anyhow::Result<(i32, String)> {
        if self.echo {
            println!("    $ ar-io-mlflow {}", args.join(" "));
        }
        let out = Command::new(&self.cli)
            .args(args)
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .env("NO_COLOR", "1")
            .output()
            .context("running ar-io-mlflow")?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !self.echo {
            if !out.status.success() {
                eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            }
            return Ok((out.status.code().unwrap_or(-1), stdout));
        }
        for l in stdout.lines() {
            println!("      {l}");
        }
        for l in String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            println!("      (stderr) {l}");
        }
        Ok((out.status.code().unwrap_or(-1), stdout))
    }

    pub(crate) fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let (code, out) = self.cli(args)?;
        anyhow::ensure!(code == 0, "`ar-io-mlflow {}` exited {code}", args.join(" "));
        Ok(out)
    }
}

pub(crate) fn start_devnet(cli: &Path, data: &Path) -> anyhow::Result<(Guard, String)> {
    let mut child = Command::new(cli)
        .args(["devnet", "--port", "0", "--data-dir"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the devnet")?;
    let stdout = child.stdout.take().context("devnet stdout")?;
    let guard = Guard(child);
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    // Keep draining: a closed pipe would kill the devnet on its next line.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = first
        .trim()
        .strip_prefix("devnet listening on ")
        .context("unexpected devnet banner")?
        .to_owned();
    Ok((guard, url))
}

/// MLflow (with the peers' Python) and a devnet on loopback, fresh under
/// `work`, with the CLI at `cli` driven against them and `work/home` as its
/// home. Both stop when this is dropped.
pub(crate) struct Stack {
    pub(crate) server: ario_test_support::MlflowServer,
    _devnet: Guard,
    pub(crate) devnet_url: String,
    pub(crate) env: Env,
}

impl Stack {
    pub(crate) fn start(python: &Path, cli: PathBuf, work: &Path) -> anyhow::Result<Self> {
        let _ = std::fs::remove_dir_all(work);
        std::fs::create_dir_all(work)?;
        std::env::set_var("ARIO_PEER_PYTHON", python);
        let server = ario_test_support::MlflowServer::start(python).map_err(anyhow::Error::msg)?;
        let (devnet, devnet_url) = start_devnet(&cli, &work.join("devnet"))?;
        let vars = vec![
            ("MLFLOW_TRACKING_URI".to_owned(), server.url().to_owned()),
            ("ARIO_MLFLOW_DEVNET".to_owned(), devnet_url.clone()),
            (
                "ARIO_MLFLOW_HOME".to_owned(),
                work.join("home").display().to_string(),
            ),
        ];
        Ok(Stack {
            server,
            _devnet: devnet,
            devnet_url,
            env: Env {
                cli,
                echo: false,
                vars,
            },
        })
    }
}
