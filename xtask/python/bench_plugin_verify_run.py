"""Wall time of the Python plugin's own `ar-io-mlflow verify run`, for `cargo xtask bench`.

Runs the plugin's CLI command in-process --warmup times untimed (cold
imports, MLflow's one-time server-info probe), then --repeat times timed:
each time the
arguments go through the plugin's own parser (`ario_mlflow.cli.build_parser`)
and the same function its `main` calls for `verify run`
(`ario_mlflow.cli.cmd_verify_run`), with the CLI's defaults — fresh
components every run (ProofEngine(), ArweaveAnchor from the env,
ArioVerifyClient()), the MLflow client of MLFLOW_TRACKING_URI. ar.io Verify is
off (ARIO_MLFLOW_ARIO_VERIFY_URL is removed from the environment), so the
fourth check reports not-enabled and nothing is written back to the run.

The plugin fetches envelopes from `https://{gateway}/raw/{tx}`; the devnet
speaks plain http, so requests to `https://<--gateway>/` (that host:port only)
are rewritten to `http://<--gateway>/` in `requests.adapters.HTTPAdapter.send`
("fetch_scheme_rewritten": true). ARIO_MLFLOW_GATEWAYS is set to --gateway,
so the plugin tries no other gateway. The same wrapper counts each run's
requests: to MLFLOW_TRACKING_URI's host:port ("mlflow") and to the gateway.
MLflow's telemetry is switched off (MLFLOW_DISABLE_TELEMETRY=true unless set).

The verdict is read by wrapping `ario_mlflow.cli._verify_envelope_for_tx`
(which `cmd_verify_run` calls) and reducing its result with the plugin's own
`_stage_check_summary`.

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python bench_plugin_verify_run.py
           --run-id RUN --gateway 127.0.0.1:PORT [--repeat K] [--warmup W]
K defaults to 5, W to 1.
Keys and the plugin's wallet go under $HOME/.ario-mlflow (point HOME at a
temp dir).
Prints (stdout, one line): {"runs", "wall_ms_median", "wall_ms_min",
"wall_ms" (every timed run, in order), "mlflow_requests_per_run",
"gateway_requests_per_run" (ints when every timed run sent the same
number, else the per-run list), "other_requests", "overall" ({"ok", "exit_code",
"checks": {signature, anchored_bytes, source_of_truth, ario_attestation:
{"ok", "reason"}}} of the last run), "fetch_scheme_rewritten": true,
"plugin", "mlflow"}. The CLI's panel and everything MLflow prints go to
stderr.
"""
import argparse
import contextlib
import json
import os
import statistics
import sys
import threading
import time
import warnings
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plugin_peer import plugin_version  # noqa: E402


class Router:
    """Rewrites https://GATEWAY/ to http://GATEWAY/ and counts requests by host:port."""

    def __init__(self, gateway, mlflow_netloc):
        import requests.adapters
        self.gateway, self.mlflow_netloc = gateway, mlflow_netloc
        self.counts = {"mlflow": 0, "gateway": 0, "other": 0}
        self._lock = threading.Lock()
        orig = requests.adapters.HTTPAdapter.send
        prefix = f"https://{gateway}/"
        router = self

        def send(adapter, request, *a, **kw):
            if request.url.startswith(prefix):
                request.url = "http://" + request.url[len("https://"):]
            netloc = urlsplit(request.url).netloc
            kind = "gateway" if netloc == router.gateway else "mlflow" if netloc == router.mlflow_netloc else "other"
            with router._lock:
                router.counts[kind] += 1
            return orig(adapter, request, *a, **kw)

        requests.adapters.HTTPAdapter.send = send

    def take(self):
        with self._lock:
            c, self.counts = self.counts, {"mlflow": 0, "gateway": 0, "other": 0}
        return c


def netloc_of(uri):
    u = urlsplit(uri)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise SystemExit(f"MLFLOW_TRACKING_URI must be an http(s) URL, got {uri!r}")
    return u.netloc


def same_or_list(xs):
    return xs[0] if all(x == xs[0] for x in xs) else xs


def bench(args):
    warnings.filterwarnings("ignore")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ["ARIO_MLFLOW_GATEWAYS"] = args.gateway
    os.environ.pop("ARIO_MLFLOW_ARIO_VERIFY_URL", None)
    import mlflow
    router = Router(args.gateway, netloc_of(mlflow.get_tracking_uri()))
    from ario_mlflow import cli

    seen = {}
    orig_verify = cli._verify_envelope_for_tx

    def capture(*a, **kw):
        combined, ok = orig_verify(*a, **kw)
        seen["combined"], seen["ok"] = combined, ok
        return combined, ok

    cli._verify_envelope_for_tx = capture

    def verify_run():
        cli_args = cli.build_parser().parse_args(["verify", "run", args.run_id])
        return cli.cmd_verify_run(cli_args)

    for _ in range(args.warmup):
        verify_run()
    walls, per_run, rc = [], [], None
    for _ in range(args.repeat):
        seen.clear()
        router.take()
        t0 = time.perf_counter_ns()
        rc = verify_run()
        walls.append((time.perf_counter_ns() - t0) / 1e6)
        per_run.append(router.take())

    combined = seen.get("combined") or {}
    return {
        "runs": args.repeat,
        "wall_ms_median": round(statistics.median(walls), 3),
        "wall_ms_min": round(min(walls), 3),
        "wall_ms": [round(w, 3) for w in walls],
        "mlflow_requests_per_run": same_or_list([c["mlflow"] for c in per_run]),
        "gateway_requests_per_run": same_or_list([c["gateway"] for c in per_run]),
        "other_requests": sum(c["other"] for c in per_run),
        "overall": {"ok": seen.get("ok", False), "exit_code": rc,
                    "checks": cli._stage_check_summary(combined) if combined else None},
        "fetch_scheme_rewritten": True,
        "plugin": plugin_version(),
        "mlflow": mlflow.__version__,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-id", required=True)
    ap.add_argument("--gateway", required=True, help="host:port of the devnet gateway (plain http)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    if args.repeat < 1 or args.warmup < 0:
        ap.error("--repeat must be >= 1 and --warmup >= 0")
    if "/" in args.gateway or "://" in args.gateway:
        ap.error("--gateway is a bare host:port, e.g. 127.0.0.1:4884")
    with contextlib.redirect_stdout(sys.stderr):
        out = bench(args)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
