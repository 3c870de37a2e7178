//! `ario.anchor.trace/v1` bodies: checkpoints, events, inclusion and content binding.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{EvidenceOptions, EvidenceResult, EvidenceStatus};
use crate::encoding::{hex_decode, hex_decode_array, sha256_hex};
use crate::envelope::{verify_envelope, VerifyOptions};
use crate::jcs::canonicalize;
use crate::merkle::{leaf_hash, verify_inclusion, Hash};

/// On-chain re-fetch outcome of one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnChain {
    /// `confirm`, `mismatch` or `unreachable` over all gateways.
    pub rollup: &'static str,
    /// `Some(true)` confirmed, `Some(false)` mismatch, `None` unreachable.
    pub on_chain_ok: Option<bool>,
    /// `(gateway, outcome)` per gateway asked.
    pub per_gateway: Vec<(String, &'static str)>,
}

/// Result for one checkpoint of an anchor trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckpointResult {
    /// The checkpoint's Arweave transaction id ("" when not a string).
    pub tx_id: String,
    /// Envelope verified and bound to its record.
    pub envelope_ok: bool,
    /// The record commits to the checkpoint's `merkle_root`.
    pub merkle_root_ok: bool,
    /// On-chain re-fetch (absent when offline).
    pub on_chain: Option<OnChain>,
    /// All of the above.
    pub ok: bool,
    /// What went wrong.
    pub errors: Vec<String>,
}

/// Result for one event of an anchor trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventResult {
    /// The envelope's `event_id` (`<unknown>` when not a string).
    pub event_id: String,
    /// The kernel's `ok` for the event envelope.
    pub envelope_ok: bool,
    /// Binding of the envelope to its record (`None`: record withheld).
    pub payload_binding_ok: Option<bool>,
    /// The inclusion names a checkpoint present in the bundle.
    pub checkpoint_bound: bool,
    /// The inclusion proof verifies against that checkpoint's root.
    pub inclusion_ok: bool,
    /// Disclosed content matches the committed content hash (`None`: nothing to compare).
    pub content_ok: Option<bool>,
    /// All of the above.
    pub ok: bool,
    /// What went wrong.
    pub errors: Vec<String>,
}

fn hex_field(v: Option<&Value>, what: &str, errors: &mut Vec<String>) -> Option<Vec<u8>> {
    match v {
        Some(Value::String(s)) => match hex_decode(s) {
            Ok(b) => Some(b),
            Err(_) => {
                errors.push(format!("{what} is not hex"));
                None
            }
        },
        _ => None,
    }
}

pub(super) fn verify_trace_body(
    body: &Value,
    opts: &EvidenceOptions<'_>,
    mut result: EvidenceResult,
) -> EvidenceResult {
    let (Some(Value::Array(checkpoints)), Some(Value::Array(events))) =
        (body.get("checkpoints"), body.get("events"))
    else {
        result.status = EvidenceStatus::Malformed;
        result
            .errors
            .push("anchor trace body needs checkpoints and events arrays".into());
        return result;
    };
    let mut roots: BTreeMap<String, Option<Hash>> = BTreeMap::new();
    let mut gateway_unavailable = false;
    for cp in checkpoints {
        let r = verify_checkpoint(cp, opts, &mut gateway_unavailable);
        if roots.contains_key(&r.tx_id) {
            result
                .errors
                .push(format!("duplicate checkpoint tx_id {:?}", r.tx_id));
        } else {
            let root = cp
                .get("merkle_root")
                .and_then(Value::as_str)
                .and_then(|s| hex_decode_array::<32>(s).ok());
            roots.insert(r.tx_id.clone(), root);
        }
        result.checkpoints.push(r);
    }
    for (i, ev) in events.iter().enumerate() {
        result.events.push(verify_event(i, ev, &roots, opts));
    }
    let any_failed =
        result.checkpoints.iter().any(|c| !c.ok) || result.events.iter().any(|e| !e.ok);
    result.status = if any_failed {
        EvidenceStatus::Failed
    } else if gateway_unavailable {
        result.io_undetermined = true;
        result
            .errors
            .push("one or more checkpoints could not be re-fetched from the supplied gateways (unreachable)".into());
        EvidenceStatus::Partial
    } else if result.events.iter().any(|e| e.payload_binding_ok.is_none()) {
        result
            .errors
            .push("one or more event records were withheld; their binding is undetermined".into());
        EvidenceStatus::Partial
    } else if !result.checkpoints.is_empty() {
        EvidenceStatus::Verified
    } else {
        result
            .errors
            .push("no checkpoints: nothing anchors the events".into());
        EvidenceStatus::Partial
    };
    result
}

fn verify_checkpoint(
    cp: &Value,
    opts: &EvidenceOptions<'_>,
    gateway_unavailable: &mut bool,
) -> CheckpointResult {
    let mut errors = Vec::new();
    let tx_id = match cp.get("tx_id") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            errors.push("checkpoint tx_id is not a string".into());
            String::new()
        }
    };
    let record = hex_field(cp.get("record_bytes"), "record_bytes", &mut errors);
    let envelope = cp.get("envelope").unwrap_or(&Value::Null);
    let verdict = verify_envelope(
        envelope,
        VerifyOptions {
            payload_bytes: record.as_deref(),
            allow_legacy: false,
        },
    );
    let envelope_ok = verdict.ok && verdict.payload_hash_ok == Some(true);
    if !envelope_ok {
        errors.push(if record.is_none() {
            "checkpoint record withheld: its root is untrusted".into()
        } else {
            format!("checkpoint envelope does not verify: {:?}", verdict.reasons)
        });
    }
    let committed_root = record
        .as_deref()
        .and_then(|r| crate::json::parse(r).ok())
        .and_then(|r| {
            r.get("event")
                .and_then(|e| e.get("merkle_root"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let merkle_root_ok = match (&committed_root, cp.get("merkle_root")) {
        (Some(c), Some(Value::String(m))) => c == m,
        _ => false,
    };
    if !merkle_root_ok {
        errors.push("record does not commit to the checkpoint merkle_root".into());
    }
    let mut ok = envelope_ok && merkle_root_ok;
    let on_chain = if opts.gateways.is_empty() {
        None
    } else {
        let oc = refetch(&tx_id, envelope, opts);
        match oc.on_chain_ok {
            Some(false) => {
                ok = false;
                errors.push("on-chain copy differs from the bundled envelope".into());
            }
            None => *gateway_unavailable = true,
            Some(true) => {}
        }
        Some(oc)
    };
    CheckpointResult {
        tx_id,
        envelope_ok,
        merkle_root_ok,
        on_chain,
        ok,
        errors,
    }
}

fn refetch(tx_id: &str, envelope: &Value, opts: &EvidenceOptions<'_>) -> OnChain {
    let expected = canonicalize(envelope).ok();
    let mut per_gateway = Vec::new();
    for gw in &opts.gateways {
        let outcome = match opts.fetcher.and_then(|f| f.fetch(gw, tx_id)) {
            None => "unreachable",
            Some(bytes) => {
                let same = expected.as_deref() == Some(bytes.as_slice())
                    || crate::json::parse(&bytes)
                        .ok()
                        .and_then(|v| canonicalize(&v).ok())
                        == expected;
                if same {
                    "confirm"
                } else {
                    "mismatch"
                }
            }
        };
        per_gateway.push((gw.clone(), outcome));
    }
    let (rollup, on_chain_ok) = if per_gateway.iter().any(|(_, o)| *o == "mismatch") {
        ("mismatch", Some(false))
    } else if per_gateway.iter().any(|(_, o)| *o == "confirm") {
        ("confirm", Some(true))
    } else {
        ("unreachable", None)
    };
    OnChain {
        rollup,
        on_chain_ok,
        per_gateway,
    }
}

fn verify_event(
    i: usize,
    ev: &Value,
    roots: &BTreeMap<String, Option<Hash>>,
    opts: &EvidenceOptions<'_>,
) -> EventResult {
    let mut errors = Vec::new();
    let envelope = ev.get("envelope").unwrap_or(&Value::Null);
    let event_id = envelope
        .get("event_id")
        .and_then(Value::as_str)
        .map_or_else(|| "<unknown>".to_owned(), str::to_owned);
    let record = hex_field(ev.get("record_bytes"), "record_bytes", &mut errors);
    let verdict = verify_envelope(
        envelope,
        VerifyOptions {
            payload_bytes: record.as_deref(),
            allow_legacy: false,
        },
    );
    if !verdict.ok {
        errors.push(format!(
            "event {i} envelope does not verify: {:?}",
            verdict.reasons
        ));
    }
    let inclusion = ev.get("inclusion");
    let cp_tx = inclusion
        .and_then(|x| x.get("checkpoint_tx_id"))
        .and_then(Value::as_str);
    let root = cp_tx.and_then(|t| roots.get(t));
    let checkpoint_bound = root.is_some();
    if !checkpoint_bound {
        errors.push("inclusion names no checkpoint of this bundle".into());
    }
    let inclusion_ok = match (inclusion, root) {
        (Some(inc), Some(Some(root))) => check_inclusion(inc, envelope, root),
        _ => false,
    };
    if checkpoint_bound && !inclusion_ok {
        errors.push("inclusion proof does not verify".into());
    }
    let content_ok = content_binding(
        ev,
        envelope,
        record.as_deref(),
        &event_id,
        opts,
        &mut errors,
    );
    let ok = verdict.ok && inclusion_ok && checkpoint_bound && content_ok != Some(false);
    EventResult {
        event_id,
        envelope_ok: verdict.ok,
        payload_binding_ok: verdict.payload_hash_ok,
        checkpoint_bound,
        inclusion_ok,
        content_ok,
        ok,
        errors,
    }
}

fn check_inclusion(inc: &Value, envelope: &Value, root: &Hash) -> bool {
    let Some(leaf) = inc.get("leaf_hash").and_then(Value::as_str) else {
        return false;
    };
    let (Some(index), Some(count)) = (
        inc.get("leaf_index").and_then(Value::as_u64),
        inc.get("leaf_count").and_then(Value::as_u64),
    ) else {
        return false;
    };
    let Some(Value::Array(path)) = inc.get("audit_path") else {
        return false;
    };
    let Ok(leaf_bytes) = hex_decode_array::<32>(leaf) else {
        return false;
    };
    let mut hashes = Vec::with_capacity(path.len());
    for p in path {
        match p.as_str().and_then(|s| hex_decode_array::<32>(s).ok()) {
            Some(h) => hashes.push(h),
            None => return false,
        }
    }
    let Ok(env_bytes) = canonicalize(envelope) else {
        return false;
    };
    leaf.to_ascii_lowercase() == hex::encode(leaf_hash(&env_bytes))
        && verify_inclusion(&leaf_bytes, index, count, &hashes, root)
}

/// The content hashes a promoted-disclosure (agent) envelope commits to, by role.
pub fn content_hashes(envelope: &Value) -> Vec<(&'static str, String)> {
    let payload = envelope.get("payload");
    let at = |path: &[&str]| -> Option<String> {
        let mut v = payload?;
        for p in path {
            v = v.get(*p)?;
        }
        v.as_str().map(str::to_owned)
    };
    let mut out = Vec::new();
    let mut push = |role: &'static str, h: Option<String>| {
        if let Some(h) = h {
            out.push((role, h));
        }
    };
    match envelope.get("event_type").and_then(Value::as_str) {
        Some("asset_registered") => push("asset", at(&["hash"])),
        Some("asset_missing") => push("baseline", at(&["baseline", "hash"])),
        Some("tamper_detected") => {
            push("observed", at(&["observed", "hash"]));
            push("baseline", at(&["baseline", "hash"]));
        }
        _ => {}
    }
    out
}

fn content_binding(
    ev: &Value,
    envelope: &Value,
    record: Option<&[u8]>,
    event_id: &str,
    opts: &EvidenceOptions<'_>,
    errors: &mut Vec<String>,
) -> Option<bool> {
    let from_record = record
        .and_then(|r| crate::json::parse(r).ok())
        .and_then(|r| {
            r.get("event")
                .and_then(|e| e.get("content_hash"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .filter(|h| !h.is_empty());
    let committed: Vec<String> = match from_record {
        Some(h) => vec![h.to_ascii_lowercase()],
        None => content_hashes(envelope)
            .into_iter()
            .map(|(_, h)| h.to_ascii_lowercase())
            .collect(),
    };
    let in_body = hex_field(ev.get("content"), "content", errors);
    let side = opts.content.get(event_id);
    if let (Some(a), Some(b)) = (&in_body, side) {
        if a != b {
            errors.push("in-body content and side-input content disagree".into());
            return Some(false);
        }
    }
    let disclosed = in_body.as_deref().or(side.map(Vec::as_slice))?;
    if committed.is_empty() {
        errors.push("content disclosed but no content hash is committed".into());
        return None;
    }
    let ok = committed.contains(&sha256_hex(disclosed));
    if !ok {
        errors.push("disclosed content does not match the committed content hash".into());
    }
    Some(ok)
}
