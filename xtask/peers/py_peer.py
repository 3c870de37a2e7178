"""Python peer for the cross-kernel agreement run (ar-io-proof and ar-io-mlflow).

Usage: py_peer.py <request.json> <response.json>

Request:  {"cases": [case, ...]}; every case has an "id" and an "op":
  canon          {"json": "<JSON text>"}                  -> {"hex"} | {"error"}
  verify         {"envelope_json", "payload_hex", "allow_legacy"}
                                                           -> {"ok", "phk", "sig", "spec", "legacy"} | {"parse_error"}
  sign           {"envelope_json", "seed_hex"}            -> {"envelope_json"}  (ario_proof.sign_envelope)
  mlflow_sign    {"payload_hex", "event_type", "subject", "previous_hash", "seed_b64"}
                                                           -> {"envelope_json"}  (ar-io-mlflow ProofEngine)
  mlflow_verify  {"envelope_json", "payload_hex"}         -> the plugin's verify_commitment dict
Response: {"results": [...]} in request order. One failing case never stops the others.
"""
import json
import os
import sys
import tempfile

# The plugin reads its signing key from the environment; keep any key files it
# might write inside a throw-away HOME.
os.environ["HOME"] = tempfile.mkdtemp(prefix="py-peer-home-")

import ario_proof  # noqa: E402


def canon(case):
    return {"hex": ario_proof.canonical_json(json.loads(case["json"])).hex()}


def verify(case):
    try:
        envelope = json.loads(case["envelope_json"])
    except ValueError as e:
        return {"parse_error": str(e)}
    payload = bytes.fromhex(case["payload_hex"]) if case.get("payload_hex") is not None else None
    r = ario_proof.verify_envelope(envelope, payload_bytes=payload, allow_legacy=bool(case.get("allow_legacy")))
    return {"ok": r.ok, "phk": r.payload_hash_ok, "sig": r.signature_ok, "spec": r.spec_version_ok,
            "legacy": r.legacy_envelope}


def sign(case):
    key = ario_proof.signing_key_from_seed_hex(case["seed_hex"])
    signed = ario_proof.sign_envelope(json.loads(case["envelope_json"]), key)
    return {"envelope_json": json.dumps(signed)}


def _engine(seed_b64=None):
    if seed_b64:
        os.environ["ARIO_MLFLOW_SIGNING_KEY"] = seed_b64
    from ario_mlflow.proof import ProofEngine
    return ProofEngine()


def mlflow_sign(case):
    env = _engine(case["seed_b64"]).create_commitment(
        event_type=case["event_type"], subject=case["subject"],
        payload_bytes=bytes.fromhex(case["payload_hex"]), previous_hash=case["previous_hash"])
    return {"envelope_json": json.dumps(env)}


def mlflow_verify(case):
    payload = bytes.fromhex(case["payload_hex"]) if case.get("payload_hex") is not None else None
    out = _engine().verify_commitment(json.loads(case["envelope_json"]), payload_bytes=payload)
    return {k: (v.hex() if isinstance(v, bytes) else v) for k, v in out.items()}


OPS = {"canon": canon, "verify": verify, "sign": sign, "mlflow_sign": mlflow_sign, "mlflow_verify": mlflow_verify}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    if any(c.get("op", "").startswith("mlflow_") for c in cases) and "ARIO_MLFLOW_SIGNING_KEY" not in os.environ:
        os.environ["ARIO_MLFLOW_SIGNING_KEY"] = "ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8="
    results = []
    for case in cases:
        try:
            out = OPS[case["op"]](case)
        except Exception as e:  # one bad case must not hide the others
            out = {"error": f"{type(e).__name__}: {e}"}
        out["id"] = case["id"]
        results.append(out)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"results": results}, f)
    print(f"py_peer: {len(results)} cases")


if __name__ == "__main__":
    main()
