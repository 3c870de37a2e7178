# Supervises one MLflow test server (see the crate docs): starts it in its
# own session, prints its pid, and ends its whole group when stdin closes.
import os, shutil, signal, subprocess, sys, threading, time
argv = sys.argv[1:]
env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true",
           MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS="true",  # webhook tests target a closed loopback port only
           MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES="0",  # ...and should fail fast there
           MLFLOW_WEBHOOK_ALLOWED_SCHEMES="http,https",  # `serve` tests receive on plain loopback http
           MLFLOW_WEBHOOK_CACHE_TTL="1")  # a webhook created a moment ago gets the next event
log = open(os.path.join(os.environ["ARIO_MLFLOW_DIR"], "server.log"), "wb")
p = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
print(p.pid, flush=True)
stopping = threading.Event()
def watch():                  # the server died on its own: clear its group and say so by exiting
    p.wait()
    if stopping.is_set():     # ...unless it was told to stop, below
        return
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except Exception:
        pass
    os._exit(3)
threading.Thread(target=watch, daemon=True).start()
try:
    sys.stdin.read()          # returns when the test process goes away
finally:
    stopping.set()
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=15)
    except Exception:
        try:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=15)
        except Exception:
            pass
    # The leader exits first; its workers may still be writing. Wait for the
    # whole group to be gone (bounded) before removing what they write to.
    def group_alive():
        try:
            os.killpg(p.pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    deadline = time.monotonic() + 15
    while group_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_alive():
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except Exception:
            pass
        time.sleep(0.5)
    # The store and artifacts go with the server (every test binary starts
    # one, twice per CI run): the disk, not the time, is what CI runs out of.
    # A server that died on its own keeps its directory (and log) above.
    if not os.environ.get("ARIO_KEEP_MLFLOW_DIR"):
        log.close()
        shutil.rmtree(os.environ["ARIO_MLFLOW_DIR"], ignore_errors=True)
