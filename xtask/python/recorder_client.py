"""A Python service's side of the decision-recorder sidecar, with `requests`
only: posts decisions and fetches inclusion proofs, printing one JSON line.

Usage: python recorder_client.py --url http://127.0.0.1:PORT --post N
           (one decision alone, then N-1 in one array request)
       python recorder_client.py --url ... --proof DECISION_ID [--timeout S] [--anchored]
           (asks until the proof is ready: 202 means its batch is not
           checkpointed yet; with --anchored, also until it names the
           checkpoint's transaction, which follows once the upload is done)
Prints {"receipts": [...]} or {"proof": {...}, "asked": K}.
"""
import argparse
import json
import time

import requests


def post(url, n):
    one = {"input": {"sepal_length": 5.1, "row": 0}, "output": [0], "metadata": {"client": "python"}, "latency_ms": 0.4}
    r = requests.post(f"{url}/v1/decisions", json=one, timeout=30)
    r.raise_for_status()
    receipts = [r.json()]
    many = [{"input": {"sepal_length": 5.0 + i / 100, "row": i}, "output": [i % 3]} for i in range(1, n)]
    if many:
        r = requests.post(f"{url}/v1/decisions", json=many, timeout=60)
        r.raise_for_status()
        receipts += r.json()
    bad = requests.post(f"{url}/v1/decisions", data=b"{not json", timeout=30)
    return {"receipts": receipts, "bad_request_status": bad.status_code}


def proof(url, decision_id, timeout, anchored):
    deadline = time.monotonic() + timeout
    asked = 0
    while True:
        asked += 1
        r = requests.get(f"{url}/v1/decisions/{decision_id}/proof", timeout=30)
        if r.status_code == 200:
            p = r.json()
            if not anchored or p.get("checkpoint_tx_id") or time.monotonic() > deadline:
                return {"proof": p, "asked": asked}
            time.sleep(0.05)
            continue
        if r.status_code != 202 or time.monotonic() > deadline:
            return {"status": r.status_code, "body": r.text, "asked": asked}
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--post", type=int)
    ap.add_argument("--proof")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--anchored", action="store_true")
    a = ap.parse_args()
    out = post(a.url, a.post) if a.post else proof(a.url, a.proof, a.timeout, a.anchored)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
