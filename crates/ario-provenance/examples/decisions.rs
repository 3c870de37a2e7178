//! A small inference service: opens a registered model only after its files
//! match the anchored hash, then records each decision it makes as a signed
//! `prediction` event anchored in the background.
//!
//! ```sh
//! MLFLOW_TRACKING_URI=http://127.0.0.1:5000 ARIO_MLFLOW_DEVNET=http://127.0.0.1:8787 \
//!   cargo run -p ario-provenance --example decisions -- models:/iris-demo@champion
//! ```
//!
//! Each input line on stdin is a JSON model input; the "model" here answers
//! with the number of members of the input, standing in for real inference.

use std::io::BufRead as _;
use std::time::{Duration, Instant};

use ario_provenance::{Anchorer, DecisionOptions, OpenOptions, ProvenanceError, VerifiedModel};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let uri = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "models:/iris-demo@champion".into());
    let anchorer = Anchorer::from_env()?;
    let model = match VerifiedModel::open(
        &anchorer,
        &uri,
        OpenOptions {
            require_verified: true,
            ..Default::default()
        },
    )
    .await
    {
        Ok(m) => m,
        Err(e @ (ProvenanceError::Integrity(_) | ProvenanceError::Unverifiable { .. })) => {
            eprintln!("refusing to serve {uri}: {e}");
            std::process::exit(1);
        }
        Err(e) => return Err(e.into()),
    };
    eprintln!(
        "serving {}/v{} from {} (files match the anchored hash)",
        model.name,
        model.version,
        model.local_dir().display()
    );
    let mut pending = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let input: Value = serde_json::from_str(&line?)?;
        let started = Instant::now();
        let output = json!([input.as_object().map_or(0, |m| m.len())]);
        let decision = model
            .record_decision(
                &input,
                &output,
                DecisionOptions {
                    latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                    ..Default::default()
                },
            )
            .await?;
        println!(
            "{}",
            json!({"decision_id": decision.decision_id, "output": output})
        );
        pending.push(decision);
    }
    for d in &pending {
        d.handle.wait(Duration::from_secs(60)).await;
        eprintln!("decision {}: {}", d.decision_id, d.handle.status().name());
    }
    Ok(())
}
