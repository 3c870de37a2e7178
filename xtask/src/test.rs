//! `cargo xtask test`: the project's one test command.
//!
//! No silent skips: every test binary records the tests that skipped (no
//! MLflow server, no peer, no corpus) in the file named by `ARIO_SKIP_LOG`
//! (see `ario_test_support::env`). After the run the skips are listed, and
//! when the peers were installed a skipped MLflow- or peer-backed test fails
//! the command: with the peers present, such a skip means a test did not run.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use ario_test_support::env::{parse_skip_log, SkipKind, SkipRecord, SKIP_LOG_VAR};

use crate::util::{root, shared_dir};

/// Arguments of `xtask test`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Skip installing/using the Python and npm peers (kernel-only run).
    #[arg(long)]
    no_peers: bool,
    /// Run the MLflow integration tests against another MLflow version (e.g. 2.22.5)
    /// in its own venv: the MLflow client and test-support suites and the
    /// lifecycle suites of the library and the CLI.
    #[arg(long)]
    mlflow: Option<String>,
}

/// The pinned requirements with the MLflow pin replaced by `version`.
fn requirements_for(version: &str) -> anyhow::Result<String> {
    let base = std::fs::read_to_string(root().join("xtask/python/requirements.txt"))?;
    let mut out: Vec<String> = base
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("mlflow==") {
                format!("mlflow=={version}")
            } else {
                l.to_owned()
            }
        })
        .collect();
    if version.starts_with("2.") {
        // MLflow 2.x servers fail to start with SQLAlchemy 2.1.
        out.push("sqlalchemy<2.1".into());
    }
    Ok(out.join("\n") + "\n")
}

/// The test suites run against another MLflow version, as named test targets.
/// One `--workspace` run: selecting packages with `-p` would resolve features
/// for that subset alone and rebuild half the dependency graph a second time
/// (on a CI machine that doubles the target directory). Not the plugin interop
/// test: it needs the 3.x plugin.
const MATRIX_RUN: &[&str] = &[
    "--workspace",
    "--test",
    "artifacts",
    "--test",
    "endpoints",
    "--test",
    "resolve",
    "--test",
    "server",
    "--test",
    "lifecycle",
    "--test",
    "recorder",
    "--test",
    "cli_lifecycle",
];

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn matrix(version: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let python =
        crate::peers::python_env(&format!("py-mlflow-{version}"), &requirements_for(version)?)?;
    eprintln!(
        "MLflow {version} venv ready in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let tests_started = Instant::now();
    let mut cmd = cargo();
    // Every suite runs to the end, so one run reports every era difference.
    cmd.args(["test", "--locked", "--no-fail-fast"])
        .args(MATRIX_RUN)
        .env("ARIO_PEER_PYTHON", &python);
    // The venv is there: every MLflow-backed test must run.
    let outcome = run_counting_skips(&mut cmd, &format!("mlflow-{version}"), true);
    eprintln!(
        "MLflow {version} tests took {:.0} s ({:.0} s with the venv)",
        tests_started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    outcome.with_context(|| {
        format!(
            "against MLflow {version}, failed: cargo test {}",
            MATRIX_RUN.join(" ")
        )
    })
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if let Some(v) = &args.mlflow {
        return matrix(v);
    }
    let peers = if args.no_peers {
        None
    } else {
        Some(crate::peers::install()?)
    };
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--all-targets", "--locked"]);
    if let Some(shared) = shared_dir() {
        set_default(
            &mut cmd,
            "ARIO_CONFORMANCE_DIR",
            shared.join("conformance/ar-io-proof/test-vectors"),
        );
        set_default(
            &mut cmd,
            "ARIO_MLFLOW_FIXTURES_DIR",
            shared.join("conformance/ar-io-mlflow"),
        );
    }
    if let Some(p) = &peers {
        cmd.env("ARIO_PEER_PYTHON", &p.python);
        if let Some(node) = &p.node_dir {
            cmd.env("ARIO_PEER_NODE_MODULES", node.join("node_modules"));
        }
    }
    run_counting_skips(&mut cmd, "workspace", peers.is_some())?;
    crate::util::sh(cargo().args(["test", "--workspace", "--doc", "--locked"]))?;
    crate::vectors::run(&crate::vectors::Args { check: true })?;
    if let Some(p) = &peers {
        // The language-neutral families, re-derived in Python from their
        // README alone (JCS from the Python kernel in the peers' venv).
        crate::util::sh(
            Command::new(&p.python)
                .arg(root().join("xtask/python/check_vectors.py"))
                .arg(root().join("test-vectors")),
        )?;
    }
    // Fuzz smoke: every parser of outside input, a few seconds each.
    crate::fuzz::run(&crate::fuzz::Args::smoke())?;
    if root().join("spec/mlflow/openapi.yaml").is_file() {
        crate::codegen::run(&crate::codegen::Args {
            check: true,
            ..Default::default()
        })?;
        if let Some(p) = &peers {
            // Every route, parameter and field name in the spec against MLflow's proto descriptors.
            crate::util::sh(
                Command::new(&p.python).arg(root().join("xtask/python/check_openapi.py")),
            )?;
        }
    }
    if peers.is_some() {
        crate::cross_kernel::run(&crate::cross_kernel::Args::default())?;
    }
    Ok(())
}

fn set_default(cmd: &mut Command, var: &str, value: PathBuf) {
    if std::env::var_os(var).is_none() && value.is_dir() {
        cmd.env(var, value);
    }
}

/// A fresh skip log for one `cargo test` run, removed when dropped.
struct SkipLog(PathBuf);

impl SkipLog {
    fn new(label: &str) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "ario-xtask-skips-{}-{label}.log",
            std::process::id()
        ));
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        Ok(SkipLog(path))
    }

    /// The records written so far (none when no test skipped).
    fn records(&self) -> anyhow::Result<Vec<SkipRecord>> {
        match std::fs::read_to_string(&self.0) {
            Ok(text) => Ok(parse_skip_log(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for SkipLog {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `cmd` (a `cargo test`) with a fresh skip log, lists the skipped tests,
/// and fails when the run failed or — with `peers_installed` — when an
/// MLflow- or peer-backed test skipped.
fn run_counting_skips(cmd: &mut Command, label: &str, peers_installed: bool) -> anyhow::Result<()> {
    let log = SkipLog::new(label)?;
    cmd.env(SKIP_LOG_VAR, &log.0);
    let ran = crate::util::sh(cmd);
    let skips = log.records()?;
    for line in summarize(&skips) {
        eprintln!("{line}");
    }
    ran?;
    if let Err(why) = judge(&skips, peers_installed) {
        bail!("{why}");
    }
    Ok(())
}

/// Distinct `(kind, test, reason)` of the skips, in a stable order (a test that
/// asks for the server twice is listed once).
fn distinct(skips: &[SkipRecord]) -> BTreeSet<(&'static str, &str, &str)> {
    skips
        .iter()
        .map(|s| (s.kind.as_str(), s.test.as_str(), s.reason.as_str()))
        .collect()
}

/// Lines that list the skipped tests (nothing when none skipped).
fn summarize(skips: &[SkipRecord]) -> Vec<String> {
    let distinct = distinct(skips);
    if distinct.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!("{} skipped test(s):", distinct.len())];
    lines.extend(
        distinct
            .iter()
            .map(|(kind, test, reason)| format!("  SKIPPED [{kind}] {test}: {reason}")),
    );
    lines
}

/// `Err` (the message) when a skip is not acceptable: with the peers installed,
/// no MLflow- or peer-backed test may skip. Corpus skips (the shared corpus is
/// not checked out next to this repository) are only reported.
fn judge(skips: &[SkipRecord], peers_installed: bool) -> Result<(), String> {
    if !peers_installed {
        return Ok(());
    }
    let bad: Vec<&SkipRecord> = skips
        .iter()
        .filter(|s| matches!(s.kind, SkipKind::Mlflow | SkipKind::Peer))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    let tests = distinct(&bad.into_iter().cloned().collect::<Vec<_>>())
        .into_iter()
        .map(|(kind, test, _)| format!("{test} [{kind}]"))
        .collect::<Vec<_>>();
    Err(format!(
        "{} MLflow- or peer-backed test(s) skipped although the peers are installed \
         (a skipped test is not a passed one): {}",
        tests.len(),
        tests.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn rec(kind: SkipKind, test: &str) -> SkipRecord {
        SkipRecord {
            kind,
            test: test.into(),
            reason: "X is not set".into(),
        }
    }

    #[test]
    fn skips_fail_only_when_peers_are_installed_and_backed_by_them() {
        let corpus = [rec(SkipKind::Corpus, "conformance upstream")];
        assert_eq!(judge(&corpus, true), Ok(()));
        assert_eq!(judge(&[], true), Ok(()));
        let mixed = [
            rec(SkipKind::Mlflow, "lifecycle a"),
            rec(SkipKind::Mlflow, "lifecycle a"),
            rec(SkipKind::Peer, "interop b"),
            rec(SkipKind::Corpus, "conformance c"),
        ];
        assert_eq!(judge(&mixed, false), Ok(()));
        let err = judge(&mixed, true).unwrap_err();
        assert!(
            err.starts_with("2 MLflow- or peer-backed test(s) skipped"),
            "{err}"
        );
        assert!(err.contains("lifecycle a [mlflow]") && err.contains("interop b [peer]"));
        assert!(!err.contains("conformance c"), "{err}");
    }

    #[test]
    fn the_summary_lists_each_skipped_test_once() {
        assert!(summarize(&[]).is_empty());
        let lines = summarize(&[
            rec(SkipKind::Mlflow, "endpoints t"),
            rec(SkipKind::Mlflow, "endpoints t"),
            rec(SkipKind::Corpus, "conformance u"),
        ]);
        assert_eq!(
            lines,
            vec![
                "2 skipped test(s):".to_owned(),
                "  SKIPPED [corpus] conformance u: X is not set".to_owned(),
                "  SKIPPED [mlflow] endpoints t: X is not set".to_owned(),
            ]
        );
    }

    #[test]
    fn two_x_requirements_pin_mlflow_and_sqlalchemy() {
        let req = requirements_for("2.22.5").unwrap();
        assert!(req.lines().any(|l| l == "mlflow==2.22.5"));
        assert!(req.lines().any(|l| l == "sqlalchemy<2.1"));
        assert!(!req.lines().any(|l| l.starts_with("mlflow==3")));
    }
}
