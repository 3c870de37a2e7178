"""Python peer for the cross-kernel agreement run: ar-io-proof and ar-io-mlflow.

Usage: python py_peer.py <request.json> <response.json>

The request file is {"cases": [case, ...]}. Every case carries an "id" and an
"op"; the response file is {"results": [...]}, one object per case, in request
order, each echoing the case's "id". A case that fails becomes
{"id", "error": "<ExceptionType>: <message>"} and never stops the others.

  canon          {"json"}                 -> {"hex"}  JCS bytes of json.loads(json)
  verify         {"envelope_json", "payload_hex": hex|null, "allow_legacy"}
                                          -> {"ok", "phk", "sig", "spec", "legacy", "errors"}
                                             or {"parse_error"} if json.loads fails
  sign           {"envelope_json", "seed_hex"}
                                          -> {"envelope_json"}  ario_proof.sign_envelope
  mlflow_sign    {"payload_hex", "event_type", "subject", "previous_hash", "seed_b64",
                  optional "event_id", "signed_at"}
                                          -> {"envelope_json"}  ProofEngine.create_commitment
  mlflow_verify  {"envelope_json", "payload_hex": hex|null}
                                          -> ProofEngine.verify_commitment's dict, as is

JSON text is parsed with Python's default json.loads on purpose: that is what
the peers' own callers do (last duplicate key wins; NaN/Infinity literals are
accepted by the parser and then refused by the canonicalizer).
Only the one-line summary goes to stdout.
"""
import atexit
import base64
import json
import os
import shutil
import sys
import tempfile

# ar-io-mlflow's ProofEngine falls back to generating key files under
# ~/.ario-mlflow when no key is in the environment. Point HOME at a throw-away
# directory (removed at exit) and always provide a key in the environment, so
# nothing is written outside it.
_HOME = tempfile.mkdtemp(prefix="py-peer-home-")
os.environ["HOME"] = _HOME
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)

# Fixed default seed: 0123456789abcdef x 4, base64. Only used by mlflow_verify
# (which needs an engine but never signs) and by mlflow_sign without seed_b64.
DEFAULT_SEED_B64 = base64.b64encode(bytes.fromhex("0123456789abcdef" * 4)).decode()

import ario_proof  # noqa: E402  (after HOME is set)


def _payload(case):
    """Optional committed bytes: null/absent -> None, otherwise hex -> bytes."""
    h = case.get("payload_hex")
    return None if h is None else bytes.fromhex(h)


def op_canon(case):
    value = json.loads(case["json"])
    return {"hex": ario_proof.canonical_json(value).hex()}


def op_verify(case):
    try:
        envelope = json.loads(case["envelope_json"])
    except (ValueError, RecursionError) as e:
        return {"parse_error": f"{type(e).__name__}: {e}"}
    r = ario_proof.verify_envelope(
        envelope,
        payload_bytes=_payload(case),
        allow_legacy=bool(case.get("allow_legacy", False)),
    )
    return {
        "ok": r.ok,
        "phk": r.payload_hash_ok,  # True / False / None (nothing to compare)
        "sig": r.signature_ok,
        "spec": r.spec_version_ok,
        "legacy": r.legacy_envelope,
        "errors": r.errors,  # diagnostics only
    }


def op_sign(case):
    key = ario_proof.signing_key_from_seed_hex(case["seed_hex"])
    signed = ario_proof.sign_envelope(json.loads(case["envelope_json"]), key)
    return {"envelope_json": json.dumps(signed)}


def _engine(seed_b64):
    """A ProofEngine holding the given seed (read from the environment)."""
    from ario_mlflow.proof import ProofEngine  # lazy: canon-only runs skip it

    os.environ["ARIO_MLFLOW_SIGNING_KEY"] = seed_b64
    return ProofEngine()


def op_mlflow_sign(case):
    engine = _engine(case.get("seed_b64") or DEFAULT_SEED_B64)
    envelope = engine.create_commitment(
        event_type=case["event_type"],
        subject=case["subject"],
        payload_bytes=bytes.fromhex(case["payload_hex"]),
        previous_hash=case["previous_hash"],
        event_id=case.get("event_id"),  # None -> the plugin draws a uuid4
        signed_at=case.get("signed_at"),  # None -> the plugin uses now()
    )
    return {"envelope_json": json.dumps(envelope)}


def op_mlflow_verify(case):
    engine = _engine(DEFAULT_SEED_B64)
    result = engine.verify_commitment(json.loads(case["envelope_json"]), payload_bytes=_payload(case))
    return {k: (v.hex() if isinstance(v, (bytes, bytearray)) else v) for k, v in result.items()}


OPS = {
    "canon": op_canon,
    "verify": op_verify,
    "sign": op_sign,
    "mlflow_sign": op_mlflow_sign,
    "mlflow_verify": op_mlflow_verify,
}


def _clean(v):
    """Make a result safe to write as UTF-8 JSON that strict readers accept:
    a lone surrogate (possible in echoed envelope fields or messages) becomes
    the literal text \\udXXX instead of an escape serde_json would refuse."""
    if isinstance(v, str):
        return v.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(v, list):
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {_clean(k): _clean(x) for k, x in v.items()}
    return v


def run_case(case):
    try:
        op = OPS.get(case.get("op"))
        if op is None:
            raise ValueError(f"unknown op {case.get('op')!r}")
        out = op(case)
    except Exception as e:  # includes RecursionError; one case never stops the rest
        out = {"error": f"{type(e).__name__}: {e}"}
    out["id"] = case.get("id")
    return _clean(out)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: py_peer.py <request.json> <response.json>")
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    results = [run_case(c if isinstance(c, dict) else {"op": None, "id": None}) for c in cases]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"results": results}, f)
    errors = sum(1 for r in results if "error" in r or "parse_error" in r)
    print(f"py_peer: {len(results)} cases, {errors} errors (ar-io-proof {ario_proof.__version__})")


if __name__ == "__main__":
    main()
