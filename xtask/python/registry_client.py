"""Changes the model registry through MLflow's own Python client (not ours),
so `serve` must learn of them from MLflow's webhooks.

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python registry_client.py
           register NAME SOURCE [RUN_ID]   -> {"name", "version"}
           alias NAME ALIAS VERSION        -> {"name", "alias", "version"}
The registered model is created when missing. One JSON line on stdout;
whatever MLflow prints goes to stderr.
"""
import contextlib
import json
import sys
import warnings


def main(argv):
    warnings.filterwarnings("ignore")
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    cmd = argv[0]
    if cmd == "register":
        name, source = argv[1], argv[2]
        run_id = argv[3] if len(argv) > 3 else None
        try:
            client.create_registered_model(name)
        except MlflowException as e:
            if e.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        mv = client.create_model_version(name, source, run_id=run_id)
        return {"name": name, "version": mv.version}
    if cmd == "alias":
        name, alias, version = argv[1], argv[2], argv[3]
        client.set_registered_model_alias(name, alias, version)
        return {"name": name, "alias": alias, "version": version}
    raise SystemExit(f"unknown command {cmd!r}")


if __name__ == "__main__":
    with contextlib.redirect_stdout(sys.stderr):
        out = main(sys.argv[1:])
    print(json.dumps(out), flush=True)
