"""Latency of the Python plugin's VerifiedModel.predict, for `cargo xtask bench`.

Opens the real plugin's `VerifiedModel(model_uri, proof_engine=...,
anchor=...)` in signed-only mode (`ArweaveAnchor().enabled = False`: the
envelope is signed, nothing is uploaded — there is no Turbo here) and calls
`predict(one_row, capture_otel=False)` --warmup times, then --n times, timing
each of the N calls with time.perf_counter_ns. Every predict also does what
the plugin always does against MLflow: it writes
ario/predictions/<decision_id>/{payload,proof}.json on the model's source run,
sets ario.* trace tags, and its `@mlflow.trace` span is exported
asynchronously.

Every HTTP request MLflow's client sends (`requests.adapters.HTTPAdapter.send`
is wrapped) is counted from the end of the warm-up (whose trace exports are
flushed first) to the end of a final `mlflow.flush_trace_async_logging()`,
so the count includes the trace exports of the N predictions.

The input is one row of four named floats ({"sepal_length": 5.1, ...}); the
plugin turns a dict into a 1x4 array, which the trivial model of
log_trivial_model.py (or the iris model of log_iris_run.py) accepts.

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python bench_plugin_predict.py
           --model-uri models:/NAME/VERSION --n N [--warmup W]
MLflow's telemetry is switched off (MLFLOW_DISABLE_TELEMETRY=true unless
set), so its background requests to the internet stay out of the count.
Keys: the plugin's ProofEngine keys go under $HOME/plugin-keys, its wallet
under $HOME/.ario-mlflow (point HOME at a temp dir).
Prints (stdout, one line): {"n", "p50_us", "p99_us", "p999_us", "mean_us",
"per_s" (n / wall seconds of the timed loop), "mlflow_requests", "uploads": 0,
"uploads_note", "plugin", "mlflow"}. Percentiles are nearest-rank over the N
sorted latencies. Everything MLflow itself prints goes to stderr.
"""
import argparse
import contextlib
import json
import math
import os
import sys
import threading
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plugin_peer import engine, plugin_version, signed_only  # noqa: E402

ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


class RequestCounter:
    """Counts requests sent through any requests HTTPAdapter while `on`."""

    def __init__(self):
        import requests.adapters
        self.on = False
        self.count = 0
        self._lock = threading.Lock()
        orig = requests.adapters.HTTPAdapter.send
        counter = self

        def send(adapter, request, *a, **kw):
            if counter.on:
                with counter._lock:
                    counter.count += 1
            return orig(adapter, request, *a, **kw)

        requests.adapters.HTTPAdapter.send = send


def nearest_rank(sorted_vals, p):
    """Nearest-rank percentile: the ceil(p/100 * n)-th smallest value."""
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[k - 1]


def bench(args):
    warnings.filterwarnings("ignore")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    counter = RequestCounter()
    import mlflow
    from ario_mlflow import VerifiedModel

    flush = getattr(mlflow, "flush_trace_async_logging", None)
    vm = VerifiedModel(args.model_uri, proof_engine=engine(), anchor=signed_only())
    for _ in range(args.warmup):
        vm.predict(dict(ROW), capture_otel=False)
    if flush is not None:
        flush()

    lat = []
    counter.count, counter.on = 0, True
    start = time.perf_counter_ns()
    for _ in range(args.n):
        t0 = time.perf_counter_ns()
        vm.predict(dict(ROW), capture_otel=False)
        lat.append(time.perf_counter_ns() - t0)
    wall_ns = time.perf_counter_ns() - start
    if flush is not None:
        flush()
    counter.on = False

    lat.sort()
    us = lambda ns: round(ns / 1000.0, 1)
    return {
        "n": args.n,
        "p50_us": us(nearest_rank(lat, 50)),
        "p99_us": us(nearest_rank(lat, 99)),
        "p999_us": us(nearest_rank(lat, 99.9)),
        "mean_us": us(sum(lat) / len(lat)),
        "per_s": round(args.n / (wall_ns / 1e9), 2),
        "mlflow_requests": counter.count,
        "uploads": 0,
        "uploads_note": "signed-only: the plugin's uploads switched off (no Turbo here)",
        "plugin": plugin_version(),
        "mlflow": mlflow.__version__,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-uri", required=True, help="models:/NAME/VERSION")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    if args.n < 1 or args.warmup < 0:
        ap.error("--n must be >= 1 and --warmup >= 0")
    with contextlib.redirect_stdout(sys.stderr):
        out = bench(args)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
