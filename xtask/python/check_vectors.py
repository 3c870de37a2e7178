"""Re-derives the language-neutral test-vector families from their
description in test-vectors/README.md alone (no Rust involved), and exits 1
on the first disagreement.

Families checked: verdict/ (the verification decision table).

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


def main():
    root = sys.argv[1]
    total_bad = 0
    for name in sorted(os.listdir(os.path.join(root, "verdict"))):
        n, bad = check_verdict(os.path.join(root, "verdict", name))
        print(f"verdict/{name}: {n} cases, {bad} disagreements")
        total_bad += bad
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
