//! The lifecycle commands end to end (real MLflow server, devnet), their
//! exit codes, and snapshots of their text and JSON output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use ario_devnet::{Devnet, DevnetOptions, Faults};
use ario_test_support::{mlflow, unique};
use serde_json::Value;

struct Cli<'a> {
    mlflow: &'a str,
    devnet: String,
    home: &'a Path,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_ar-io-mlflow"))
            .args(args)
            .env("MLFLOW_TRACKING_URI", self.mlflow)
            .env("ARIO_MLFLOW_DEVNET", &self.devnet)
            .env("ARIO_MLFLOW_HOME", self.home)
            .env_remove("ARIO_MLFLOW_SIGNING_KEY")
            .env_remove("ARIO_MLFLOW_ARWEAVE_WALLET")
            .env("NO_COLOR", "1")
            // A loaded CI machine must not turn a slow anchor into a snapshot diff.
            .env("ARIO_MLFLOW_WAIT", "300")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn json(&self, args: &[&str]) -> Value {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        serde_json::from_str(&out).unwrap()
    }
}

/// A transaction id with the characters around it (base64url ids may start
/// or end with `-`, where `\b` finds no boundary).
const TX_ID: &str = r"(?m)(^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{43}($|[^A-Za-z0-9_-])";

/// Replaces what changes between runs (ids, hashes, times, ports, paths).
fn snap(name: &str, text: &str) {
    let filters = vec![
        (r"tr-[0-9a-f]{32}", "[TRACE]"),
        (r"vrf-[0-9a-f]+", "[VRF]"),
        // The cause of a failed read varies (503 seen, or the connection dropped).
        (r"(gateway\(s\): https?://[\d.]+:\d+): .*", "$1: [CAUSE]"),
        // Transaction ids before anything that could match inside one. Matches
        // consume their delimiters, so ids one character apart need a second pass.
        (TX_ID, "${1}[TX]${2}"),
        (TX_ID, "${1}[TX]${2}"),
        (r"\b[0-9a-f]{128}\b", "[SIG]"),
        (r"\b[0-9a-f]{64}\b", "[HASH]"),
        (r"\b[0-9a-f]{32}\b", "[RUN]"),
        (
            r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
            "[UUID]",
        ),
        (r"https?://127\.0\.0\.1:\d+", "[DEVNET]"),
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)",
            "[TIME]",
        ),
        (r"cli-iris(-\d+)+", "[MODEL]"),
        // sklearn models are saved as skops by MLflow 3, as pickle by 2.x.
        (r"model\.(skops|pkl)", "model.[SERIALIZED]"),
        (r"\d+ bytes", "[N] bytes"),
        (r#"[^"\\]*log_iris_run\.py"#, "[SCRIPT]"),
        (r"\b[0-9a-f]{40}\b", "[COMMIT]"),
        (r"/[^\s]*/(home|\.tmp\w+)/", "[HOME]/"),
    ];
    insta::with_settings!({filters => filters, prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn lifecycle_commands_and_their_failures() {
    let Some(server) = mlflow() else { return };
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetOptions::new(dir.path().join("devnet")))
        .await
        .unwrap();
    let home = dir.path().join("home");
    let cli = Cli {
        mlflow: server.url(),
        devnet: devnet.url(),
        home: &home,
    };
    let logged = server
        .python("log_iris_run.py", &["--experiment", &unique("cli")])
        .unwrap();
    let run_id = logged["run_id"].as_str().unwrap();

    // Nothing anchored yet: exit 2.
    let (code, out, _) = cli.run(&["verify", "run", run_id]);
    assert_eq!(code, 2);
    snap("verify_run_not_anchored", &out);
    assert!(!home.exists(), "verifying creates no key, wallet or outbox");

    // Dry run: payload and unsigned envelope, nothing written.
    let dry = cli.json(&["anchor", "run", run_id, "--dry-run", "--format", "json"]);
    assert!(dry["envelope"].get("signature").is_none());
    snap(
        "anchor_run_dry_json",
        &serde_json::to_string_pretty(&dry).unwrap(),
    );
    assert_eq!(
        cli.run(&["verify", "run", run_id]).0,
        2,
        "a dry run writes nothing"
    );

    let (code, out, err) = cli.run(&["anchor", "run", run_id]);
    assert_eq!(code, 0, "{out}{err}");
    snap("anchor_run", &out);

    let (code, out, _) = cli.run(&["verify", "run", run_id]);
    assert_eq!(code, 0, "{out}");
    snap("verify_run", &out);
    let v = cli.json(&[
        "verify",
        "run",
        run_id,
        "--format",
        "json",
        "--no-write-back",
    ]);
    assert_eq!(v["status"], "verified");
    trust_policies_decide_who_may_sign(&cli, run_id, &v, dir.path());
    snap(
        "verify_run_json",
        &serde_json::to_string_pretty(&v).unwrap(),
    );

    // Standalone dataset anchors: from the run's logged input, and from explicit fields.
    let ds = cli.json(&[
        "anchor", "dataset", "--run", run_id, "--name", "iris", "--format", "json",
    ]);
    assert_eq!(ds["status"], "anchored", "{ds}");
    let tx = ds["tx_id"].as_str().unwrap();
    let (code, out, _) = cli.run(&["verify", "dataset", tx, "--run", run_id]);
    assert_eq!(code, 0, "{out}");
    snap("verify_dataset", &out);
    let (code, out, _) = cli.run(&["verify", "dataset", tx]);
    assert_eq!(
        code, 3,
        "without a run to re-derive from, the record row cannot run: {out}"
    );
    let explicit = cli.json(&[
        "anchor",
        "dataset",
        "--name",
        "loans",
        "--source",
        r#"{"uri": "s3://bucket/loans.csv"}"#,
        "--source-type",
        "s3",
        "--digest",
        "9f2c1e77",
        "--format",
        "json",
    ]);
    assert_eq!(explicit["status"], "anchored");
    assert_eq!(
        explicit["payload"],
        r#"{"digest":"9f2c1e77","event_type":"dataset","name":"loans","schema_hash":"","source":"{\"uri\": \"s3://bucket/loans.csv\"}","source_type":"s3"}"#
    );
    let (code, _, err) = cli.run(&["anchor", "dataset", "--name", "x"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("explicit mode needs"), "{err}");

    let model = unique("cli-iris");
    let (code, out, err) = cli.run(&[
        "register",
        &model,
        "--source",
        &format!("runs:/{run_id}/model"),
        "--run-id",
        run_id,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    snap("register", &out);
    let (code, out, _) = cli.run(&["promote", &model, "1", "--alias", "champion"]);
    assert_eq!(code, 0, "{out}");
    snap("promote_alias", &out);
    let (code, out, _) = cli.run(&["promote", &model, "1", "--stage", "Production"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = cli.run(&["verify", "model", &format!("{model}/1")]);
    assert_eq!(code, 0, "{out}");
    snap("verify_model", &out);

    let ex = &logged["examples"][0];
    let d = cli.json(&[
        "decide",
        "--model",
        &format!("models:/{model}@champion"),
        "--input",
        &ex["input"].to_string(),
        "--output",
        &ex["output"].to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(d["anchor"]["status"], "anchored");
    // MLflow 2.x has no trace API: decisions carry no trace there, and
    // their record rows rest on the anchored bytes (own snapshots per era).
    let era = if server.version().starts_with("2.") {
        "_mlflow2"
    } else {
        ""
    };
    snap(
        &format!("decide_json{era}"),
        &serde_json::to_string_pretty(&d).unwrap(),
    );
    if let Some(trace) = d["trace_id"].as_str() {
        let (code, out, _) = cli.run(&["verify", "trace", trace]);
        assert_eq!(code, 0, "{out}");
        snap("verify_trace", &out);
    } else {
        assert!(era == "_mlflow2", "a 3.x server writes a trace: {d}");
    }

    let (code, out, _) = cli.run(&["audit", &format!("{model}/1")]);
    assert_eq!(code, 0, "{out}");
    snap(&format!("audit_text{era}"), &out);
    let audit = cli.json(&["audit", &format!("{model}/1"), "--format", "json"]);
    for k in [
        "schema",
        "model",
        "version",
        "generated_at",
        "tracking_uri",
        "run_id",
        "current_stage",
        "artifact_hash",
        "stages",
        "overall_ok",
    ] {
        assert!(
            audit.get(k).is_some(),
            "ario.mlflow.audit/v1 member {k} missing"
        );
    }
    assert_eq!(audit["schema"], "ario.mlflow.audit/v1");
    let html = dir.path().join("audit.html");
    let (code, out, _) = cli.run(&[
        "audit",
        &format!("{model}/1"),
        "--format",
        "html",
        "--output",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>")
            && page.contains("alias champion")
            && page.contains("None → Production")
    );
    assert!(
        !page.contains("<script src") && !page.contains("<link"),
        "self-contained"
    );

    // in-toto: the Statement and its DSSE envelope, checked by independent
    // implementations (in-toto-attestation, securesystemslib).
    in_toto_checks(&cli, server, &model, dir.path());
    progress_only_on_a_terminal(&cli, &model);
    evidence_bundle_checks(&cli, server, &model, dir.path());

    let (code, out, _) = cli.run(&["status"]);
    assert_eq!(code, 0);
    snap("status_empty", &out);

    // Failure paths: gateway down → exit 3 for verify, outbox for anchor, retry.
    devnet.set_faults(Faults {
        down: true,
        ..Default::default()
    });
    let (code, out, _) = cli.run(&["verify", "model", &format!("{model}/1")]);
    assert_eq!(code, 3, "{out}");
    snap("verify_gateway_down", &out);
    let logged2 = server
        .python("log_iris_run.py", &["--experiment", &unique("cli")])
        .unwrap();
    let run2 = logged2["run_id"].as_str().unwrap();
    let (code, out, _) = cli.run(&["anchor", "run", run2]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("signed only"), "{out}");
    let (code, out, _) = cli.run(&["status"]);
    assert_eq!(code, 0);
    assert_eq!(out.matches("\n  pending ").count(), 2, "{out}");
    devnet.set_faults(Faults::default());
    let (code, out, _) = cli.run(&["retry"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("Retried 2 item(s): 2 anchored"), "{out}");
    assert_eq!(cli.run(&["verify", "run", run2]).0, 0);

    // Edited metric → exit 1, named in the panel.
    let script = "import mlflow,sys\nwith mlflow.start_run(run_id=sys.argv[1]): mlflow.log_metric('accuracy', 0.5)\nprint('{}')";
    let script_path = dir.path().join("edit.py");
    std::fs::write(&script_path, script).unwrap();
    let st = Command::new(ario_test_support::peer_python().unwrap())
        .arg(&script_path)
        .arg(run_id)
        .env("MLFLOW_TRACKING_URI", server.url())
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let (code, out, _) = cli.run(&["verify", "run", run_id]);
    assert_eq!(code, 1, "{out}");
    snap("verify_run_metric_edited", &out);

    // A model file overwritten → `decide` refuses (exit 1) before recording anything.
    let client = ario_mlflow_client::MlflowClient::new(
        ario_mlflow_client::TrackingConfig::new(server.url()).unwrap(),
    )
    .unwrap();
    let loc = client.run_path_location(run_id, "model").await.unwrap();
    let path = if loc.dir.is_empty() {
        "MLmodel".to_owned()
    } else {
        format!("{}/MLmodel", loc.dir)
    };
    client
        .upload_artifact(&loc.root, &path, b"tampered".to_vec())
        .await
        .unwrap();
    let (code, out, err) = cli.run(&[
        "decide",
        "--model",
        &format!("models:/{model}/1"),
        "--input",
        "[1,2,3,4]",
        "--output",
        "[0]",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.starts_with("REFUSED: model artifact integrity check failed"),
        "{err}"
    );
    assert!(out.is_empty());

    // MLflow unreachable → clear error, exit 3.
    let unreachable = format!("http://{}", ario_test_support::closed_addr());
    let closed = Cli {
        mlflow: &unreachable,
        devnet: devnet.url(),
        home: &home,
    };
    let (code, _, err) = closed.run(&["verify", "run", run_id]);
    assert_eq!(code, 3);
    assert!(err.contains("is unreachable"), "{err}");
    assert!(
        err.starts_with("error: MLflow at "),
        "one message, its cause once: {err}"
    );
}

/// `--trust`: our key in its window verifies; a policy that does not list
/// it, or whose window ended before the signing, fails; a bad file exits 2.
fn trust_policies_decide_who_may_sign(cli: &Cli, run_id: &str, v: &Value, dir: &Path) {
    let key = v["envelope"]["public_key"].as_str().unwrap();
    let stranger = "11".repeat(32);
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let ours = write(
        "ours.toml",
        format!("[[signer]]\nname = \"ci\"\npublic_key = \"{key}\"\n"),
    );
    let others = write(
        "others.toml",
        format!("[[signer]]\nname = \"other\"\npublic_key = \"{stranger}\"\n"),
    );
    let expired = write(
        "expired.toml",
        format!("[[signer]]\nname = \"ci\"\npublic_key = \"{key}\"\nnot_after = \"2001-01-01T00:00:00Z\"\n"),
    );
    let broken = write("broken.toml", "[[signer]]\nname = 1\n".into());
    let verify = |policy: &str| {
        cli.run(&[
            "verify",
            "run",
            run_id,
            "--no-write-back",
            "--trust",
            policy,
        ])
    };
    let (code, out, _) = verify(&ours);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Signer Trusted               ✓ signed by ci"),
        "{out}"
    );
    let (code, out, _) = verify(&others);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("✗ unknown signer"), "{out}");
    let (code, out, _) = verify(&expired);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("✗ key expired"), "{out}");
    let (code, out, err) = verify(&broken);
    assert_eq!(
        code, 2,
        "a bad trust file is an error, never an empty policy: {out}{err}"
    );
    assert!(err.contains("broken.toml"), "{err}");
}

/// The filters themselves: ids at either edge of a base64url alphabet, and
/// two ids one character apart, are all masked.
#[test]
fn transaction_ids_are_masked_whatever_their_edges() {
    snap(
        "tx_filter",
        "anchored: -C_vAt_EgInHRz3RQrqfKXSAGNDETD0mUDdZP4mU00o (http://127.0.0.1:9/-C_vAt_EgInHRz3RQrqfKXSAGNDETD0mUDdZP4mU00o)\n\
         C_vAt_EgInHRz3RQrqfKXSAGNDETD0mUDdZP4mU00o- C_vAt_EgInHRz3RQrqfKXSAGNDETD0mUDdZP4mU00o_\n\
         too long: -C_vAt_EgInHRz3RQrqfKXSAGNDETD0mUDdZP4mU00oX",
    );
}

fn in_toto_checks(cli: &Cli, server: &ario_test_support::MlflowServer, model: &str, dir: &Path) {
    let check = |file: &Path, key: Option<&str>| {
        let mut args = vec![file.to_str().unwrap()];
        if let Some(k) = key {
            args.extend(["--public-key", k]);
        }
        server.python("check_intoto.py", &args)
    };
    let statement = dir.join("statement.json");
    let (code, out, err) = cli.run(&[
        "audit",
        &format!("{model}/1"),
        "--format",
        "in-toto",
        "--output",
        statement.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let st: Value = serde_json::from_str(&std::fs::read_to_string(&statement).unwrap()).unwrap();
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert!(st["predicate"]["lineage"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["tx_id"].is_string()));
    let r = check(&statement, None).unwrap();
    assert_eq!(r["valid"], true, "{r}");
    assert!(r["subjects"].as_u64().unwrap() >= 1, "{r}");

    let signed = dir.join("statement.dsse.json");
    let (code, out, err) = cli.run(&[
        "audit",
        &format!("{model}/1"),
        "--format",
        "in-toto",
        "--dsse",
        "--output",
        signed.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let key = cli.json(&["keys", "show", "--format", "json"]);
    let key = key["public_key"].as_str().unwrap().to_owned();
    let r = check(&signed, Some(&key)).unwrap();
    assert_eq!(
        (r["valid"].clone(), r["dsse_verified"].clone()),
        (Value::Bool(true), Value::Bool(true)),
        "{r}"
    );
    // One changed byte of the payload, or another key: refused.
    let mut env: Value = serde_json::from_str(&std::fs::read_to_string(&signed).unwrap()).unwrap();
    let payload = env["payload"].as_str().unwrap().to_owned();
    let flipped = if payload.starts_with('e') {
        payload.replacen('e', "f", 1)
    } else {
        format!("e{}", &payload[1..])
    };
    env["payload"] = Value::String(flipped);
    let tampered = dir.join("statement.tampered.json");
    std::fs::write(&tampered, env.to_string()).unwrap();
    assert!(
        check(&tampered, Some(&key)).is_err(),
        "a changed payload must not verify"
    );
    let other = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    assert!(
        check(&signed, Some(other)).is_err(),
        "another key must not verify"
    );
    let (code, _, err) = cli.run(&["audit", &format!("{model}/1"), "--dsse"]);
    assert_eq!(code, 2, "--dsse without --format in-toto: {err}");
}

/// Hashing the model's files shows a bar on a terminal (a pty from
/// `script`), and nothing when stderr is a pipe or the output is JSON.
fn progress_only_on_a_terminal(cli: &Cli, model: &str) {
    let what = "hashing model files";
    let (code, _, err) = cli.run(&["audit", &format!("{model}/1")]);
    assert_eq!(code, 0);
    assert!(!err.contains(what), "no bar into a pipe: {err}");
    let bin = env!("CARGO_BIN_EXE_ar-io-mlflow");
    let on_tty = |extra: &str| {
        let out = Command::new("script")
            .args([
                "-qec",
                &format!("{bin} audit {model}/1 {extra}"),
                "/dev/null",
            ])
            .env("MLFLOW_TRACKING_URI", cli.mlflow)
            .env("ARIO_MLFLOW_DEVNET", &cli.devnet)
            .env("ARIO_MLFLOW_HOME", cli.home)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_tty("");
    assert!(shown.contains(what), "a bar on a terminal: {shown}");
    let json = on_tty("--format json");
    assert!(!json.contains(what), "no bar with --format json");
}

/// `audit --format evidence`: the Python kernel accepts the parts it knows;
/// `proof verify --bundle` re-checks it with MLflow and the gateways out of
/// reach; a changed byte in any stage fails that stage, by name.
fn evidence_bundle_checks(
    cli: &Cli,
    server: &ario_test_support::MlflowServer,
    model: &str,
    dir: &Path,
) {
    let bundle = dir.join("evidence.json");
    let (code, out, err) = cli.run(&[
        "audit",
        &format!("{model}/1"),
        "--format",
        "evidence",
        "--output",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let py = server
        .python("check_evidence.py", &[bundle.to_str().unwrap()])
        .unwrap();
    assert_eq!(py["envelopes_ok"], py["stages"], "{py}");
    assert_eq!(
        (py["body_hash_ok"].clone(), py["signature_ok"].clone()),
        (Value::Bool(true), Value::Bool(true)),
        "{py}"
    );

    // Offline: MLflow and the gateway addresses lead nowhere.
    let closed = format!("http://{}", ario_test_support::closed_addr());
    let offline = |file: &Path, json: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ar-io-mlflow"));
        c.args(["proof", "verify", "--bundle", file.to_str().unwrap()])
            .env("MLFLOW_TRACKING_URI", &closed)
            .env("ARIO_MLFLOW_DEVNET", &closed)
            .env("ARIO_MLFLOW_HOME", cli.home)
            .env("NO_COLOR", "1");
        if json {
            c.args(["--format", "json"]);
        }
        c.output().unwrap()
    };
    let out = offline(&bundle, false);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("from the bundle's MLflow facts") && text.contains("Result: verified"),
        "{text}"
    );
    // The devnet's Verify attested every stage: each attestation is judged
    // again from the answer the bundle recorded, operator signature included.
    let stages_n = text.matches("Signature Confirmed").count();
    assert!(stages_n >= 2, "{text}");
    assert_eq!(
        text.matches("operator signature checked) (from the answer recorded in the bundle)")
            .count(),
        stages_n,
        "{text}"
    );

    let original: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let stages = original["body"]["stages"].as_array().unwrap().len();
    let flip = |s: &str| -> String {
        let mut c: Vec<char> = s.chars().collect();
        let i = c.len() / 2;
        c[i] = if c[i] == 'a' { 'b' } else { 'a' };
        c.into_iter().collect()
    };
    let mut tampered_stages = 0;
    for i in 0..stages {
        let st = &original["body"]["stages"][i];
        let mut cases: Vec<(&str, Value)> = Vec::new();
        let mut v = original.clone();
        v["body"]["stages"][i]["payload_hex"] =
            Value::String(flip(st["payload_hex"].as_str().unwrap()));
        cases.push(("payload", v));
        let mut v = original.clone();
        v["body"]["stages"][i]["envelope"]["signed_at"] =
            Value::String(flip(st["envelope"]["signed_at"].as_str().unwrap()));
        cases.push(("envelope", v));
        let mut v = original.clone();
        v["body"]["stages"][i]["detail"] = Value::String(flip(st["detail"].as_str().unwrap()));
        cases.push(("carried detail", v));
        if let Some(body) = st.pointer("/facts/runs_get_body").and_then(Value::as_str) {
            let mut v = original.clone();
            v["body"]["stages"][i]["facts"]["runs_get_body"] =
                Value::String(body.replacen("\"run_id\":\"", "\"run_id\":\"x", 1));
            cases.push(("facts", v));
        }
        if st.pointer("/facts/model_version/source").is_some() {
            let mut v = original.clone();
            v["body"]["stages"][i]["facts"]["model_version"]["source"] =
                Value::String("runs:/other/model".into());
            cases.push(("facts", v));
        }
        for (what, v) in cases {
            let f = dir.join(format!("evidence-tampered-{i}-{what}.json"));
            std::fs::write(&f, v.to_string()).unwrap();
            let out = offline(&f, true);
            assert_eq!(
                out.status.code(),
                Some(1),
                "stage {i} {what}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            let r: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(
                r["stages"][i]["status"], "failed",
                "stage {i} ({}) {what} is named: {r:#}",
                st["stage"]
            );
            tampered_stages += 1;
        }
    }
    assert!(
        tampered_stages >= 2 * stages,
        "every stage tampered at least twice"
    );
}
