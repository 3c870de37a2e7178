"""Logs a realistic MLflow run for the integration tests and prints one JSON line.

A scikit-learn LogisticRegression on iris: params, metrics (accuracy, and a
loss with two steps), a dataset input with context "training", the model
logged with the installed MLflow's API (3.x `name=`, 2.x `artifact_path=`),
and optionally a registered version created from a `runs:/` source (the
low-level `create_model_version`, so the source stays `runs:/<run>/model`),
an alias and a stage.

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python log_iris_run.py
           [--experiment NAME] [--register MODEL] [--alias A] [--stage S]
The experiment is --experiment, else $MLFLOW_EXPERIMENT_NAME, else
"iris-<8 hex>" (created when missing).
Prints (stdout, one line): {"run_id", "experiment_id", "model_uri",
"model_id" (null on 2.x), "version" (null without --register), "alias",
"stage", "mlflow", "examples" (three {"input", "output"} predictions of the
trained model)}. Everything MLflow itself prints goes to stderr.
"""
import argparse
import contextlib
import json
import os
import sys
import uuid
import warnings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--experiment", default=os.environ.get("MLFLOW_EXPERIMENT_NAME") or f"iris-{uuid.uuid4().hex[:8]}")
    ap.add_argument("--register", metavar="MODEL", help="registered model to add a version to (created when missing)")
    ap.add_argument("--alias", help="alias to point at the new version (needs --register)")
    ap.add_argument("--stage", help="stage to transition the new version to (needs --register)")
    args = ap.parse_args()
    if (args.alias or args.stage) and not args.register:
        ap.error("--alias/--stage need --register")

    with contextlib.redirect_stdout(sys.stderr):
        out = log(args)
    print(json.dumps(out), flush=True)


def log(args):
    warnings.filterwarnings("ignore")
    import mlflow
    import numpy as np
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    v3 = int(mlflow.__version__.split(".")[0]) >= 3
    exp = mlflow.set_experiment(args.experiment)
    X, y = load_iris(return_X_y=True)
    ds = mlflow.data.from_numpy(X, targets=y, name="iris", source="sklearn.datasets.load_iris")
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
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    examples = [{"input": dict(zip(names, (float(v) for v in X[i]))), "output": model.predict(X[i:i + 1]).tolist()}
                for i in (0, 60, 120)]
    out = {"run_id": run_id, "experiment_id": exp.experiment_id, "model_uri": info.model_uri,
           "model_id": getattr(info, "model_id", None) if v3 else None,
           "version": None, "alias": None, "stage": None, "mlflow": mlflow.__version__,
           "examples": examples}
    if args.register:
        client = MlflowClient()
        try:
            client.get_registered_model(args.register)
        except MlflowException:
            client.create_registered_model(args.register)
        mv = client.create_model_version(args.register, f"runs:/{run_id}/model", run_id=run_id)
        out["version"] = mv.version
        if args.alias:
            client.set_registered_model_alias(args.register, args.alias, mv.version)
            out["alias"] = args.alias
        if args.stage:
            client.transition_model_version_stage(args.register, mv.version, args.stage)
            out["stage"] = args.stage
    return out


if __name__ == "__main__":
    main()
