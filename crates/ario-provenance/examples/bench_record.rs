//! Decision recording, measured: the batched recorder and the per-decision
//! mode, for `cargo xtask bench decisions`.
//!
//! Usage: `bench_record --model URI --mode batched|per-decision --n N
//! [--batch-size B] [--max-age-ms T] [--dir DIR] [--rate R]` (`--rate`: pace
//! the batched recorder to R decisions a second instead of as fast as it goes) with MLflow, the devnet and
//! the home directory from the environment (`MLFLOW_TRACKING_URI`,
//! `ARIO_MLFLOW_DEVNET`, `ARIO_MLFLOW_HOME`). The model is opened (and its
//! files checked) before timing starts. Prints one JSON object: latency
//! percentiles of one `record` call, sustained decisions per second, and the
//! uploads and MLflow requests made (all of them, background checkpoints
//! included), with their rates per million decisions.

// A measurement tool: a failure means the setup is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use ario_provenance::{
    AnchorStatus, Anchorer, DecisionInput, DecisionOptions, DecisionRecorder, OpenOptions,
    RecorderOptions, VerifiedModel,
};
use serde_json::{json, Value};

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args();
    it.position(|a| a == name)?;
    it.next()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn inputs() -> Vec<DecisionInput> {
    (0..64)
        .map(|i| DecisionInput {
            input: json!({"sepal_length": 5.1 + i as f64 / 10.0, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}),
            output: json!([i % 3]),
            metadata: Default::default(),
            latency_ms: Some(0.2),
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let uri = arg("--model").ok_or("--model URI")?;
    let mode = arg("--mode").unwrap_or_else(|| "batched".into());
    let n: usize = arg("--n").unwrap_or_else(|| "100000".into()).parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let anchorer = Anchorer::from_env()?;
    let model = rt.block_on(VerifiedModel::open(&anchorer, &uri, OpenOptions::default()))?;
    let ins = inputs();
    let mut lat: Vec<u64> = Vec::with_capacity(n);
    let requests_before = anchorer.mlflow().requests_sent();
    let (elapsed, extra) = if mode == "batched" {
        let opts = RecorderOptions {
            batch_size: arg("--batch-size").map_or(Ok(8192), |s| s.parse())?,
            max_batch_age: Duration::from_millis(
                arg("--max-age-ms").map_or(Ok(1000), |s| s.parse())?,
            ),
            dir: arg("--dir").map(Into::into),
            ..Default::default()
        };
        let r = rt.block_on(DecisionRecorder::open(&model, opts))?;
        let rate: Option<f64> = arg("--rate").map(|s| s.parse()).transpose()?;
        let start = Instant::now();
        for i in 0..n {
            if let Some(rate) = rate {
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            let t = Instant::now();
            let rc = r.record(&ins[i % ins.len()])?;
            lat.push(t.elapsed().as_nanos() as u64);
            std::hint::black_box(rc);
        }
        let elapsed = start.elapsed();
        let drain = Instant::now();
        rt.block_on(r.close())?;
        let s = r.stats();
        (
            elapsed,
            json!({"uploads": s.uploads, "checkpoints": s.checkpoints, "upload_failures": s.upload_failures, "drain_seconds": drain.elapsed().as_secs_f64()}),
        )
    } else {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            let d = &ins[i % ins.len()];
            let t = Instant::now();
            let rec = rt.block_on(model.record_decision(
                &d.input,
                &d.output,
                DecisionOptions::default(),
            ))?;
            lat.push(t.elapsed().as_nanos() as u64);
            handles.push(rec.handle);
        }
        let elapsed = start.elapsed();
        let drain = Instant::now();
        let mut uploads = 0;
        for h in &handles {
            rt.block_on(h.wait(Duration::from_secs(300)));
            if matches!(h.status(), AnchorStatus::Anchored { .. }) {
                uploads += 1;
            }
        }
        (
            elapsed,
            json!({"uploads": uploads, "checkpoints": Value::Null, "drain_seconds": drain.elapsed().as_secs_f64()}),
        )
    };
    let requests = anchorer.mlflow().requests_sent() - requests_before;
    lat.sort_unstable();
    let per_million = |x: f64| x * 1e6 / n as f64;
    let uploads = extra["uploads"].as_f64().unwrap_or(0.0);
    let mut out = json!({
        "mode": mode, "n": n, "seconds": elapsed.as_secs_f64(),
        "per_s": n as f64 / elapsed.as_secs_f64(),
        "p50_us": percentile(&lat, 50.0), "p99_us": percentile(&lat, 99.0),
        "p999_us": percentile(&lat, 99.9),
        "mean_us": lat.iter().sum::<u64>() as f64 / n.max(1) as f64 / 1000.0,
        "mlflow_requests": requests,
        "mlflow_requests_per_million": per_million(requests as f64),
        "uploads_per_million": per_million(uploads),
    });
    if let (Value::Object(o), Value::Object(e)) = (&mut out, extra) {
        o.extend(e);
    }
    println!("{out}");
    Ok(())
}
