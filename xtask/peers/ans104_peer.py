"""ANS-104 peer (PyPI turbo-sdk) for the gateway interop tests.

Usage: ans104_peer.py <request.json> <response.json>
Cases ({"id", "op", ...}):
  build   {"signer": "solana"|"arweave", "seed_hex" | "jwk", "data_hex", "tags": [{name, value}], "anchor_hex"?}
          -> {"item_hex"}   (turbo_sdk.bundle.create_data + sign)
  verify  {"item_hex"}     -> {"valid", "id"}  (turbo-sdk's deep hash + the signer's own verify)
  upload  {"upload_url", "signer", "seed_hex" | "jwk", "data_hex", "tags"}
          -> {"id", "owner"}  (Turbo(signer, upload_url=...).upload)
Response: {"results": [...]}, one per case; a failing case yields {"id", "error"}.
"""
import base64
import hashlib
import json
import sys

from turbo_sdk import Turbo
from turbo_sdk.bundle.create import create_data
from turbo_sdk.bundle.dataitem import DataItem
from turbo_sdk.bundle.sign import get_signature_data, sign
from turbo_sdk.signers.arweave import ArweaveSigner
from turbo_sdk.signers.solana import SolanaSigner

VERIFIERS = {1: ArweaveSigner.verify, 2: SolanaSigner.verify}


def signer_of(case):
    if case["signer"] == "solana":
        return SolanaSigner(bytes.fromhex(case["seed_hex"]))
    return ArweaveSigner(case["jwk"])


def build(case):
    anchor = bytes.fromhex(case["anchor_hex"]) if case.get("anchor_hex") else None
    signer = signer_of(case)
    item = create_data(bytearray(bytes.fromhex(case["data_hex"])), signer, case.get("tags") or [], anchor=anchor)
    sign(item, signer)
    return {"item_hex": bytes(item.get_raw()).hex()}


def verify(case):
    item = DataItem(bytearray(bytes.fromhex(case["item_hex"])))
    check = VERIFIERS.get(item.signature_type)
    if check is None:
        return {"error": f"signature type {item.signature_type} not verifiable"}
    valid = bool(check(item.raw_owner, get_signature_data(item), item.raw_signature))
    ident = base64.urlsafe_b64encode(hashlib.sha256(bytes(item.raw_signature)).digest()).rstrip(b"=").decode()
    return {"valid": valid, "id": ident}


def upload(case):
    turbo = Turbo(signer_of(case), upload_url=case["upload_url"])
    r = turbo.upload(bytes.fromhex(case["data_hex"]), tags=case.get("tags") or [])
    return {"id": r.id, "owner": r.owner}


OPS = {"build": build, "verify": verify, "upload": upload}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    results = []
    for case in cases:
        try:
            out = OPS[case["op"]](case)
        except Exception as e:  # one failing case must not hide the others
            out = {"error": f"{type(e).__name__}: {e}"}
        out["id_"] = case["id"]
        results.append(out)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"results": results}, f)
    print(f"ans104_peer.py: {len(results)} cases")


if __name__ == "__main__":
    main()
