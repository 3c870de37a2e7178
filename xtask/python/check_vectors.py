"""Re-derives the language-neutral test-vector families from their
description in test-vectors/README.md alone (no Rust involved), and exits 1
on the first disagreement.

Families checked: verdict/ (the verification decision table) and recipes/
(payloads and hashes; JCS from the Python kernel `ario_proof`).

Usage: python check_vectors.py TEST_VECTORS_DIR
Prints one line per family: "<family>: <n> cases, 0 disagreements".
"""
import json
import os
import sys

PASS, FAIL, UNDET, PENDING, NA = "pass", "fail", "undetermined", "pending", "not_applicable"


def plain(check):
    return {"passed": PASS, "failed": FAIL, "not_run": UNDET}[check[0]]


def code(check):
    return check[1] if len(check) > 1 else None


def record_row(label, bytes_check, live_check):
    if bytes_check[0] == "failed":
        return [label, FAIL, True]
    if live_check[0] == "failed":
        return [label, FAIL, True]
    if bytes_check[0] == "not_run":
        return [label, UNDET, True]
    if live_check[0] == "not_run":
        return [label, PASS if code(live_check) == "no_live_surface" else UNDET, True]
    return [label, PASS, True]


def rows(event_type, checks, labels):
    out = [["Proof Found", plain(checks["proof"]), True]]
    if "signature" not in checks:
        return out
    out.append(record_row(labels.get(event_type, "Record Matches"),
                          checks["anchored_bytes"], checks["source_of_truth"]))
    out.append(["Signature Confirmed", plain(checks["signature"]), True])
    t = checks["signer_trusted"]
    out.append(["Signer Trusted", NA, False] if code(t) == "no_trust_policy"
               else ["Signer Trusted", plain(t), True])
    h = checks["anchor_history"]
    out.append(["Anchor History", NA, False] if code(h) == "history_not_applicable"
               else ["Anchor History", plain(h), True])
    a = checks["ario_attestation"]
    if a[0] == "passed":
        out.append(["ar.io attestation", PASS, False])
    elif a[0] == "failed" and code(a) == "attestation_below_threshold":
        out.append(["ar.io attestation", PENDING, False])
    elif a[0] == "failed":
        out.append(["ar.io attestation", FAIL, True])
    else:
        out.append(["ar.io attestation", UNDET, False])
    return out


def status(checks, panel):
    proof = checks["proof"]
    if proof[0] == "not_run" and code(proof) == "gateway_unavailable":
        return "unavailable"
    if proof[0] == "failed" and code(proof) == "not_an_envelope":
        return "malformed"
    decisive = [r for r in panel if r[2]]
    if any(r[1] == FAIL for r in decisive):
        return "failed"
    if not decisive or any(r[1] != PASS for r in decisive):
        return "undetermined"
    return "verified"


EXIT = {"verified": 0, "failed": 1, "not_anchored": 2, "malformed": 2,
        "unavailable": 3, "undetermined": 3}


def check_verdict(path):
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    labels = v["record_labels"]
    bad = 0
    for i, c in enumerate(v["cases"]):
        panel = rows(c["event_type"], c["checks"], labels)
        st = status(c["checks"], panel)
        got = {"rows": panel, "status": st, "exit_code": EXIT[st]}
        if got != c["expect"]:
            bad += 1
            if bad <= 5:
                print(f"case {i}: expected {c['expect']}, derived {got}", file=sys.stderr)
    return len(v["cases"]), bad


# ---- recipes -------------------------------------------------------------

def jcs(value):
    from ario_proof.canonicalize import canonical_json
    return canonical_json(value)


def sha(b):
    import hashlib
    return hashlib.sha256(b).hexdigest()


def with_metadata(obj, metadata):
    for k, v in (metadata or {}).items():
        if k not in obj:
            obj[k] = v
    return obj


def artifact_hash(sums):
    return None if not sums else sha(jcs(sums))


def schema_hash(schema):
    if not schema:
        return ""
    try:
        parsed = json.loads(schema)
    except ValueError:
        return sha(schema.encode("utf-8"))
    return sha(jcs(parsed))


def input_hash(v):
    if isinstance(v, dict):
        return sha(jcs(v))
    if isinstance(v, str):
        return sha(jcs({"features": list(v)}))
    return sha(jcs({"features": v}))


class NonFinite(Exception):
    pass


def training(body, sums):
    import math
    run = json.loads(body)["run"]
    data = run.get("data", {})
    tags = {t["key"]: t["value"] for t in data.get("tags", [])}
    metrics = {}
    for m in data.get("metrics", []):
        v = m["value"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise NonFinite(m["key"])
        metrics[m["key"]] = round(float(v), 6)
    datasets = []
    for di in run.get("inputs", {}).get("dataset_inputs", []):
        ds = di.get("dataset")
        if ds is None:
            continue
        ctx = next((t["value"] for t in di.get("tags", []) if t["key"] == "mlflow.data.context"), None)
        datasets.append({"name": ds.get("name"), "source": ds.get("source"),
                         "source_type": ds.get("source_type"), "digest": ds.get("digest"),
                         "schema_hash": schema_hash(ds.get("schema")), "context": ctx})
    datasets.sort(key=lambda d: tuple(d[k] or "" for k in ("name", "source", "context", "digest")))
    return {"event_type": "training_complete", "run_id": run["info"]["run_id"],
            "params": {p["key"]: p["value"] for p in data.get("params", [])},
            "metrics": metrics, "artifact_checksums": sums,
            "source_name": tags.get("mlflow.source.name", ""),
            "git_commit": tags.get("mlflow.source.git.commit", ""),
            "dataset_inputs": datasets}


def payload_expect(obj):
    b = jcs(obj)
    return {"payload_jcs_hex": b.hex(), "payload_hash_hex": sha(b)}


def derive_recipe(c):
    r, i = c["recipe"], c["inputs"]
    if r == "stage_transition":
        return payload_expect(with_metadata({"event_type": "stage_transition", "model_name": i["model_name"],
                                             "model_version": i["model_version"], "from_stage": i["from_stage"],
                                             "to_stage": i["to_stage"]}, i.get("metadata")))
    if r == "alias_set":
        return payload_expect(with_metadata({"event_type": "alias_set", "model_name": i["model_name"],
                                             "model_version": i["model_version"], "alias": i["alias"],
                                             "previous_version": i["previous_version"]}, i.get("metadata")))
    if r == "registration":
        return payload_expect(with_metadata({"event_type": "model_registered", "model_name": i["model_name"],
                                             "model_version": i["model_version"], "source_run_id": i["source_run_id"],
                                             "source": i["source"], "artifact_verified": i["artifact_verified"],
                                             "artifact_hash": i["artifact_hash"]}, i.get("metadata")))
    if r == "training_from_runs_get":
        try:
            out = payload_expect(training(i["runs_get_body"], i["artifact_checksums"]))
        except NonFinite:
            return {"error": "non_finite_metric"}
        out["artifact_hash"] = artifact_hash(i["artifact_checksums"])
        return out
    if r == "artifact_hash":
        return {"hash": artifact_hash(i["artifact_checksums"])}
    if r == "schema_hash":
        return {"hash": schema_hash(i["schema"])}
    if r == "input_hash":
        return {"hash": input_hash(i["value"])}
    if r == "output_hash":
        return {"hash": sha(jcs({"prediction": i["value"]}))}
    raise ValueError(f"unknown recipe {r}")


def check_recipes(path):
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    bad = 0
    for n, c in enumerate(v["cases"]):
        got = derive_recipe(c)
        if got != c["expect"]:
            bad += 1
            print(f"case {n} ({c['recipe']}): expected {c['expect']}, derived {got}", file=sys.stderr)
    return len(v["cases"]), bad


FAMILIES = {"verdict": check_verdict, "recipes": check_recipes}


def main():
    root = sys.argv[1]
    total_bad = 0
    for family, check in FAMILIES.items():
        for name in sorted(os.listdir(os.path.join(root, family))):
            n, bad = check(os.path.join(root, family, name))
            print(f"{family}/{name}: {n} cases, {bad} disagreements")
            total_bad += bad
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
