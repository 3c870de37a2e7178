"""Checks the parts of our evidence bundle that the Python kernel
(`ar-io-proof`) understands: every stage's envelope verifies over its bundled
payload bytes, and the `ario.evidence/v1` wrapper's body hash and Ed25519
signature hold (JCS and Ed25519 from the Python kernel).

Usage: python check_evidence.py BUNDLE
Prints {"stages": N, "envelopes_ok": K, "body_hash_ok": bool, "signature_ok": bool}.
Exit 0 when everything holds, 1 otherwise.
"""
import json
import sys

from ario_proof import canonical_json, sha256_hex, verify_envelope, verify_signature


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        bundle = json.load(f)
    stages = bundle["body"]["stages"]
    ok = 0
    for s in stages:
        r = verify_envelope(s["envelope"], payload_bytes=bytes.fromhex(s["payload_hex"]))
        if r.ok and r.payload_hash_ok is True:
            ok += 1
        else:
            print(f"{s['stage']}: {r}", file=sys.stderr)
    body_hash_ok = sha256_hex(canonical_json(bundle["body"])) == bundle["body_hash"]
    unsigned = {k: v for k, v in bundle.items() if k not in ("signature", "co_signatures")}
    signature_ok = verify_signature(canonical_json(unsigned), bundle["signature"], bundle["public_key"])
    out = {"stages": len(stages), "envelopes_ok": ok, "body_hash_ok": body_hash_ok, "signature_ok": signature_ok}
    print(json.dumps(out))
    return 0 if ok == len(stages) and body_hash_ok and signature_ok else 1


if __name__ == "__main__":
    sys.exit(main())
