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
use ario_envelope::encoding::sha256_hex;
use ario_envelope::{
    canonicalize, sign_envelope_with, verify_envelope_bytes, SignPolicy, SigningKey,
    SpecVersionStatus, VerifyOptions,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::util::{root, sh};

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

// ---- document generator ------------------------------------------------------

const NUMBER_EDGES: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "0.0",
    "1",
    "-1",
    "1e21",
    "1e+21",
    "1E21",
    "1e20",
    "9.999999999999999e20",
    "1e-7",
    "1e-6",
    "0.000001",
    "0.0000001",
    "5e-324",
    "-5e-324",
    "2.2250738585072014e-308",
    "1.7976931348623157e308",
    "9007199254740991",
    "9007199254740992",
    "9007199254740993",
    "-9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890",
    "0.1",
    "0.2",
    "0.30000000000000004",
    "4.50",
    "2e-3",
    "333333333.33333329",
    "1E30",
    "100",
    "1e2",
    "12345678.9",
    "0.966667",
    "1.37",
    "-273.15",
    "6.02214076e23",
];

fn gen_number(rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..6) {
        0 | 1 => NUMBER_EDGES[rng.gen_range(0..NUMBER_EDGES.len())].to_owned(),
        2 => {
            // any finite double, printed as the shortest round-trip text
            loop {
                let f = f64::from_bits(rng.gen());
                if f.is_finite() {
                    break format!("{f:?}");
                }
            }
        }
        3 => {
            let mag = rng.gen_range(0..19);
            let v: i64 = rng.gen_range(0..10i64.pow(mag).max(1));
            if rng.gen_bool(0.3) {
                format!("-{v}")
            } else {
                v.to_string()
            }
        }
        4 => {
            let digits: String = (0..rng.gen_range(1..25))
                .map(|_| char::from(b'0' + rng.gen_range(0..10)))
                .collect();
            let int = rng.gen_range(0..100_000);
            format!("{int}.{digits}")
        }
        _ => format!("{}e{}", rng.gen_range(1..1000), rng.gen_range(-330..310)),
    }
}

fn gen_string(rng: &mut ChaCha8Rng, max_len: usize) -> String {
    let mut s = String::from("\"");
    for _ in 0..rng.gen_range(0..=max_len) {
        match rng.gen_range(0..12) {
            0..=3 => s.push(char::from(rng.gen_range(b'a'..=b'z'))),
            4 => s.push_str(
                ["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"][rng.gen_range(0..8)],
            ),
            5 => s.push_str(&format!("\\u{:04x}", rng.gen_range(0..0x20))),
            6 => s.push(
                [
                    'é', 'ü', 'ö', '€', '\u{2028}', '\u{2029}', '\u{7f}', 'ß', '中', '\u{fffd}',
                ][rng.gen_range(0..10)],
            ),
            7 => s.push(char::from_u32(rng.gen_range(0xE000..=0xFFFD)).unwrap_or('x')),
            8 => s.push(char::from_u32(rng.gen_range(0x10000..=0x10FFFF)).unwrap_or('x')),
            9 => {
                let c = rng.gen_range(0x10000u32..=0x10FFFF) - 0x10000;
                s.push_str(&format!(
                    "\\u{:04X}\\u{:04x}",
                    0xD800 + (c >> 10),
                    0xDC00 + (c & 0x3FF)
                ));
            }
            10 => s.push_str(&format!("\\u{:04x}", rng.gen_range(0x80..0xD800))),
            _ => s.push(
                char::from(rng.gen_range(b' '..=b'~'))
                    .to_string()
                    .replace(['"', '\\'], "_")
                    .chars()
                    .next()
                    .unwrap_or('_'),
            ),
        }
    }
    s.push('"');
    s
}

fn gen_value(rng: &mut ChaCha8Rng, depth: usize, budget: &mut usize) -> String {
    *budget = budget.saturating_sub(1);
    let container = depth < 8 && *budget > 0;
    match rng.gen_range(0..if container { 10 } else { 6 }) {
        0 | 1 => gen_number(rng),
        2 | 3 => gen_string(rng, 12),
        4 => ["true", "false"][rng.gen_range(0..2)].to_owned(),
        5 => "null".to_owned(),
        6 | 7 => {
            let n = rng.gen_range(0..6);
            let items: Vec<String> = (0..n).map(|_| gen_value(rng, depth + 1, budget)).collect();
            format!("[{}]", items.join(","))
        }
        _ => {
            let n = rng.gen_range(0..6);
            let mut seen = std::collections::BTreeSet::new();
            let mut members = Vec::new();
            for _ in 0..n {
                let k = gen_string(rng, 6);
                // compare decoded keys so escaped and literal spellings count as one
                let decoded = serde_json::from_str::<String>(&k).unwrap_or_default();
                if seen.insert(decoded) {
                    members.push(format!("{k}:{}", gen_value(rng, depth + 1, budget)));
                }
            }
            format!("{{{}}}", members.join(","))
        }
    }
}

fn deep(depth: usize, obj: bool) -> String {
    if obj {
        "{\"a\":".repeat(depth - 1) + "{}" + &"}".repeat(depth - 1)
    } else {
        "[".repeat(depth) + "1" + &"]".repeat(depth)
    }
}

/// (id, JSON text, expected-to-agree).
fn documents(n: usize) -> Vec<(String, String, bool)> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED_A710);
    let mut docs = Vec::with_capacity(n + 16);
    for i in 0..n {
        let text = if i % 200 == 0 {
            deep(rng.gen_range(100..=128), i % 400 == 0)
        } else {
            let mut budget = 40;
            gen_value(&mut rng, 0, &mut budget)
        };
        docs.push((format!("doc-{i}"), text, true));
    }
    // Lone surrogates: every kernel refuses them.
    for (i, t) in ["\"\\ud800\"", "{\"k\":\"a\\udc00b\"}", "[\"\\ud83d\"]"]
        .iter()
        .enumerate()
    {
        docs.push((format!("lone-surrogate-{i}"), (*t).to_owned(), true));
    }
    // Known divergences (reported, not counted as agreement).
    docs.push(("depth-129".into(), deep(129, false), false));
    docs.push(("depth-200-object".into(), deep(200, true), false));
    docs.push(("duplicate-key".into(), "{\"a\":1,\"a\":2}".into(), false));
    docs.push(("number-overflow".into(), "[1e400]".into(), false));
    docs
}

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

// ---- envelopes ------------------------------------------------------------------

/// Our tri-state record for a verification, in the peers' vocabulary.
fn ours_record(envelope: &[u8], payload: Option<&[u8]>, allow_legacy: bool) -> Value {
    let v = verify_envelope_bytes(
        envelope,
        VerifyOptions {
            payload_bytes: payload,
            allow_legacy,
        },
    );
    let spec = match v.spec_version_status {
        SpecVersionStatus::Supported => true,
        SpecVersionStatus::Legacy => allow_legacy,
        SpecVersionStatus::Unsupported => false,
    };
    json!({"ok": v.ok, "phk": v.payload_hash_ok, "sig": v.signature_ok, "spec": spec && v.status != ario_envelope::Status::Malformed})
}

fn peer_record(r: Option<&Value>) -> Value {
    let r = r.cloned().unwrap_or(Value::Null);
    json!({"ok": r["ok"], "phk": r["phk"], "sig": r["sig"], "spec": r["spec"]})
}

struct EnvCase {
    id: String,
    envelope: Vec<u8>,
    payload: Option<Vec<u8>>,
    allow_legacy: bool,
    /// Whether every kernel must accept it.
    must_pass: bool,
}

fn payload_for(rng: &mut ChaCha8Rng) -> Value {
    let mut budget = 12;
    let text = format!(
        "{{\"event_type\":\"training_complete\",\"metrics\":{},\"params\":{}}}",
        gen_value(rng, 1, &mut budget),
        gen_value(rng, 1, &mut budget)
    );
    ario_envelope::json::parse_str(&text)
        .unwrap_or_else(|_| json!({"event_type": "training_complete"}))
}

fn envelopes(args: &Args, python: &Path, scripts: &Path) -> anyhow::Result<Tally> {
    let key = SigningKey::from_seed_hex(SEED_HEX)?;
    let mut rng = ChaCha8Rng::seed_from_u64(0xE4E1_0BE5);
    let mut ours: Vec<EnvCase> = Vec::new();
    let mut py_sign = Vec::new();
    for i in 0..args.envelopes {
        let payload = payload_for(&mut rng);
        let bytes = canonicalize(&payload)?;
        let hash = sha256_hex(&bytes);
        let base = json!({"event_id": format!("00000000-0000-4000-8000-{i:012}"), "signed_at": "2026-11-22T00:00:00Z", "previous_hash": "GENESIS"});
        for (profile, inline) in [
            ("ario.mlflow/v1", false),
            ("ario.agent/v1", true),
            ("ario.events/v1", false),
            ("ario.agent/v1.3", true),
        ] {
            let mut pre = base.clone();
            pre["spec_version"] = json!(profile);
            pre["event_type"] = json!("training_complete");
            if inline {
                pre["payload"] = payload.clone();
            } else {
                pre["payload_hash"] = json!(hash);
            }
            let signed = sign_envelope_with(&pre, &key, SignPolicy::AcceptedProfilesOnly)?;
            let env_bytes = canonicalize(&signed)?;
            let committed = (!inline).then(|| bytes.clone());
            let id = format!("ours-{profile}-{i}");
            ours.push(EnvCase {
                id: id.clone(),
                envelope: env_bytes.clone(),
                payload: committed.clone(),
                allow_legacy: false,
                must_pass: true,
            });
            // tampered: signature flipped, wrong committed bytes, injected member
            let mut t = signed.clone();
            t["note"] = json!("injected");
            ours.push(EnvCase {
                id: format!("{id}-injected"),
                envelope: canonicalize(&t)?,
                payload: committed.clone(),
                allow_legacy: false,
                must_pass: false,
            });
            let mut t = signed.clone();
            let sig = t["signature"].as_str().unwrap_or_default().to_owned();
            t["signature"] = json!(format!(
                "{}{}",
                if sig.starts_with('0') { "1" } else { "0" },
                &sig[1..]
            ));
            ours.push(EnvCase {
                id: format!("{id}-badsig"),
                envelope: canonicalize(&t)?,
                payload: committed.clone(),
                allow_legacy: false,
                must_pass: false,
            });
            if !inline {
                ours.push(EnvCase {
                    id: format!("{id}-wrongbytes"),
                    envelope: env_bytes.clone(),
                    payload: Some(b"{\"k\":\"v\"}".to_vec()),
                    allow_legacy: false,
                    must_pass: false,
                });
                ours.push(EnvCase {
                    id: format!("{id}-sigonly"),
                    envelope: env_bytes.clone(),
                    payload: None,
                    allow_legacy: false,
                    must_pass: true,
                });
            }
            let mut t = signed.clone();
            t["_annotation"] = json!("x");
            let must = profile.starts_with("ario.mlflow/");
            ours.push(EnvCase {
                id: format!("{id}-annotated"),
                envelope: canonicalize(&t)?,
                payload: committed.clone(),
                allow_legacy: false,
                must_pass: must,
            });
            py_sign.push(json!({"id": format!("py-{profile}-{i}"), "op": "sign", "envelope_json": pre.to_string(), "seed_hex": SEED_HEX, "_payload_hex": committed.map(hex::encode)}));
        }
        // legacy and unsupported versions
        let mut legacy = base.clone();
        legacy["payload_hash"] = json!(hash);
        let signed = sign_envelope_with(&legacy, &key, SignPolicy::AnySpecVersion)?;
        for allow in [true, false] {
            ours.push(EnvCase {
                id: format!("ours-legacy-{i}-{allow}"),
                envelope: canonicalize(&signed)?,
                payload: Some(bytes.clone()),
                allow_legacy: allow,
                must_pass: allow,
            });
        }
        legacy["spec_version"] = json!("ario.mlflow/v99");
        let signed = sign_envelope_with(&legacy, &key, SignPolicy::AnySpecVersion)?;
        ours.push(EnvCase {
            id: format!("ours-v99-{i}"),
            envelope: canonicalize(&signed)?,
            payload: Some(bytes.clone()),
            allow_legacy: true,
            must_pass: false,
        });
    }

    // Python verifies ours.
    let verify_cases: Vec<Value> = ours
        .iter()
        .map(|c| json!({"id": c.id, "op": "verify", "envelope_json": String::from_utf8_lossy(&c.envelope), "payload_hex": c.payload.as_ref().map(hex::encode), "allow_legacy": c.allow_legacy}))
        .collect();
    let py_verdicts = peer_call(python, &scripts.join("py_peer.py"), &verify_cases)?;
    let mut tally = Tally::default();
    for c in &ours {
        let mine = ours_record(&c.envelope, c.payload.as_deref(), c.allow_legacy);
        let theirs = peer_record(py_verdicts.get(&c.id));
        let pass_ok = mine["ok"] == json!(c.must_pass);
        if mine == theirs && pass_ok {
            tally.agreed += 1;
        } else {
            tally.disagreed.push(format!(
                "{} (must_pass={}): rust={mine} python={theirs}",
                c.id, c.must_pass
            ));
        }
    }

    // Python signs, we verify (and Python re-verifies its own, as a control).
    let signed_by_py = peer_call(python, &scripts.join("py_peer.py"), &py_sign)?;
    for req in &py_sign {
        let id = req["id"].as_str().unwrap_or_default();
        let Some(text) = signed_by_py
            .get(id)
            .and_then(|r| r.get("envelope_json"))
            .and_then(Value::as_str)
        else {
            tally.disagreed.push(format!("{id}: python did not sign"));
            continue;
        };
        let payload = req["_payload_hex"]
            .as_str()
            .and_then(|h| hex::decode(h).ok());
        tally.expect_fully_verified(id, "python", text, payload.as_deref());
        // our own signature of the same pre-image must be byte-identical (Ed25519 is deterministic)
        let pre = ario_envelope::json::parse_str(req["envelope_json"].as_str().unwrap_or("{}"))?;
        let mine_signed = canonicalize(&sign_envelope_with(
            &pre,
            &key,
            SignPolicy::AcceptedProfilesOnly,
        )?)?;
        let theirs = canonicalize(&ario_envelope::json::parse_str(text)?)?;
        if mine_signed == theirs {
            tally.agreed += 1;
        } else {
            tally
                .disagreed
                .push(format!("{id}: signed bytes differ between rust and python"));
        }
    }

    // The plugin (ar-io-mlflow ProofEngine) signs mlflow events; we verify. And it verifies ours.
    let mut plugin_cases = Vec::new();
    for i in 0..args.envelopes.min(40) {
        let payload = canonicalize(&payload_for(&mut rng))?;
        plugin_cases.push(json!({"id": format!("plugin-sign-{i}"), "op": "mlflow_sign", "payload_hex": hex::encode(&payload),
            "event_type": "training_complete", "subject": {"type": "mlflow_run", "run_id": format!("{i:032x}")},
            "previous_hash": "GENESIS", "seed_b64": key.seed_base64().as_str()}));
    }
    for c in ours
        .iter()
        .filter(|c| c.id.starts_with("ours-ario.mlflow/v1-"))
        .take(args.envelopes.min(40) * 3)
    {
        plugin_cases.push(json!({"id": format!("plugin-verify-{}", c.id), "op": "mlflow_verify",
            "envelope_json": String::from_utf8_lossy(&c.envelope), "payload_hex": c.payload.as_ref().map(hex::encode), "_must_pass": c.must_pass}));
    }
    let plugin = peer_call(python, &scripts.join("py_peer.py"), &plugin_cases)?;
    for req in &plugin_cases {
        let id = req["id"].as_str().unwrap_or_default();
        let r = plugin.get(id);
        if req["op"] == "mlflow_sign" {
            let payload = req["payload_hex"]
                .as_str()
                .and_then(|h| hex::decode(h).ok());
            match r
                .and_then(|r| r.get("envelope_json"))
                .and_then(Value::as_str)
            {
                Some(text) => tally.expect_fully_verified(id, "plugin", text, payload.as_deref()),
                None => tally
                    .disagreed
                    .push(format!("{id}: plugin did not sign: {r:?}")),
            }
        } else {
            let overall = r
                .and_then(|r| r.get("overall"))
                .cloned()
                .unwrap_or(Value::Null);
            if overall == req["_must_pass"] {
                tally.agreed += 1;
            } else {
                tally.disagreed.push(format!(
                    "{id}: plugin overall={overall}, expected {}",
                    req["_must_pass"]
                ));
            }
        }
    }
    Ok(tally)
}
