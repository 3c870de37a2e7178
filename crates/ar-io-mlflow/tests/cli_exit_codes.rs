//! One exit-code map for every command, checked without any server: MLflow
//! and the gateways are a closed port, inputs are malformed on purpose.
//! Every failure prints each cause once, and `--format json` always yields
//! one JSON document on stdout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(home: &std::path::Path, args: &[&str]) -> Run {
    let closed = format!("http://{}", ario_test_support::closed_addr());
    let out = Command::new(env!("CARGO_BIN_EXE_ar-io-mlflow"))
        .args(args)
        .env("MLFLOW_TRACKING_URI", &closed)
        .env("ARIO_MLFLOW_DEVNET", &closed)
        .env("ARIO_MLFLOW_HOME", home)
        .env("ARIO_MLFLOW_WAIT", "30")
        .env("NO_COLOR", "1")
        // One quick retry: the answer (unreachable) is the same, only sooner.
        .env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
        .env("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.05")
        .env_remove("ARIO_MLFLOW_SIGNING_KEY")
        .env_remove("ARIO_MLFLOW_ARWEAVE_WALLET")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// No part of the message (split where causes are joined) appears twice.
fn assert_each_cause_once(text: &str) {
    let parts: Vec<&str> = text
        .lines()
        .flat_map(|l| l.split(": "))
        .map(str::trim)
        .filter(|p| p.len() > 12)
        .collect();
    for (i, p) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].contains(p),
            "cause {p:?} is printed twice in {text:?}"
        );
    }
}

const RUN: &str = "0123456789abcdef0123456789abcdef";

fn unreachable_commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["anchor", "run", RUN],
        vec!["anchor", "dataset", "--run", RUN, "--name", "iris"],
        vec![
            "register",
            "m",
            "--source",
            "runs:/0123456789abcdef0123456789abcdef/model",
        ],
        vec!["promote", "m", "1", "--alias", "champion"],
        vec!["promote", "m", "1", "--stage", "Production"],
        vec![
            "decide",
            "--model",
            "models:/m/1",
            "--input",
            "{}",
            "--output",
            "[1]",
        ],
        vec!["verify", "run", RUN],
        vec!["verify", "model", "m/1"],
        vec!["verify", "trace", "tr-0123"],
        vec!["audit", "m/1"],
    ]
}

#[test]
fn mlflow_unreachable_is_undetermined_for_every_command() {
    let home = tempfile::tempdir().unwrap();
    for args in unreachable_commands() {
        let r = cli(home.path(), &args);
        assert_eq!(r.code, 3, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("unreachable"), "{args:?}: {}", r.stderr);
        assert_each_cause_once(&r.stderr);

        let mut json_args = args.clone();
        json_args.extend(["--format", "json"]);
        let r = cli(home.path(), &json_args);
        assert_eq!(r.code, 3, "{json_args:?}: {}{}", r.stdout, r.stderr);
        let doc: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{json_args:?}: stdout is not JSON ({e}): {:?}", r.stdout));
        assert_eq!(doc["exit_code"], 3, "{doc}");
        assert_eq!(doc["status"], "undetermined", "{doc}");
        assert_eq!(doc["error"]["kind"], "unavailable", "{doc}");
        assert_each_cause_once(doc["error"]["message"].as_str().unwrap());
    }
}

#[test]
fn malformed_input_exits_2_with_a_json_document() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec![
            "decide",
            "--model",
            "models:/m/1",
            "--input",
            "{not json",
            "--output",
            "[1]",
        ],
        vec![
            "decide",
            "--model",
            "not-a-uri",
            "--input",
            "{}",
            "--output",
            "[1]",
        ],
        vec!["anchor", "dataset", "--name", "x"],
        vec!["anchor", "run", RUN, "--metadata", "no-equals-sign"],
    ] {
        let r = cli(home.path(), &args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
        let mut json_args = args.clone();
        json_args.extend(["--format", "json"]);
        let r = cli(home.path(), &json_args);
        assert_eq!(r.code, 2, "{json_args:?}");
        let doc: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(doc["exit_code"], 2);
        assert_eq!(doc["status"], "malformed");
    }
}

#[test]
fn verifying_creates_no_key_wallet_or_outbox() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("never-created");
    for args in [vec!["verify", "run", RUN], vec!["audit", "m/1"]] {
        cli(&dir, &args);
    }
    assert!(!dir.exists());
}
