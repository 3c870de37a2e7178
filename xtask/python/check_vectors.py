"""Re-derives the language-neutral test-vector families from their
description in test-vectors/README.md alone (no Rust involved), and exits 1
on the first disagreement.

Families checked: verdict/ (the verification decision table), recipes/
(payloads and hashes; JCS from the Python kernel `ario_proof`) and ans104/
(data items: layout, Avro tags, deep hash, RSA-PSS and Ed25519 with
`cryptography`) and attestations/ (operator attestation decisions).

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
    if r == "dataset":
        d = i["record"]
        return payload_expect({"event_type": "dataset", "name": d.get("name"), "source": d.get("source"),
                               "source_type": d.get("source_type"), "digest": d.get("digest"),
                               "schema_hash": schema_hash(d.get("schema"))})
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


# ---- ANS-104 ---------------------------------------------------------------

def _sha384(*parts):
    import hashlib
    h = hashlib.sha384()
    for p in parts:
        h.update(p)
    return h.digest()


def deep_hash(chunk):
    if isinstance(chunk, list):
        acc = _sha384(b"list", str(len(chunk)).encode())
        for c in chunk:
            acc = _sha384(acc, deep_hash(c))
        return acc
    return _sha384(_sha384(b"blob", str(len(chunk)).encode()), _sha384(chunk))


def _varint(b, pos):
    shift = n = 0
    while True:
        if pos >= len(b):
            raise ValueError("truncated varint")
        byte = b[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (n >> 1) ^ -(n & 1), pos


def avro_tags(b):
    tags, pos = [], 0
    if not b:
        return tags
    while True:
        count, pos = _varint(b, pos)
        if count == 0:
            break
        if count < 0:
            _, pos = _varint(b, pos)
            count = -count
        for _ in range(count):
            pair = []
            for _ in range(2):
                n, pos = _varint(b, pos)
                if n < 0 or pos + n > len(b):
                    raise ValueError("bad tag length")
                pair.append(b[pos:pos + n].decode("utf-8"))
                pos += n
            tags.append(pair)
    if pos != len(b):
        raise ValueError("trailing tag bytes")
    return tags


SIZES = {1: (512, 512), 2: (64, 32)}


def parse_item(b):
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(b):
            raise ValueError("truncated")
        out = b[pos:pos + n]
        pos += n
        return out

    st = int.from_bytes(take(2), "little")
    if st not in SIZES:
        raise ValueError(f"unsupported signature type {st}")
    sig_len, owner_len = SIZES[st]
    sig, owner = take(sig_len), take(owner_len)
    opt = []
    for _ in range(2):
        flag = take(1)[0]
        if flag not in (0, 1):
            raise ValueError("bad presence byte")
        opt.append(take(32) if flag else None)
    n_tags = int.from_bytes(take(8), "little")
    tag_len = int.from_bytes(take(8), "little")
    tag_bytes = take(tag_len)
    tags = avro_tags(tag_bytes)
    if len(tags) != n_tags:
        raise ValueError("tag count mismatch")
    data = b[pos:]
    return st, sig, owner, opt[0], opt[1], tag_bytes, tags, data


def verify_item(b):
    import base64
    import hashlib
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

    st, sig, owner, target, anchor, tag_bytes, tags, data = parse_item(b)
    msg = deep_hash([b"dataitem", b"1", str(st).encode(), owner, target or b"", anchor or b"", tag_bytes, data])
    if st == 1:
        key = rsa.RSAPublicNumbers(65537, int.from_bytes(owner, "big")).public_key()
        key.verify(sig, msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO), hashes.SHA256())
    else:
        ed25519.Ed25519PublicKey.from_public_bytes(owner).verify(sig, msg)
    b64 = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
    return {
        "fields": {"signature_type": st, "owner_hex": owner.hex(),
                   "target_hex": target.hex() if target else None,
                   "anchor_hex": anchor.hex() if anchor else None,
                   "tags": tags, "tag_bytes_hex": tag_bytes.hex(), "data_hex": data.hex()},
        "signing_message_hex": msg.hex(),
        "expect": {"valid": True, "signature_hex": sig.hex(), "id": b64(hashlib.sha256(sig).digest()),
                   "owner_address": b64(hashlib.sha256(owner).digest()),
                   "item_sha256_hex": hashlib.sha256(b).hexdigest()},
    }


def check_ans104(path):
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    bad = 0
    for c in v["cases"]:
        try:
            got = verify_item(bytes.fromhex(c["item_hex"]))
        except Exception:  # a parse or signature failure: the item is invalid
            got = {"expect": {"valid": False}}
        want = {k: c[k] for k in ("fields", "signing_message_hex", "expect") if k in c}
        if {k: got[k] for k in want} != want:
            bad += 1
            print(f"{c['name']}: expected {want['expect']}, derived {got['expect']}", file=sys.stderr)
    return len(v["cases"]), bad


# ---- attestations ------------------------------------------------------------

def _b64d(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _b64e(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def decide_attestation(i):
    import hashlib
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    a = i["answer"]
    level_ok = a.get("level") == 3 and (a.get("authenticity") or {}).get("signatureValid") is True
    att = a.get("attestation")
    p = att.get("payload") if isinstance(att, dict) else None
    if not isinstance(p, dict) or "data_hash" not in p:
        return {"signature_ok": None, "operator_bound": None, "data_hash_bound": None,
                "tx_bound": None, "level_ok": level_ok, "passed": False}
    jwk = i["operator_jwk"]
    n = _b64d(jwk["n"])
    e = int.from_bytes(_b64d(jwk["e"]), "big")
    sig_ok = False
    if e == 65537:
        try:
            key = rsa.RSAPublicNumbers(e, int.from_bytes(n, "big")).public_key()
            key.verify(_b64d(att["signature"]), jcs(p),
                       padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
            sig_ok = True
        except (InvalidSignature, ValueError):
            sig_ok = False
    address = _b64e(hashlib.sha256(n).digest())
    operator_bound = address == att.get("operator") == p.get("operator")
    env = bytes.fromhex(i["envelope_hex"])
    dh = (a.get("authenticity") or {}).get("dataHash")
    data_bound = (str(p.get("data_hash", "")).lower() == hashlib.sha256(env).hexdigest()
                  and (dh is None or dh == _b64e(hashlib.sha256(env).digest()))
                  and p.get("owner_address") == i["owner_address"])
    tx_bound = p.get("tx_id") == i["tx_id"]
    return {"signature_ok": sig_ok, "operator_bound": operator_bound, "data_hash_bound": data_bound,
            "tx_bound": tx_bound, "level_ok": level_ok,
            "passed": level_ok and sig_ok and operator_bound and data_bound and tx_bound}


def check_attestations(path):
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    bad = 0
    for c in v["cases"]:
        got = decide_attestation(c["inputs"])
        if got != c["expect"]:
            bad += 1
            print(f"{c['name']}: expected {c['expect']}, derived {got}", file=sys.stderr)
    return len(v["cases"]), bad


FAMILIES = {"verdict": check_verdict, "recipes": check_recipes, "ans104": check_ans104,
            "attestations": check_attestations}


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
