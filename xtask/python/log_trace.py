"""Creates one MLflow trace with a tag and prints {"trace_id", "experiment_id"} once
the trace is readable over REST (polled, bounded — spans are exported asynchronously).

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python log_trace.py [--experiment NAME]
"""
import argparse
import json
import time
import uuid

import mlflow
from mlflow import MlflowClient


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--experiment", default=f"traces-{uuid.uuid4().hex[:8]}")
    args = ap.parse_args()
    exp = mlflow.set_experiment(args.experiment)

    @mlflow.trace(name="predict")
    def predict(x):
        return [sum(x)]

    predict([5.1, 3.5, 1.4, 0.2])
    get_last = getattr(mlflow, "get_last_active_trace_id", None)
    if get_last is not None:
        trace_id = get_last()
    else:  # 2.x
        last = mlflow.get_last_active_trace()
        trace_id = last.info.request_id if last is not None else None
    if not trace_id:
        # Client-side tracing is broken in some 2.x installs (OpenTelemetry
        # mismatch); create the trace with the server's own v2 REST call.
        import requests
        r = requests.post(f"{mlflow.get_tracking_uri()}/api/2.0/mlflow/traces",
                          json={"experiment_id": exp.experiment_id, "timestamp_ms": int(time.time() * 1000),
                                "request_metadata": [], "tags": [{"key": "mlflow.traceName", "value": "predict"}]},
                          timeout=30)
        r.raise_for_status()
        trace_id = r.json()["trace_info"]["request_id"]
    client = MlflowClient()
    deadline = time.monotonic() + 60
    while True:
        try:
            client.set_trace_tag(trace_id, "ario.seed", "1")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # the trace is written asynchronously; poll until it exists
    print(json.dumps({"trace_id": trace_id, "experiment_id": exp.experiment_id}))


if __name__ == "__main__":
    main()
