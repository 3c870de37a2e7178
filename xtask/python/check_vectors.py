"""Re-derives the language-neutral test-vector families from their
description in test-vectors/README.md alone (no Rust involved), and exits 1
on the first disagreement.

Families checked: verdict/ (the verification decision table), recipes/
(payloads and hashes; JCS from the Python kernel `ario_proof`) and ans104/
(data items: layout, Avro tags, deep hash, RSA-PSS and Ed25519 with
`cryptography`), attestations/ (operator attestation decisions), jcs/,
mlflow/ (envelopes: rebuild and verify), mlflow/decisions/ (Merkle batches,
checkpoints, negatives) and trust/ (the signer decision). That is every
family test-vectors/README.md describes.

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


# ---- JCS ---------------------------------------------------------------------

class Refused(Exception):
    pass


def strict_parse(text):
    """JSON under the README's strict rules; Refused(<reason code>) otherwise."""
    import math

    def pairs(kv):
        keys = [k for k, _ in kv]
        if len(keys) != len(set(keys)):
            raise Refused("duplicate_key")
        return dict(kv)

    def num(x):
        f = float(x)
        if not math.isfinite(f):
            raise Refused("number_out_of_range")
        return f

    def bigint(x):
        # JSON numbers are doubles: an integer literal is read as one.
        return num(x)

    try:
        v = json.loads(text, object_pairs_hook=pairs, parse_float=num, parse_int=bigint,
                       parse_constant=lambda c: (_ for _ in ()).throw(Refused("number_out_of_range")))
    except ValueError as e:
        raise Refused(f"syntax: {e}")

    def walk(x, depth):
        if depth > 128:
            raise Refused("depth_exceeded")
        if isinstance(x, str):
            if any(0xD800 <= ord(c) <= 0xDFFF for c in x):
                raise Refused("lone_surrogate")
        elif isinstance(x, list):
            for i in x:
                walk(i, depth + 1)
        elif isinstance(x, dict):
            for k, i in x.items():
                walk(k, depth)
                walk(i, depth + 1)

    walk(v, 1 if isinstance(v, (list, dict)) else 0)
    return v


def check_jcs(path):
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    bad = 0
    for c in v["cases"]:
        try:
            got = {"canonical_hex": jcs(strict_parse(c["input_json"])).hex()}
        except Refused as e:
            got = {"error": str(e)}
        want = c["expect"]
        same = ("error" in want and "error" in got) or got.get("canonical_hex") == want.get("canonical_hex")
        if not same:
            bad += 1
            print(f"{c['name']}: expected {want}, derived {got}", file=sys.stderr)
    return len(v["cases"]), bad


# ---- envelopes -----------------------------------------------------------------

def check_envelope_vector(path):
    from ario_proof import envelope_for_signature, sign, signing_key_from_seed_hex, verify_envelope

    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    exp, bad = v["expected_outputs"], 0
    payload = jcs(v["inputs"]["payload"])
    key = signing_key_from_seed_hex(v["fixed_keypair"]["ed25519_seed_hex"])
    env = dict(v["inputs"]["envelope_pre_signature"], public_key=v["fixed_keypair"]["ed25519_public_hex"])
    scope = jcs(envelope_for_signature(env))
    rebuilt = {"payload_jcs_bytes_hex": payload.hex(), "payload_hash_hex": sha(payload),
               "envelope_for_sig_jcs_bytes_hex": scope.hex(), "signature_hex": sign(scope, key).hex()}
    for k, want in rebuilt.items():
        if exp[k] != want:
            bad += 1
            print(f"{v['vector_id']}: {k} differs", file=sys.stderr)
    for i, c in enumerate(v["cases"]):
        pb = bytes.fromhex(c["payload_bytes_hex"]) if c["payload_bytes_hex"] is not None else None
        try:
            env_doc = strict_parse(bytes.fromhex(c["envelope_bytes_hex"]).decode("utf-8"))
        except (Refused, UnicodeDecodeError):
            # Bytes the strict reader refuses are malformed: nothing verifies.
            got = {"ok": False, "signature_ok": False, "payload_hash_ok": None}
        else:
            r = verify_envelope(env_doc, payload_bytes=pb, allow_legacy=c["allow_legacy"])
            got = {"ok": r.ok, "signature_ok": r.signature_ok, "payload_hash_ok": r.payload_hash_ok}
        want = {k: c["expect"][k] for k in got}
        if got != want:
            bad += 1
            print(f"{v['vector_id']} case {i}: expected {want}, derived {got}", file=sys.stderr)
    return 1 + len(v["cases"]), bad


# ---- trust ---------------------------------------------------------------------

def judge_trust(policy, key, at, uploader):
    from datetime import datetime

    def t(s):
        try:
            return datetime.fromisoformat(s.replace("Z", "+00:00"))
        except (ValueError, AttributeError):
            return None

    entries = [s for s in policy.get("signer", []) if s["public_key"].lower() == (key or "").lower()]
    if not entries:
        return ("failed", "unknown_signer")
    when = t(at)
    if when is None:
        return ("failed", "unknown_signer")
    refusal = ("failed", "unknown_signer")
    for s in entries:
        if "not_before" in s and when < t(s["not_before"]):
            refusal = ("failed", "key_not_yet_valid")
        elif "not_after" in s and when > t(s["not_after"]):
            refusal = ("failed", "key_expired")
        elif "retired_at" in s and when > t(s["retired_at"]):
            refusal = ("failed", "key_retired")
        else:
            uploaders = [u["address"] for u in policy.get("uploader", [])]
            if not uploaders:
                return ("passed", None)
            if uploader is None:
                return ("not_run", "uploader_unknown")
            return ("passed", None) if uploader in uploaders else ("failed", "untrusted_uploader")
    return refusal


def check_trust(path):
    import tomllib

    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    policy = tomllib.loads(v["policy_toml"])
    bad = 0
    for c in v["cases"]:
        outcome, code = judge_trust(policy, c["public_key"], c["signed_at"], c["uploader"])
        got = {"outcome": outcome, "code": code}
        if got != c["expected"]:
            bad += 1
            print(f"trust {c}: derived {got}", file=sys.stderr)
    return len(v["cases"]), bad


# ---- batched decisions -------------------------------------------------------------

def batch_fault(records, payload):
    """The README's order: count, positions, first/last times, root."""
    from ario_proof import leaf_hash, merkle_root

    if len(records) != payload["leaf_count"]:
        return "batch_incomplete"
    for i, r in enumerate(records):
        if r["decision_id"].rsplit("-", 1)[-1] != str(i):
            return "batch_reordered"
    if records and (records[0]["decided_at"] != payload["first_decided_at"]
                    or records[-1]["decided_at"] != payload["last_decided_at"]):
        return "batch_summary_mismatch"
    root = merkle_root([leaf_hash(jcs(r)) for r in records])
    if root.hex() != payload["merkle_root"]:
        return "batch_root_mismatch"
    return None


def check_decisions(path):
    from ario_proof import leaf_hash, merkle_root, verify_envelope, verify_inclusion

    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    bad, n, previous = 0, 0, "GENESIS"
    for cp in v["checkpoints"]:
        n += 1
        leaves = []
        for r in cp["records"]:
            b = jcs(r["record"])
            leaves.append(leaf_hash(b))
            if b.hex() != r["record_jcs_hex"] or leaves[-1].hex() != r["leaf_hash_hex"]:
                bad += 1
        root = merkle_root(leaves)
        if root.hex() != cp["expected_root_hex"]:
            bad += 1
        for p in cp["inclusion_proofs"]:
            path_b = [bytes.fromhex(h) for h in p["audit_path_hex"]]
            ok = verify_inclusion(leaves[p["leaf_index"]], p["leaf_index"], p["leaf_count"], path_b, root)
            other = (p["leaf_index"] + 1) % p["leaf_count"]
            wrong = p["leaf_count"] > 1 and verify_inclusion(leaves[p["leaf_index"]], other, p["leaf_count"], path_b, root)
            if not ok or wrong:
                bad += 1
        payload = cp["payload"]
        pb = jcs(payload)
        records = [r["record"] for r in cp["records"]]
        if (pb.hex() != cp["payload_jcs_hex"] or payload["merkle_root"] != root.hex()
                or payload["previous_checkpoint_hash"] != previous or batch_fault(records, payload) is not None):
            bad += 1
        r = verify_envelope(cp["envelope"], payload_bytes=pb)
        if not (r.ok and r.payload_hash_ok) or cp["envelope"].get("previous_hash") != previous:
            bad += 1
        previous = sha(pb)
    for neg in v["negatives"]:
        n += 1
        payload = v["checkpoints"][neg["checkpoint_index"]]["payload"]
        got = batch_fault(neg["records"], payload)
        if got != neg["expected_code"]:
            bad += 1
            print(f"{neg['name']}: expected {neg['expected_code']}, derived {got}", file=sys.stderr)
    return n, bad


def check_mlflow(path):
    return check_envelope_vector(path)


FAMILIES = {"verdict": check_verdict, "recipes": check_recipes, "ans104": check_ans104,
            "attestations": check_attestations, "jcs": check_jcs, "mlflow": check_mlflow,
            "mlflow/decisions": check_decisions, "trust": check_trust}


def main():
    root = sys.argv[1]
    total_bad = 0
    for family, check in FAMILIES.items():
        folder = os.path.join(root, family)
        for name in sorted(f for f in os.listdir(folder) if f.endswith(".json")):
            n, bad = check(os.path.join(folder, name))
            print(f"{family}/{name}: {n} cases, {bad} disagreements")
            total_bad += bad
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
