"""Checks our in-toto output with independent implementations: the
`in-toto-attestation` package validates the Statement v1, and
`securesystemslib` verifies a DSSE envelope's Ed25519 signature.

Usage: python check_intoto.py FILE [--public-key HEX]
FILE holds a Statement, or (with --public-key) a DSSE envelope whose
payload is one. Prints one JSON object:
  {"valid": true, "subjects": N, "predicate_type": "...", "dsse_verified": bool}
and exits 0; on any failure prints {"valid": false, "error": "..."} and exits 1.
"""
import argparse
import json
import sys


def validate_statement(doc):
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    pb = json_format.Parse(json.dumps(doc), statement_pb2.Statement())
    st = Statement.copy_from_pb(pb)
    st.validate()
    return len(pb.subject), pb.predicate_type


def verify_dsse(doc, public_key_hex):
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    env = Envelope.from_dict(doc)
    key = SSlibKey(
        keyid=public_key_hex,
        keytype="ed25519",
        scheme="ed25519",
        keyval={"public": public_key_hex},
    )
    env.verify([key], 1)  # raises VerificationError
    if env.payload_type != "application/vnd.in-toto+json":
        raise ValueError(f"payloadType is {env.payload_type!r}")
    return json.loads(env.payload)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--public-key")
    a = ap.parse_args()
    try:
        with open(a.file, encoding="utf-8") as f:
            doc = json.load(f)
        dsse = False
        if a.public_key:
            doc = verify_dsse(doc, a.public_key)
            dsse = True
        n, ptype = validate_statement(doc)
    except Exception as e:  # report every failure the same way
        print(json.dumps({"valid": False, "error": f"{type(e).__name__}: {e}"}))
        return 1
    print(json.dumps({"valid": True, "subjects": n, "predicate_type": ptype, "dsse_verified": dsse}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
