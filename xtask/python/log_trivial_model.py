"""Logs a run holding a trivial pyfunc model, for the prediction benchmarks.

The model is an `mlflow.pyfunc.PythonModel` whose predict costs next to
nothing and returns one 0 per input row (`[0] * len(rows)`), so a benchmark
of `VerifiedModel.predict` measures the plugin and MLflow round trips, not
inference. It is logged at artifact path/name `model` with the installed
MLflow's API (3.x `name=`, 2.x `artifact_path=`), with no input example and
no signature (the model takes any array-like). The run also gets one param.

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python log_trivial_model.py
           [--experiment NAME]
The experiment is --experiment, else $MLFLOW_EXPERIMENT_NAME, else
"trivial-<8 hex>" (created when missing).
Prints (stdout, one line): {"run_id", "experiment_id",
"model_uri": "runs:/<run>/model", "mlflow"}. Everything MLflow itself prints
goes to stderr.
"""
import argparse
import contextlib
import json
import os
import sys
import uuid
import warnings

import mlflow.pyfunc


class ConstantModel(mlflow.pyfunc.PythonModel):
    """Returns one 0 per input row, whatever the input's columns."""

    def predict(self, context, model_input, params=None):
        return [0] * len(model_input)


def log(args):
    warnings.filterwarnings("ignore")
    import mlflow

    v3 = int(mlflow.__version__.split(".")[0]) >= 3
    exp = mlflow.set_experiment(args.experiment)
    with mlflow.start_run(run_name="trivial-model") as run:
        mlflow.log_param("kind", "constant-zero")
        kw = {"name": "model"} if v3 else {"artifact_path": "model"}
        mlflow.pyfunc.log_model(python_model=ConstantModel(), **kw)
    run_id = run.info.run_id
    return {"run_id": run_id, "experiment_id": exp.experiment_id,
            "model_uri": f"runs:/{run_id}/model", "mlflow": mlflow.__version__}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--experiment", default=os.environ.get("MLFLOW_EXPERIMENT_NAME") or f"trivial-{uuid.uuid4().hex[:8]}")
    args = ap.parse_args()
    with contextlib.redirect_stdout(sys.stderr):
        out = log(args)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
