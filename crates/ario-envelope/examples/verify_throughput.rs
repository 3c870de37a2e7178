//! Throughput of envelope verification over a file of envelopes, for `cargo xtask bench`.

// A measurement tool over fixed inputs: a panic means the inputs are wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//!
//! Usage: `verify_throughput <envelopes.json> <seconds>` where the file is a JSON
//! array of envelope texts. Prints one JSON object: verifies per second for the
//! full path (strict parse + JCS + Ed25519 from bytes), one at a time and
//! batched (`ario_envelope::batch`, one core and both), and for a bare
//! `ed25519-dalek` verify of the same signed scopes.

use std::time::{Duration, Instant};

use ario_envelope::envelope::signed_scope_bytes;
use ario_envelope::{verify_envelope_bytes, VerifyOptions};
use ed25519_dalek::{Signature, VerifyingKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: verify_throughput <envelopes.json> <seconds>")?;
    let secs: f64 = args.next().unwrap_or_else(|| "2".into()).parse()?;
    let texts: Vec<String> = serde_json::from_slice(&std::fs::read(path)?)?;
    let envelopes: Vec<Vec<u8>> = texts.into_iter().map(String::into_bytes).collect();

    let mut bare = Vec::new();
    for e in &envelopes {
        let v = ario_envelope::json::parse(e)?;
        let obj = v.as_object().ok_or("envelope is not an object")?;
        let key: [u8; 32] = hex::decode(obj["public_key"].as_str().ok_or("public_key")?)?
            .try_into()
            .map_err(|_| "key")?;
        let sig: [u8; 64] = hex::decode(obj["signature"].as_str().ok_or("signature")?)?
            .try_into()
            .map_err(|_| "sig")?;
        bare.push((key, Signature::from_bytes(&sig), signed_scope_bytes(obj)?));
    }

    let full = rate(secs, || {
        for e in &envelopes {
            let v = verify_envelope_bytes(std::hint::black_box(e), VerifyOptions::default());
            assert!(v.signature_ok);
        }
        envelopes.len()
    });
    let floor = rate(secs, || {
        for (k, s, m) in &bare {
            let vk = VerifyingKey::from_bytes(std::hint::black_box(k))
                .map(|vk| vk.verify_strict(m, s).is_ok());
            assert!(matches!(vk, Ok(true)));
        }
        bare.len()
    });
    // Batched: parse each envelope, then verify the lot (1,024 per call).
    let many: Vec<&Vec<u8>> = envelopes.iter().cycle().take(1024).collect();
    let batched = |threads: usize| {
        rate(secs, || {
            let parsed: Vec<serde_json::Value> = many
                .iter()
                .map(|e| ario_envelope::json::parse(std::hint::black_box(e)).unwrap())
                .collect();
            let items: Vec<_> = parsed
                .iter()
                .map(|v| (v, VerifyOptions::default()))
                .collect();
            let verdicts = if threads == 1 {
                ario_envelope::batch::verify_envelopes(&items)
            } else {
                ario_envelope::batch::verify_envelopes_parallel(&items, threads)
            };
            assert!(verdicts.iter().all(|v| v.signature_ok));
            verdicts.len()
        })
    };
    let batch1 = batched(1);
    let batch2 = batched(2);
    let single2 = rate(secs, || {
        std::thread::scope(|s| {
            let halves: Vec<_> = envelopes
                .chunks(envelopes.len().div_ceil(2))
                .map(|c| {
                    s.spawn(move || {
                        for e in c {
                            assert!(
                                verify_envelope_bytes(e, VerifyOptions::default()).signature_ok
                            );
                        }
                    })
                })
                .collect();
            for h in halves {
                h.join().unwrap();
            }
        });
        envelopes.len()
    });
    println!(
        "{}",
        serde_json::json!({
            "rust_verify_per_s": full, "bare_dalek_verify_per_s": floor,
            "rust_batched_per_s": batch1, "rust_batched_2_cores_per_s": batch2,
            "rust_single_2_cores_per_s": single2,
        })
    );
    Ok(())
}

fn rate(secs: f64, mut batch: impl FnMut() -> usize) -> f64 {
    batch(); // warm up
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        n += batch();
    }
    n as f64 / start.elapsed().as_secs_f64()
}
