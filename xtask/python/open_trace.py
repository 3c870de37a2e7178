"""Opens traces with MLflow's own Python client, as a user would, and prints
what it found as one JSON line.

For each --trace id: `mlflow.get_trace(id)` must load it (it raises when the
trace has no span data), and its spans, tags and previews are reported; the
experiment's trace list (`MlflowClient().search_traces`) must contain it.

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python open_trace.py
           --experiment-id ID --trace TR_ID [--trace TR_ID ...]
Prints (stdout, one line): {"traces": [{"trace_id", "loaded", "error",
"spans": [{"name", "inputs", "outputs", "attributes"}], "tags",
"request_preview", "listed"}], "mlflow"}.
"""
import argparse
import contextlib
import json
import sys
import warnings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--experiment-id", required=True)
    ap.add_argument("--trace", action="append", required=True)
    args = ap.parse_args()
    with contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        import mlflow
        from mlflow import MlflowClient

        try:
            found = MlflowClient().search_traces(locations=[args.experiment_id], max_results=100)
        except TypeError:  # before `locations` existed
            found = MlflowClient().search_traces(experiment_ids=[args.experiment_id], max_results=100)
        listed = {t.info.trace_id for t in found}
        out = []
        for tid in args.trace:
            row = {"trace_id": tid, "loaded": False, "error": None, "spans": [], "tags": {},
                   "request_preview": None, "listed": tid in listed}
            try:
                t = mlflow.get_trace(tid)
                if t is None:
                    row["error"] = "get_trace returned None"
                else:
                    row["loaded"] = True
                    row["tags"] = dict(t.info.tags)
                    row["request_preview"] = t.info.request_preview
                    row["spans"] = [{"name": s.name, "inputs": s.inputs, "outputs": s.outputs,
                                     "attributes": {k: v for k, v in s.attributes.items() if k.startswith("ario.")}}
                                    for s in t.data.spans]
            except Exception as e:  # the failure is the finding
                row["error"] = f"{type(e).__name__}: {e}"
            out.append(row)
    print(json.dumps({"traces": out, "mlflow": mlflow.__version__}, default=str))


if __name__ == "__main__":
    main()
