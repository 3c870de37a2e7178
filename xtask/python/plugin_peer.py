"""Drives the real Python plugin ar-io-mlflow 0.3.0 for the interop tests.

  lifecycle --model NAME
      Logs an iris run (log_iris_run.py), then with the plugin, in
      signed-only mode (uploads switched off: no network here): anchor() the
      run, create_model_version + transition_model_version_stage through
      ArioMlflowClient, and one VerifiedModel.predict. Prints
      {"run_id", "version", "decision_id", "trace_id",
       "training": {"envelope", "payload_hex"},
       "datasets": [{"envelope", "payload_hex"}]}.
      Registration, promotion and prediction envelopes and payloads are in
      the run's ario/ artifacts, where the plugin wrote them.

  verify --items FILE
      FILE: [{"name", "envelope", "payload_hex", "live"}]. Prints, per name,
      {"verify_record": overall, "kernel_ok": ar-io-proof's ok, and with
      "live": "full_verify": {check: ok} — the plugin's own re-derivation
      from MLflow at MLFLOW_TRACKING_URI}.

Keys and the plugin's wallet go under $HOME (the tests point it at a temp dir).
Everything MLflow prints goes to stderr; one JSON line on stdout.
"""
import argparse
import contextlib
import json
import os
import sys
import warnings


def engine():
    from ario_mlflow.proof import ProofEngine
    d = os.path.join(os.path.expanduser("~"), "plugin-keys")
    return ProofEngine(os.path.join(d, "private.json"), os.path.join(d, "public.json"))


def signed_only():
    from ario_mlflow.arweave import ArweaveAnchor
    a = ArweaveAnchor()
    a.enabled = False
    return a


def plugin_version():
    try:
        import importlib.metadata
        return importlib.metadata.version("ar-io-mlflow")
    except Exception:
        import ario_mlflow
        return getattr(ario_mlflow, "__version__", None)


def lifecycle(args):
    warnings.filterwarnings("ignore")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import mlflow
    from ario_mlflow import anchor, ArioMlflowClient, VerifiedModel
    import log_iris_run

    ns = argparse.Namespace(experiment=args.model + "-exp", register=None, alias=None, stage=None)
    logged = log_iris_run.log(ns)
    run_id = logged["run_id"]
    pe, ar = engine(), signed_only()
    with mlflow.start_run(run_id=run_id):
        res = anchor(proof_engine=pe, arweave=ar, metadata={"service_name": "plugin-interop"}, capture_otel=False)
    client = ArioMlflowClient(proof_engine=pe, anchor=ar)
    try:
        client.create_registered_model(args.model)
    except Exception:
        pass
    mv = client.create_model_version(args.model, f"runs:/{run_id}/model", run_id=run_id, capture_otel=False)
    assert client.wait_for_anchor("registration", args.model, mv.version, timeout=120)
    client.transition_model_version_stage(args.model, mv.version, "Staging", capture_otel=False)
    assert client.wait_for_anchor("promotion", args.model, mv.version, timeout=120)
    vm = VerifiedModel(f"models:/{args.model}/{mv.version}", proof_engine=pe, anchor=ar)
    pred = vm.predict(logged["examples"][0]["input"], capture_otel=False)
    flush = getattr(mlflow, "flush_trace_async_logging", None)
    if flush is not None:
        flush()
    trace_id = pred.record.get("mlflow_trace_id")
    return {
        "run_id": run_id,
        "version": str(mv.version),
        "decision_id": pred.decision_id,
        "trace_id": trace_id,
        "training": {"envelope": res["envelope"], "payload_hex": res["payload_bytes"].hex()},
        "datasets": [{"envelope": d["envelope"], "payload_hex": d["payload_bytes"].hex()} for d in res["dataset_anchors"]],
    }


def verify(args):
    """Verifies every item of --items: [{"name", "envelope", "payload_hex", "live"}]."""
    from ario_mlflow.verify import verify_record, full_verify
    from ario_proof import verify_envelope
    pe = engine()
    out = {}
    client = None
    for item in json.load(open(args.items)):
        env, payload = item["envelope"], bytes.fromhex(item["payload_hex"])
        r = {
            "verify_record": verify_record(env, payload, proof_engine=pe)["overall"],
            "kernel_ok": bool(verify_envelope(env, payload_bytes=payload).ok),
        }
        if item.get("live"):
            if client is None:
                from mlflow import MlflowClient
                client = MlflowClient()
            f = full_verify(env, proof_engine=pe, mlflow_client=client)
            r["full_verify"] = {k: (f[k].get("ok") if isinstance(f[k], dict) else f[k]) for k in f}
        out[item["name"]] = r
    return out


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    lc = sub.add_parser("lifecycle")
    lc.add_argument("--model", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--items", required=True)
    args = ap.parse_args()
    with contextlib.redirect_stdout(sys.stderr):
        out = lifecycle(args) if args.cmd == "lifecycle" else verify(args)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
