//! `cargo xtask cross-kernel`: byte and verdict agreement with the real peers.
//!
//! 1. Canonicalization: ≥ 10,000 generated JSON texts (numbers of every
//!    magnitude and edge, astral/BMP/control characters in keys and strings,
//!    nesting up to the 128 bound) must give identical bytes in Rust, Python
//!    (`ar-io-proof`) and JavaScript (`canonicalize`, the TS kernel's JCS).
//! 2. Envelopes: ours verify in Python (`ar-io-proof` and the `ar-io-mlflow`
//!    plugin), theirs verify in ours, with identical tri-state results;
//!    tampered ones fail everywhere.
//!
//! Inputs the kernels are known to treat differently (depth > 128, duplicate
//! keys, numbers beyond a double) are run too and reported as known
//! divergences, never counted as agreement.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};
use ario_envelope::canonicalize;
use ario_envelope::encoding::sha256_hex;
use serde_json::{json, Value};

use crate::util::{root, sh};

mod documents;
mod envelopes;

use documents::documents;
use envelopes::{envelopes, ours_record};

/// Arguments of `xtask cross-kernel`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Number of generated JSON documents.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) docs: usize,
    /// Number of envelopes per producer and profile.
    #[arg(long, default_value_t = 60)]
    pub(crate) envelopes: usize,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            docs: 10_000,
            envelopes: 60,
        }
    }
}

const SEED_HEX: &str = crate::vectors::SEED_HEX;

// ---- peers -------------------------------------------------------------------

fn peer_call(
    program: &Path,
    script: &Path,
    cases: &[Value],
) -> anyhow::Result<BTreeMap<String, Value>> {
    let dir = root().join("target").join("cross-kernel");
    std::fs::create_dir_all(&dir)?;
    let stem = script
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let req = dir.join(format!("{stem}-request.json"));
    let resp = dir.join(format!("{stem}-response.json"));
    std::fs::write(&req, serde_json::to_vec(&json!({ "cases": cases }))?)?;
    let _ = std::fs::remove_file(&resp);
    sh(Command::new(program).arg(script).arg(&req).arg(&resp))?;
    let out: Value = serde_json::from_slice(
        &std::fs::read(&resp).with_context(|| format!("reading {}", resp.display()))?,
    )?;
    let list = match out {
        Value::Array(a) => a,
        Value::Object(mut m) => match m.remove("results") {
            Some(Value::Array(a)) => a,
            _ => bail!("{} answered without a results list", script.display()),
        },
        _ => bail!(
            "{} answered with neither a list nor an object",
            script.display()
        ),
    };
    Ok(list
        .into_iter()
        .filter_map(|r| {
            r.get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .map(|id| (id, r))
        })
        .collect())
}

fn ours_canon(text: &str) -> Result<String, String> {
    let v = ario_envelope::json::parse_str(text).map_err(|e| e.to_string())?;
    canonicalize(&v).map(hex::encode).map_err(|e| e.to_string())
}

fn peer_hex(r: Option<&Value>) -> Result<String, String> {
    match r {
        Some(r) => match r.get("hex").and_then(Value::as_str) {
            Some(h) => Ok(h.to_owned()),
            None => Err(r
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no answer")
                .to_owned()),
        },
        None => Err("no answer".into()),
    }
}

#[derive(Default)]
struct Tally {
    agreed: usize,
    disagreed: Vec<String>,
    divergent: Vec<String>,
}

impl Tally {
    /// A peer-signed envelope must verify here with every check true.
    fn expect_fully_verified(
        &mut self,
        id: &str,
        who: &str,
        envelope: &str,
        payload: Option<&[u8]>,
    ) {
        let mine = ours_record(envelope.as_bytes(), payload, false);
        if mine == json!({"ok": true, "phk": true, "sig": true, "spec": true}) {
            self.agreed += 1;
        } else {
            self.disagreed
                .push(format!("{id}: {who}-signed envelope gives {mine} in rust"));
        }
    }
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let peers = crate::peers::install()?;
    let scripts = root().join("xtask").join("peers");
    let docs = documents(args.docs);
    let cases: Vec<Value> = docs
        .iter()
        .map(|(id, text, _)| json!({"id": id, "op": "canon", "json": text}))
        .collect();

    let py = peer_call(&peers.python, &scripts.join("py_peer.py"), &cases)?;
    let js = match &peers.node_dir {
        Some(node_dir) => {
            let mut m = BTreeMap::new();
            let script = scripts.join("js_peer.mjs");
            std::env::set_var("NODE_PATH", node_dir.join("node_modules"));
            m.extend(peer_call(Path::new("node"), &script, &cases)?);
            Some(m)
        }
        None => None,
    };

    let mut canon = Tally::default();
    for (id, text, expect_agree) in &docs {
        let ours = ours_canon(text);
        let p = peer_hex(py.get(id));
        let j = js.as_ref().map(|js| peer_hex(js.get(id)));
        let same = |a: &Result<String, String>, b: &Result<String, String>| match (a, b) {
            (Ok(x), Ok(y)) => x == y,
            (Err(_), Err(_)) => true,
            _ => false,
        };
        let agree = same(&ours, &p) && j.as_ref().is_none_or(|j| same(&ours, j));
        if !expect_agree {
            canon.divergent.push(format!(
                "{id}: rust={} python={} js={}",
                short(&ours),
                short(&p),
                j.as_ref().map_or("-".into(), short)
            ));
        } else if agree {
            canon.agreed += 1;
        } else {
            canon.disagreed.push(format!(
                "{id}: {text:.120} rust={} python={} js={}",
                short(&ours),
                short(&p),
                j.as_ref().map_or("-".into(), short)
            ));
        }
    }
    println!(
        "canonicalization: {} documents agree across Rust, Python{}; {} disagreements",
        canon.agreed,
        if js.is_some() {
            ", JavaScript"
        } else {
            " (JavaScript peer unavailable)"
        },
        canon.disagreed.len()
    );
    for d in &canon.divergent {
        println!("  known divergence  {d}");
    }
    for d in canon.disagreed.iter().take(20) {
        println!("  DISAGREE  {d}");
    }

    let env = envelopes(args, &peers.python, &scripts)?;
    println!(
        "envelopes: {} verdicts agree; {} disagreements",
        env.agreed,
        env.disagreed.len()
    );
    for d in env.disagreed.iter().take(20) {
        println!("  DISAGREE  {d}");
    }
    let report = json!({
        "documents": docs.len(), "canon_agreed": canon.agreed, "canon_disagreed": canon.disagreed,
        "known_divergences": canon.divergent, "envelope_agreed": env.agreed, "envelope_disagreed": env.disagreed,
    });
    std::fs::write(
        root().join("target/cross-kernel/report.json"),
        serde_json::to_vec_pretty(&report)?,
    )?;
    if !canon.disagreed.is_empty() || !env.disagreed.is_empty() {
        bail!("cross-kernel disagreements (details above and in target/cross-kernel/report.json)");
    }
    if canon.agreed < args.docs {
        bail!(
            "only {} of {} documents were compared",
            canon.agreed,
            args.docs
        );
    }
    Ok(())
}

fn short(r: &Result<String, String>) -> String {
    match r {
        Ok(h) => format!("ok:{}", &sha256_hex(h.as_bytes())[..12]),
        Err(e) => format!("err({:.60})", e),
    }
}
