"""Creates one MLflow trace with tags and prints {"trace_id", "experiment_id"}
once its info (with the tags) is readable over REST.

The trace is a traced `predict` function with a nested span; the tags are set
while it runs (`mlflow.update_current_trace`). Spans are exported
asynchronously (flushed right away where `mlflow.flush_trace_async_logging`
exists), so the script polls `GET /api/2.0/mlflow/traces/<id>/info`
(served by 2.x and 3.x) until it answers 200 with the tags, bounded by
--timeout; no fixed sleeps.

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python log_trace.py
           [--experiment NAME] [--timeout SECONDS]
The experiment is --experiment, else $MLFLOW_EXPERIMENT_NAME, else
"traces-<8 hex>" (created when missing).
Prints (stdout, one line): {"trace_id", "experiment_id", "tags", "mlflow"}.
Everything MLflow itself prints goes to stderr.
"""
import argparse
import contextlib
import json
import os
import sys
import time
import uuid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--experiment", default=os.environ.get("MLFLOW_EXPERIMENT_NAME") or f"traces-{uuid.uuid4().hex[:8]}")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    with contextlib.redirect_stdout(sys.stderr):
        out = log(args)
    print(json.dumps(out), flush=True)


def log(args):
    import mlflow
    import requests

    exp = mlflow.set_experiment(args.experiment)
    tags = {"ario.decision_id": f"dec-{uuid.uuid4().hex[:8]}", "ario.seed": "1"}

    @mlflow.trace(name="predict")
    def predict(x):
        with mlflow.start_span(name="inner") as span:
            span.set_inputs({"x": x})
            y = [sum(x)]
            span.set_outputs({"y": y})
        update = getattr(mlflow, "update_current_trace", None)  # absent before 2.15
        if update is not None:
            update(tags=tags)
        return y

    predict([5.1, 3.5, 1.4, 0.2])
    flush = getattr(mlflow, "flush_trace_async_logging", None)
    if flush is not None:
        # Export now instead of after the exporter's batching interval (5 s
        # by default in 3.x); the poll below still confirms the server has it.
        flush()
    trace_id = None
    if hasattr(mlflow, "get_last_active_trace_id"):  # 3.x
        trace_id = mlflow.get_last_active_trace_id()
    else:  # 2.x
        last = mlflow.get_last_active_trace()
        trace_id = last.info.request_id if last is not None else None

    base = mlflow.get_tracking_uri().rstrip("/")
    if not trace_id:
        # Client-side tracing is broken in some 2.x installs (OpenTelemetry
        # version mismatch): create the trace with the server's v2 REST call.
        r = requests.post(f"{base}/api/2.0/mlflow/traces", timeout=30, json={
            "experiment_id": exp.experiment_id, "timestamp_ms": int(time.time() * 1000), "request_metadata": [],
            "tags": [{"key": "mlflow.traceName", "value": "predict"}] + [{"key": k, "value": v} for k, v in tags.items()]})
        r.raise_for_status()
        trace_id = r.json()["trace_info"]["request_id"]

    # Poll until the server has the trace info and its tags (async export).
    deadline = time.monotonic() + args.timeout
    delay, last = 0.05, None
    while True:
        r = requests.get(f"{base}/api/2.0/mlflow/traces/{trace_id}/info", timeout=30)
        last = f"HTTP {r.status_code} {r.text[:200]}"
        if r.status_code == 200:
            got = {t["key"]: t.get("value") for t in r.json().get("trace_info", {}).get("tags", [])}
            if all(got.get(k) == v for k, v in tags.items()):
                break
        if time.monotonic() > deadline:
            raise SystemExit(f"trace {trace_id} not readable after {args.timeout}s: {last}")
        time.sleep(delay)  # poll interval, doubling up to 0.5 s
        delay = min(delay * 2, 0.5)
    return {"trace_id": trace_id, "experiment_id": exp.experiment_id, "tags": tags, "mlflow": mlflow.__version__}


if __name__ == "__main__":
    main()
