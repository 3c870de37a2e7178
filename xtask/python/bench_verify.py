"""Verification throughput of the Python kernel (ar-io-proof), for `cargo xtask bench`.

Usage: bench_verify.py <envelopes.json> <seconds>
The file is a JSON array of envelope texts. Each iteration parses the text with
json.loads and calls ario_proof.verify_envelope, the same work the Rust side
does from bytes. Prints one JSON object on stdout.
"""
import json
import sys
import time

import ario_proof


def main() -> None:
    texts = json.load(open(sys.argv[1], encoding="utf-8"))
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    for t in texts:  # warm up, and make sure they verify
        assert ario_proof.verify_envelope(json.loads(t)).signature_ok
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for t in texts:
            ario_proof.verify_envelope(json.loads(t))
        n += len(texts)
    elapsed = time.perf_counter() - start
    print(json.dumps({"python_verify_per_s": n / elapsed, "ar_io_proof": getattr(ario_proof, "__version__", "unknown")}))


if __name__ == "__main__":
    main()
