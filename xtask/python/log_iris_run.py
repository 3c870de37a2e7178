"""Logs a realistic MLflow run for the integration tests and prints one JSON line.

A scikit-learn LogisticRegression on iris: params, metrics (one with two
steps), a dataset input with context "training", the model logged with the
installed MLflow's API (3.x `name=`, 2.x `artifact_path=`), and optionally a
registered version created from a `runs:/` source, an alias and a stage.

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python log_iris_run.py
           [--experiment NAME] [--register MODEL] [--alias A] [--stage S]
Prints: {"run_id", "experiment_id", "model_uri", "model_id", "version", "mlflow"}
"""
import argparse
import json
import uuid
import warnings

import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

warnings.filterwarnings("ignore")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--experiment", default=f"iris-{uuid.uuid4().hex[:8]}")
    ap.add_argument("--register")
    ap.add_argument("--alias")
    ap.add_argument("--stage")
    args = ap.parse_args()

    mlflow.set_experiment(args.experiment)
    X, y = load_iris(return_X_y=True)
    ds = mlflow.data.from_numpy(X, targets=y, name="iris", source="sklearn.datasets.load_iris")
    v3 = int(mlflow.__version__.split(".")[0]) >= 3
    with mlflow.start_run(run_name="iris-lr") as run:
        mlflow.log_params({"C": 1.0, "max_iter": 200})
        mlflow.log_input(ds, context="training")
        model = LogisticRegression(C=1.0, max_iter=200).fit(X, y)
        mlflow.log_metric("accuracy", model.score(X, y))
        mlflow.log_metric("loss", 0.5, step=0)
        mlflow.log_metric("loss", 0.3, step=1)
        kw = {"name": "model"} if v3 else {"artifact_path": "model"}
        info = mlflow.sklearn.log_model(model, input_example=X[:2].astype(np.float64), **kw)
    run_id = run.info.run_id
    out = {"run_id": run_id, "experiment_id": run.info.experiment_id, "model_uri": info.model_uri,
           "model_id": getattr(info, "model_id", None), "version": None, "mlflow": mlflow.__version__}
    if args.register:
        client = MlflowClient()
        try:
            client.create_registered_model(args.register)
        except Exception:
            pass  # already exists
        mv = client.create_model_version(args.register, f"runs:/{run_id}/model", run_id=run_id)
        out["version"] = mv.version
        if args.alias:
            client.set_registered_model_alias(args.register, args.alias, mv.version)
        if args.stage:
            client.transition_model_version_stage(args.register, mv.version, args.stage)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
