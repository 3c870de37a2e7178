"""Checks spec/mlflow/openapi.yaml against MLflow's protobuf descriptors and,
optionally, against a live MLflow tracking server.

(a) Static (always): every operation is mapped to its RPC through the `(rpc)`
    endpoint option kept in the installed `mlflow/protos/*_pb2.py` descriptors
    (method + path). Every query/path parameter, request-body property and
    200-response property must exist in the RPC's request / `Response` message,
    recursively, with a compatible JSON shape (repeated -> array, map -> object,
    int64 -> integer/int64, double -> oneOf[number, string], enum -> string
    with known values, Timestamp/Duration -> string). The document's own
    conventions are checked too (snake_case operationIds, "4XX"/"5XX" error
    responses and never `default`, no `additionalProperties: false`, response
    arrays default to []).
(b) Live (`--server URL`): every operation is called once with realistic data
    (a self-contained scenario: experiment, run, artifacts, logged model,
    registry, trace, webhook) and each JSON response is validated against the
    response schema the document declares for its status (200 or 4XX). On a
    2.x server the 3.x-only operations must answer a non-JSON 404/405.

Usage:
    python check_openapi.py [--spec PATH] [--protos-root DIR] [--server URL]
`--protos-root` reads the `_pb2` modules from another tree (e.g. an extracted
wheel: DIR/mlflow/protos/...) instead of the installed mlflow.
Only mlflow's own dependencies are needed (PyYAML, protobuf, requests); the
JSON-schema check is a small validator below (the OpenAPI 3.0 subset we use).
Exit status 0 when clean, 1 on any mismatch.
"""
import argparse
import importlib
import importlib.util
import json
import os
import pkgutil
import re
import sys
import threading
import time
import types
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SPEC = os.path.normpath(os.path.join(HERE, "..", "..", "spec", "mlflow", "openapi.yaml"))
METHODS = ("get", "put", "post", "delete", "patch")

# Response properties that are deliberately `required` (identity fields the
# Rust code relies on being present; MLflow always sends them).
ALLOWED_REQUIRED = {
    "MlflowError": {"error_code"},
    "KeyValue": {"key"},
    "Metric": {"key", "value"},
    "FileInfo": {"path"},
    "ModelOutput": {"model_id"},
    "WebhookEvent": {"entity", "action"},
}
# Operations without an RPC in the protos (plain Flask routes).
NO_PROTO = {("get", "/health"), ("get", "/version")}
# What MLflow 2.x protos (checked: 2.22.5) lack; with 2.x descriptors these
# are reported as notes, not mismatches.
THREE_X_OPS = {"log_outputs", "create_logged_model", "get_logged_model", "finalize_logged_model",
               "search_logged_models", "get_trace_info_v3", "search_traces_v3",
               "create_webhook", "list_webhooks", "delete_webhook", "test_webhook"}
THREE_X_FIELDS = {("mlflow.Experiment", "workspace"), ("mlflow.Run", "outputs"),
                  ("mlflow.Metric", "dataset_name"), ("mlflow.Metric", "dataset_digest"),
                  ("mlflow.Metric", "model_id"), ("mlflow.Metric", "run_id"),
                  ("mlflow.ModelVersion", "model_id"), ("mlflow.CreateModelVersion", "model_id")}


class Report:
    def __init__(self):
        self.errors = []
        self.notes = []
        self.legacy = False  # 2.x descriptors: 3.x additions become notes
        self.lacks = set()

    def err(self, msg):
        self.errors.append(msg)
        print("MISMATCH " + msg)

    def note(self, msg):
        self.notes.append(msg)
        print("note     " + msg)


# ---------------------------------------------------------------------------
# descriptors
# ---------------------------------------------------------------------------
def load_routes(protos_root=None):
    """{(method, path): (rpc full name, input Descriptor, output Descriptor, module)}."""
    if protos_root is None:
        spec = importlib.util.find_spec("mlflow")
        protos_root = os.path.dirname(os.path.dirname(spec.origin))
    # A stub `mlflow` package so that importing mlflow.protos.* does not run
    # mlflow/__init__.py (slow, and impossible for an extracted wheel).
    pkg = types.ModuleType("mlflow")
    pkg.__path__ = [os.path.join(protos_root, "mlflow")]
    sys.modules["mlflow"] = pkg
    protos = importlib.import_module("mlflow.protos")
    dbx = importlib.import_module("mlflow.protos.databricks_pb2")
    routes, failed = {}, []
    for mi in sorted(pkgutil.iter_modules(protos.__path__), key=lambda m: m.name):
        if not mi.name.endswith("_pb2"):
            continue
        try:
            mod = importlib.import_module("mlflow.protos." + mi.name)
        except Exception as e:  # noqa: BLE001 - report and go on
            failed.append(f"{mi.name}: {e}")
            continue
        for svc in mod.DESCRIPTOR.services_by_name.values():
            for m in svc.methods:
                rpc = m.GetOptions().Extensions[dbx.rpc]
                for ep in rpc.endpoints:
                    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", ep.path)
                    full = f"/api/{ep.since.major}.{ep.since.minor}{path}"
                    key = (ep.method.lower(), full)
                    # the OSS services win over Databricks-only ones
                    if key not in routes or mi.name in ("service_pb2", "model_registry_pb2"):
                        routes[key] = (m.full_name, m.input_type, m.output_type, mi.name)
    return routes, failed, os.path.join(protos_root, "mlflow", "protos")


INT64 = {"TYPE_INT64", "TYPE_UINT64", "TYPE_SINT64", "TYPE_FIXED64", "TYPE_SFIXED64"}
INT32 = {"TYPE_INT32", "TYPE_UINT32", "TYPE_SINT32", "TYPE_FIXED32", "TYPE_SFIXED32"}


def type_name(f):
    from google.protobuf.descriptor import FieldDescriptor as F

    for n in dir(F):
        if n.startswith("TYPE_") and getattr(F, n) == f.type:
            return n
    return str(f.type)


def is_map(f):
    return f.message_type is not None and f.message_type.GetOptions().map_entry


# ---------------------------------------------------------------------------
# spec helpers
# ---------------------------------------------------------------------------
class Spec:
    def __init__(self, path):
        with open(path, encoding="utf-8") as fh:
            self.doc = yaml.safe_load(fh)
        self.path = path

    def resolve(self, s):
        seen = 0
        while isinstance(s, dict) and "$ref" in s:
            ref = s["$ref"]
            assert ref.startswith("#/"), ref
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part]
            s = node
            seen += 1
            assert seen < 20, ref
        return s

    @staticmethod
    def ref_name(s):
        if isinstance(s, dict) and "$ref" in s:
            return s["$ref"].rsplit("/", 1)[-1]
        return None

    def operations(self):
        for path, item in self.doc["paths"].items():
            for method in METHODS:
                if method in item:
                    yield method, path, item[method]

    def json_schema(self, node):
        """The application/json schema of a requestBody/response (after $ref), or None."""
        node = self.resolve(node)
        content = (node or {}).get("content") or {}
        if "application/json" in content:
            return content["application/json"].get("schema")
        return None


# ---------------------------------------------------------------------------
# (a) static check
# ---------------------------------------------------------------------------
def check_field_shape(spec, prop, f, where, rep, seen):
    """prop: the OpenAPI schema of proto field f."""
    name = spec.ref_name(prop)
    s = spec.resolve(prop)
    if f.is_repeated and not is_map(f):
        if s.get("type") != "array":
            rep.err(f"{where}: proto field is repeated, schema type is {s.get('type')!r}")
            return
        check_scalar_or_message(spec, s.get("items", {}), f, where + "[]", rep, seen)
        return
    if is_map(f):
        ap = s.get("additionalProperties")
        if s.get("type") != "object" or not isinstance(ap, dict):
            rep.err(f"{where}: proto map -> expected object with additionalProperties schema")
            return
        check_scalar_or_message(spec, ap, f.message_type.fields_by_name["value"], where + "{}", rep, seen)
        return
    check_scalar_or_message(spec, prop, f, where, rep, seen, name)


def check_scalar_or_message(spec, prop, f, where, rep, seen, name=None):
    s = spec.resolve(prop)
    t = type_name(f)
    if f.message_type is not None:
        wk = f.message_type.full_name
        if wk in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
            if s.get("type") != "string":
                rep.err(f"{where}: {wk} is a JSON string, schema type is {s.get('type')!r}")
            return
        check_message(spec, prop, f.message_type, where, rep, seen)
        return
    if "oneOf" in s:
        kinds = sorted(spec.resolve(x).get("type") for x in s["oneOf"])
        if t in ("TYPE_DOUBLE", "TYPE_FLOAT") and kinds == ["number", "string"]:
            return
        rep.err(f"{where}: oneOf {kinds} for proto {t}")
        return
    st, fmt = s.get("type"), s.get("format")
    if t in INT64:
        if st != "integer" or fmt != "int64":
            rep.err(f"{where}: proto {t} -> want integer/int64, schema {st}/{fmt}")
    elif t in INT32:
        if st != "integer" or fmt not in (None, "int32"):
            rep.err(f"{where}: proto {t} -> want integer(/int32), schema {st}/{fmt}")
    elif t in ("TYPE_DOUBLE", "TYPE_FLOAT"):
        rep.err(f"{where}: proto {t} -> want oneOf [number/double, string] (NaN/Infinity arrive as strings)")
    elif t == "TYPE_BOOL":
        if st != "boolean":
            rep.err(f"{where}: proto bool, schema {st}")
    elif t in ("TYPE_STRING", "TYPE_BYTES"):
        if st != "string":
            rep.err(f"{where}: proto {t}, schema {st}")
    elif t == "TYPE_ENUM":
        if st != "string":
            rep.err(f"{where}: proto enum {f.enum_type.full_name}, schema {st}")
        known = {v.name for v in f.enum_type.values}
        for v in s.get("enum", []):
            if v not in known:
                rep.err(f"{where}: enum value {v!r} not in {f.enum_type.full_name} {sorted(known)}")
    else:
        rep.note(f"{where}: unchecked proto type {t}")


def check_message(spec, prop, desc, where, rep, seen):
    s = spec.resolve(prop)
    if s.get("type") not in ("object", None) or "properties" not in s:
        if s.get("type") == "object" and not s.get("properties"):
            return  # an open object ({} responses)
        rep.err(f"{where}: proto message {desc.full_name}, schema is not an object with properties")
        return
    key = (spec.ref_name(prop) or id(s), desc.full_name)
    if key in seen:
        return
    seen.add(key)
    for pname, pschema in s["properties"].items():
        f = desc.fields_by_name.get(pname)
        if f is None and rep.legacy and (desc.full_name, pname) in THREE_X_FIELDS:
            rep.lacks.add(f"{desc.full_name}.{pname}")
            continue
        if f is None:
            rep.err(f"{where}.{pname}: no field {pname!r} in {desc.full_name} "
                    f"(fields: {', '.join(x.name for x in desc.fields)})")
            continue
        check_field_shape(spec, pschema, f, f"{where}.{pname}", rep, seen)
    for r in s.get("required", []):
        if r not in s["properties"]:
            rep.err(f"{where}: required {r!r} is not a property")


def check_conventions(spec, rep):
    def walk(node, path):
        if isinstance(node, dict):
            if node.get("additionalProperties") is False:
                rep.err(f"{path}: additionalProperties: false (typify -> deny_unknown_fields)")
            for k, v in node.items():
                walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}/{i}")

    walk(spec.doc, "#")
    if not str(spec.doc.get("openapi", "")).startswith("3.0."):
        rep.err(f"openapi: {spec.doc.get('openapi')!r} (progenitor/openapiv3 needs 3.0.x)")
    ids = set()
    for method, path, op in spec.operations():
        oid = op.get("operationId", "")
        where = f"{method.upper()} {path}"
        if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", oid):
            rep.err(f"{where}: operationId {oid!r} is not snake_case")
        if oid in ids:
            rep.err(f"{where}: duplicate operationId {oid}")
        ids.add(oid)
        rs = op.get("responses", {})
        if "default" in rs:
            rep.err(f"{where}: a `default` response (progenitor panics: response_types.len() <= 1)")
        for code in ("4XX", "5XX"):
            sch = spec.json_schema(rs.get(code, {})) if code in rs else None
            if sch is None or spec.ref_name(sch) != "MlflowError":
                rep.err(f"{where}: {code} response must be application/json MlflowError")
        ok = [c for c in rs if c.startswith("2")]
        if len(ok) != 1:
            rep.err(f"{where}: expected exactly one 2xx response, got {ok}")
    # response schemas: arrays default [], no unexpected `required`
    resp_schemas = set()

    def collect(node):
        node_name = spec.ref_name(node)
        s = spec.resolve(node)
        if node_name:
            if node_name in resp_schemas:
                return
            resp_schemas.add(node_name)
        if not isinstance(s, dict):
            return
        for req in s.get("required", []):
            if req not in ALLOWED_REQUIRED.get(node_name or "", set()):
                rep.err(f"response schema {node_name or '(inline)'}: property {req!r} is required")
        for pn, ps in (s.get("properties") or {}).items():
            r = spec.resolve(ps)
            if r.get("type") == "array" and r.get("default") != []:
                rep.err(f"response schema {node_name or '(inline)'}.{pn}: array without default: []")
            collect(ps)
        if "items" in s:
            collect(s["items"])
        if isinstance(s.get("additionalProperties"), dict):
            collect(s["additionalProperties"])
        for x in s.get("oneOf", []):
            collect(x)

    for method, path, op in spec.operations():
        for code, r in op.get("responses", {}).items():
            sch = spec.json_schema(r)
            if sch is not None:
                collect(sch)
            for ct, c in (spec.resolve(r).get("content") or {}).items():
                if ct == "application/octet-stream":
                    cs = c.get("schema", {})
                    if cs.get("type") != "string" or cs.get("format") != "binary":
                        rep.err(f"{method.upper()} {path}: octet-stream must be type string, format binary")


def static_check(spec, routes, rep):
    check_conventions(spec, rep)
    rep.legacy = ("post", "/api/2.0/mlflow/runs/outputs") not in routes
    mapped = 0
    for method, path, op in spec.operations():
        oid = op.get("operationId")
        where = f"{oid} ({method.upper()} {path})"
        if (method, path) in NO_PROTO:
            continue
        r = routes.get((method, path))
        if r is None and rep.legacy and oid in THREE_X_OPS:
            rep.lacks.add(f"operation {oid}")
            continue
        if r is None:
            rep.err(f"{where}: no RPC declares this method+path in the protos")
            continue
        mapped += 1
        rpc, inp, out, _mod = r
        seen = set()
        for p in op.get("parameters", []):
            p = spec.resolve(p)
            f = inp.fields_by_name.get(p["name"])
            if f is None:
                if p["in"] == "path" and "{" + p["name"] + "}" in path and not inp.fields:
                    continue  # DownloadArtifact/UploadArtifact: Flask path, empty message
                rep.err(f"{where}: parameter {p['name']!r} is not a field of {inp.full_name}")
                continue
            check_field_shape(spec, p.get("schema", {}), f, f"{oid}?{p['name']}", rep, seen)
            if method == "get" and f.message_type is not None and not is_map(f):
                rep.err(f"{where}: GET parameter {p['name']} is a message (cannot go in a query string)")
        rb = op.get("requestBody")
        if rb is not None:
            sch = spec.json_schema(rb)
            if sch is not None:
                check_message(spec, sch, inp, f"{oid}.request", rep, seen)
            if method == "get":
                rep.err(f"{where}: GET with a request body")
        elif method in ("post", "patch") and inp.fields and method != "put":
            rep.note(f"{where}: no request body although {inp.full_name} has fields")
        ok = [c for c in op.get("responses", {}) if c.startswith("2")]
        if ok:
            sch = spec.json_schema(op["responses"][ok[0]])
            if sch is not None:
                check_message(spec, sch, out, f"{oid}.response", rep, set())
    return mapped


# ---------------------------------------------------------------------------
# (b) live check
# ---------------------------------------------------------------------------
class Validator:
    """Validates JSON values against the OpenAPI 3.0 schema subset the document uses."""

    def __init__(self, spec):
        self.spec = spec
        self.extra = set()  # (schema, property) sent by the server but not declared

    def validate(self, value, schema, where, errors):
        name = self.spec.ref_name(schema)
        s = self.spec.resolve(schema)
        if "oneOf" in s:
            hits = 0
            for alt in s["oneOf"]:
                e = []
                self.validate(value, alt, where, e)
                hits += not e
            if hits != 1:
                errors.append(f"{where}: {value!r:.80} matches {hits} of oneOf")
            return
        t = s.get("type")
        py = {"object": dict, "array": list, "string": str, "boolean": bool}
        if t in py and not isinstance(value, py[t]):
            errors.append(f"{where}: expected {t}, got {type(value).__name__} {value!r:.80}")
            return
        if t == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(f"{where}: expected integer, got {value!r:.80}")
                return
            bits = {"int64": 63, "int32": 31}.get(s.get("format"))
            if bits and not -(2**bits) <= value < 2**bits:
                errors.append(f"{where}: {value} out of {s.get('format')} range")
        if t == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            errors.append(f"{where}: expected number, got {value!r:.80}")
            return
        if "enum" in s and value not in s["enum"]:
            errors.append(f"{where}: {value!r} not in enum {s['enum']}")
        if t == "object" or (t is None and isinstance(value, dict)):
            props = s.get("properties") or {}
            for r in s.get("required", []):
                if r not in value:
                    errors.append(f"{where}: missing required {r!r}")
            ap = s.get("additionalProperties")
            for k, v in value.items():
                if k in props:
                    self.validate(v, props[k], f"{where}.{k}", errors)
                elif isinstance(ap, dict):
                    self.validate(v, ap, f"{where}[{k!r}]", errors)
                elif ap is False:
                    errors.append(f"{where}: unexpected property {k!r}")
                elif props:
                    self.extra.add((name or where, k))
        if t == "array":
            for i, v in enumerate(value):
                self.validate(v, s.get("items", {}), f"{where}[{i}]", errors)


class Live:
    def __init__(self, spec, base, rep):
        import requests

        self.requests = requests
        self.s = requests.Session()
        self.spec, self.base, self.rep = spec, base.rstrip("/"), rep
        self.v = Validator(spec)
        self.ops = {op["operationId"]: (m, p, op) for m, p, op in spec.operations()}
        self.called = {}
        self.timings = []

    def call(self, oid, path=None, query=None, body=None, data=None, expect=200, raw=False):
        """Calls operation `oid`; validates the JSON answer against the declared schema."""
        method, tmpl, op = self.ops[oid]
        url = tmpl
        for k, v in (path or {}).items():
            url = url.replace("{" + k + "}", v)  # literal '/' for artifact paths
        kw = {"params": query or None, "timeout": 60}
        if body is not None:
            kw["json"] = body  # sets Content-Type: application/json
        if data is not None:
            kw["data"] = data
            kw["headers"] = {"Content-Type": "application/octet-stream"}
        t0 = time.monotonic()
        r = self.s.request(method.upper(), self.base + url, **kw)
        self.timings.append((oid, time.monotonic() - t0))
        self.called.setdefault(oid, []).append(r.status_code)
        where = f"{oid} {method.upper()} {url} -> {r.status_code}"
        if r.status_code != expect:
            self.rep.err(f"{where}: expected HTTP {expect}; body {r.text[:300]!r}")
            return None
        code = str(r.status_code)
        resp = op["responses"].get(code) or op["responses"].get(code[0] + "XX")
        if resp is None:
            self.rep.err(f"{where}: status not declared")
            return None
        content = self.spec.resolve(resp).get("content") or {}
        if raw or "application/json" not in content:
            if content and not any(ct in content for ct in ("application/octet-stream", "text/plain")):
                self.rep.err(f"{where}: undeclared body type")
            return r.content
        try:
            value = r.json()
        except ValueError:
            self.rep.err(f"{where}: not JSON: {r.text[:200]!r}")
            return None
        errors = []
        self.v.validate(value, content["application/json"]["schema"], oid, errors)
        for e in errors:
            self.rep.err(e)
        return value

    def missing_route(self, oid, path=None, query=None, body=None):
        """On 2.x: a 3.x-only route must answer 404/405 (HTML, not an MLflow error)."""
        method, tmpl, _ = self.ops[oid]
        url = tmpl
        for k, v in (path or {}).items():
            url = url.replace("{" + k + "}", v)
        r = self.s.request(method.upper(), self.base + url, params=query, json=body, timeout=30)
        self.called.setdefault(oid, []).append(r.status_code)
        if r.status_code not in (404, 405):
            self.rep.err(f"{oid}: expected a missing route on 2.x, got {r.status_code} {r.text[:200]!r}")


class HookSink(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 - http.server API
        n = int(self.headers.get("Content-Length") or 0)
        HookSink.received.append((dict(self.headers), self.rfile.read(n)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *a):
        pass


def live_check(spec, base, rep):
    L = Live(spec, base, rep)
    version = L.call("get_version").decode().strip()
    assert L.call("get_health").decode().strip() == "OK"
    v3 = not version.startswith(("1.", "2."))
    print(f"server {base}: MLflow {version}")
    sfx = uuid.uuid4().hex[:8]
    now = int(time.time() * 1000)

    # -- experiments --------------------------------------------------------
    exp_name = f"oas-check-{sfx}"
    exp_id = L.call("create_experiment", body={"name": exp_name, "tags": [{"key": "team", "value": "prov"}]})["experiment_id"]
    L.call("get_experiment", query={"experiment_id": exp_id})
    e = L.call("get_experiment_by_name", query={"experiment_name": exp_name})
    assert e["experiment"]["experiment_id"] == exp_id
    L.call("get_experiment_by_name", query={"experiment_name": f"nope-{sfx}"}, expect=404)
    L.call("create_experiment", body={"name": exp_name}, expect=400)

    # -- runs ---------------------------------------------------------------
    run = L.call("create_run", body={"experiment_id": exp_id, "run_name": "oas", "start_time": now,
                                     "tags": [{"key": "mlflow.source.name", "value": "check_openapi.py"}]})
    run_id = run["run"]["info"]["run_id"]
    art_root = run["run"]["info"]["artifact_uri"]
    L.call("log_batch", body={
        "run_id": run_id,
        "metrics": [{"key": "accuracy", "value": 0.97, "timestamp": now, "step": 0},
                    {"key": "loss", "value": 0.5, "timestamp": now, "step": 0},
                    {"key": "loss", "value": 0.3, "timestamp": now + 1, "step": 1},
                    {"key": "nanm", "value": "NaN", "timestamp": now, "step": 0}],
        "params": [{"key": "C", "value": "1.0"}, {"key": "max_iter", "value": "200"}],
        "tags": [{"key": "ario.a", "value": "1"}, {"key": "ario.tmp", "value": "x"}]})
    L.call("log_inputs", body={"run_id": run_id, "datasets": [{
        "tags": [{"key": "mlflow.data.context", "value": "training"}],
        "dataset": {"name": "iris", "digest": "2bf3ace3", "source_type": "local",
                    "source": json.dumps({"uri": "sklearn.datasets.load_iris"}),
                    "schema": json.dumps({"mlflow_tensorspec": {"features": "[]"}}),
                    "profile": json.dumps({"features_shape": [150, 4]})}}]})
    L.call("set_run_tag", body={"run_id": run_id, "key": "ario.training_tx", "value": "TX123"})
    L.call("delete_run_tag", body={"run_id": run_id, "key": "ario.tmp"})
    L.call("delete_run_tag", body={"run_id": run_id, "key": "ario.tmp"}, expect=404)
    L.call("get_run", query={"run_id": "0" * 32}, expect=404)

    # -- artifacts (2.x layout under the run root + ario/ files) -----------
    assert art_root.startswith("mlflow-artifacts:/"), art_root
    run_rel = art_root[len("mlflow-artifacts:/"):].lstrip("/")
    payload = b'{"a": 1}\n'
    L.call("upload_artifact", path={"artifact_path": f"{run_rel}/ario/payload.json"}, data=payload)
    L.call("upload_artifact", path={"artifact_path": f"{run_rel}/ario/empty.txt"}, data=b"")
    mlmodel = b"artifact_path: model\nflavors:\n  python_function: {}\n"
    L.call("upload_artifact", path={"artifact_path": f"{run_rel}/model/MLmodel"}, data=mlmodel)
    got = L.call("download_artifact", path={"artifact_path": f"{run_rel}/ario/payload.json"}, raw=True)
    if got != payload:
        rep.err(f"download_artifact: bytes differ: {got!r}")
    # a missing file: 404 RESOURCE_DOES_NOT_EXIST on 3.x, 500 INTERNAL_ERROR on 2.x
    L.call("download_artifact", path={"artifact_path": f"{run_rel}/ario/missing.json"}, expect=404 if v3 else 500)
    lst = L.call("list_run_artifacts", query={"run_id": run_id, "path": "ario"})
    if sorted(f["path"] for f in lst.get("files", [])) != ["ario/empty.txt", "ario/payload.json"]:
        rep.err(f"list_run_artifacts: unexpected {lst}")
    L.call("list_run_artifacts", query={"run_id": run_id})
    plst = L.call("list_proxied_artifacts", query={"path": f"{run_rel}/ario"})
    if sorted(f["path"] for f in plst.get("files", [])) != ["empty.txt", "payload.json"]:
        rep.err(f"list_proxied_artifacts: unexpected {plst}")
    L.call("list_proxied_artifacts", query={"path": f"{run_rel}/nothing-here"})
    model_json = json.dumps({"run_id": run_id, "artifact_path": "model", "utc_time_created": "2026-11-22 10:00:00.000000",
                             "flavors": {"python_function": {"loader_module": "mlflow.sklearn"}}})
    L.call("log_model", body={"run_id": run_id, "model_json": model_json})

    # -- logged models (3.x) ------------------------------------------------
    model_id = None
    if v3:
        lm = L.call("create_logged_model", body={"experiment_id": exp_id, "name": "model", "source_run_id": run_id,
                                                 "model_type": "sklearn",
                                                 "params": [{"key": "C", "value": "1.0"}],
                                                 "tags": [{"key": "origin", "value": "rest"}]})
        model_id = lm["model"]["info"]["model_id"]
        lm_root = lm["model"]["info"]["artifact_uri"][len("mlflow-artifacts:/"):].lstrip("/")
        L.call("upload_artifact", path={"artifact_path": f"{lm_root}/MLmodel"}, data=mlmodel)
        L.call("finalize_logged_model", path={"model_id": model_id}, body={"model_id": model_id, "status": "LOGGED_MODEL_READY"})
        L.call("get_logged_model", path={"model_id": model_id})
        L.call("get_logged_model", path={"model_id": "m-" + "0" * 32}, expect=404)
        s = L.call("search_logged_models", body={"experiment_ids": [exp_id], "filter": f"source_run_id = '{run_id}'", "max_results": 10})
        if [m["info"]["model_id"] for m in s.get("models", [])] != [model_id]:
            rep.err(f"search_logged_models: {s}")
        L.call("log_outputs", body={"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]})
    else:
        L.missing_route("create_logged_model", body={"experiment_id": exp_id})
        L.missing_route("get_logged_model", path={"model_id": "m-0"})
        L.missing_route("finalize_logged_model", path={"model_id": "m-0"}, body={"model_id": "m-0", "status": "LOGGED_MODEL_READY"})
        L.missing_route("search_logged_models", body={"experiment_ids": [exp_id]})
        L.missing_route("log_outputs", body={"run_id": run_id, "models": []})
    L.call("update_run", body={"run_id": run_id, "status": "FINISHED", "end_time": now + 5000})
    got = L.call("get_run", query={"run_id": run_id})
    r = got["run"]
    if v3 and [o.get("model_id") for o in r.get("outputs", {}).get("model_outputs", [])] != [model_id]:
        rep.err(f"get_run: outputs {r.get('outputs')}")
    if not r.get("inputs", {}).get("dataset_inputs"):
        rep.err("get_run: no dataset_inputs")
    if not any(m["key"] == "nanm" and m["value"] == "NaN" for m in r["data"].get("metrics", [])):
        rep.err("get_run: NaN metric did not come back as the string 'NaN'")
    found = L.call("search_runs", body={"experiment_ids": [exp_id], "filter": "tags.`ario.training_tx` = 'TX123'",
                                        "max_results": 5, "order_by": ["attributes.start_time DESC"]})
    if [x["info"]["run_id"] for x in found.get("runs", [])] != [run_id]:
        rep.err(f"search_runs: {found}")

    # -- registry -----------------------------------------------------------
    rm = f"oas-model-{sfx}"
    L.call("create_registered_model", body={"name": rm, "description": "d", "tags": [{"key": "team", "value": "prov"}]})
    L.call("set_registered_model_tag", body={"name": rm, "key": "ario.k", "value": "v"})
    L.call("delete_registered_model_tag", body={"name": rm, "key": "ario.k"})
    src1 = f"models:/{model_id}" if v3 else f"{art_root}/model"
    mv_body = {"name": rm, "source": src1, "run_id": run_id, "description": "first",
               "tags": [{"key": "ario.registration_tx", "value": "TXABC"}]}
    if v3:
        mv_body["model_id"] = model_id
    v1 = L.call("create_model_version", body=mv_body)["model_version"]["version"]
    v2 = L.call("create_model_version", body={"name": rm, "source": f"runs:/{run_id}/model", "run_id": run_id})["model_version"]["version"]
    L.call("get_model_version", query={"name": rm, "version": v1})
    L.call("get_model_version", query={"name": rm, "version": "99"}, expect=404)
    L.call("set_model_version_tag", body={"name": rm, "version": v1, "key": "ario.promotion_tx", "value": "TXP"})
    L.call("set_model_version_tag", body={"name": rm, "version": v1, "key": "ario.tmp", "value": "x"})
    L.call("delete_model_version_tag", body={"name": rm, "version": v1, "key": "ario.tmp"})
    L.call("transition_model_version_stage", body={"name": rm, "version": v1, "stage": "Staging", "archive_existing_versions": False})
    L.call("set_registered_model_alias", body={"name": rm, "alias": "champion", "version": v1})
    L.call("set_registered_model_alias", body={"name": rm, "alias": "challenger", "version": v2})
    a = L.call("get_model_version_by_alias", query={"name": rm, "alias": "champion"})
    if a["model_version"]["version"] != v1:
        rep.err(f"get_model_version_by_alias: {a}")
    L.call("get_model_version_by_alias", query={"name": rm, "alias": "nope"}, expect=400)
    L.call("delete_registered_model_alias", body={"name": rm, "alias": "challenger"})
    lv = L.call("get_latest_versions", body={"name": rm, "stages": ["Staging"]})
    if [m["version"] for m in lv.get("model_versions", [])] != [v1]:
        rep.err(f"get_latest_versions: {lv}")
    du = L.call("get_model_version_download_uri", query={"name": rm, "version": v1})
    print(f"         download uri of v1: {du.get('artifact_uri')}")
    sv = L.call("search_model_versions", query={"filter": f"run_id = '{run_id}'", "max_results": 10})
    if sorted(m["version"] for m in sv.get("model_versions", [])) != sorted([v1, v2]):
        rep.err(f"search_model_versions: {sv}")
    L.call("get_registered_model", query={"name": rm})
    L.call("get_registered_model", query={"name": f"nope-{sfx}"}, expect=404)
    srm = L.call("search_registered_models", query={"filter": f"name = '{rm}'", "max_results": 5})
    if [m["name"] for m in srm.get("registered_models", [])] != [rm]:
        rep.err(f"search_registered_models: {srm}")

    # -- traces -------------------------------------------------------------
    if v3:
        tid = "tr-" + uuid.uuid4().hex
        body = {"trace": {"trace_info": {
            "trace_id": tid,
            "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}},
            "request_time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "execution_duration": "0.005s", "state": "OK",
            "request_preview": '{"x": [5.1]}', "response_preview": "[0]",
            "trace_metadata": {"mlflow.trace_schema.version": "3"},
            "tags": {"mlflow.traceName": "predict", "ario.decision_id": "dec-1"}}}}
        r = L.s.post(f"{L.base}/api/3.0/mlflow/traces", json=body, timeout=30)  # seeding (StartTraceV3, not in the document)
        if r.status_code != 200:
            rep.err(f"seeding a v3 trace failed: {r.status_code} {r.text[:300]}")
        L.call("get_trace_info_v3", path={"trace_id": tid})
        L.call("get_trace_info_v3", path={"trace_id": "tr-" + "0" * 32}, expect=404)
        st = L.call("search_traces_v3", body={"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}],
                                              "filter": "tags.`ario.decision_id` = 'dec-1'", "max_results": 10,
                                              "order_by": ["timestamp_ms DESC"]})
        if [t["trace_id"] for t in st.get("traces", [])] != [tid]:
            rep.err(f"search_traces_v3: {st}")
    else:
        r = L.s.post(f"{L.base}/api/2.0/mlflow/traces", timeout=30, json={
            "experiment_id": exp_id, "timestamp_ms": now, "request_metadata": [],
            "tags": [{"key": "mlflow.traceName", "value": "predict"}, {"key": "ario.decision_id", "value": "dec-1"}]})
        tid = r.json()["trace_info"]["request_id"]
        L.missing_route("get_trace_info_v3", path={"trace_id": tid})
        L.missing_route("search_traces_v3", body={"locations": []})
    L.call("set_trace_tag", path={"request_id": tid}, body={"key": "ario.tx", "value": "TX-TRACE"})
    L.call("set_trace_tag", path={"request_id": tid}, body={"key": "ario.tmp", "value": "x"})
    L.call("delete_trace_tag", path={"request_id": tid}, body={"key": "ario.tmp"})
    ti = L.call("get_trace_info_v2", path={"request_id": tid})
    tags = {t["key"]: t.get("value") for t in ti["trace_info"].get("tags", [])}
    if tags.get("ario.tx") != "TX-TRACE" or "ario.tmp" in tags:
        rep.err(f"get_trace_info_v2: tags {tags}")
    s2 = L.call("search_traces_v2", query={"experiment_ids": [exp_id], "filter": "tags.`ario.tx` = 'TX-TRACE'", "max_results": 10})
    if [t["request_id"] for t in s2.get("traces", [])] != [tid]:
        rep.err(f"search_traces_v2: {s2}")

    # -- webhooks (3.x) -----------------------------------------------------
    # The server only accepts https URLs (MLFLOW_WEBHOOK_ALLOWED_SCHEMES) that
    # resolve to public IPs unless MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true (the
    # test harness sets it). A plain-http loopback sink is used when the server
    # also allows http; otherwise the hook points at a closed loopback port.
    if v3:
        sink = HTTPServer(("127.0.0.1", 0), HookSink)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        closed = HTTPServer(("127.0.0.1", 0), HookSink)
        closed_port = closed.server_address[1]
        closed.server_close()
        hook = {"name": f"oas-hook-{sfx}", "description": "check_openapi",
                "url": f"http://127.0.0.1:{sink.server_address[1]}/hook",
                "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}], "secret": "s3cret", "status": "ACTIVE"}
        r = L.s.post(f"{L.base}/api/2.0/mlflow/webhooks", json=hook, timeout=30)
        wh = None
        if r.status_code == 400 and "scheme" in r.text:
            hook["url"] = f"https://127.0.0.1:{closed_port}/hook"
        elif r.status_code == 200:
            L.s.delete(f"{L.base}/api/2.0/mlflow/webhooks/{r.json()['webhook']['webhook_id']}", timeout=30)
        wh = L.call("create_webhook", body=hook)
        if wh is None and "127.0.0.1" in hook["url"]:
            rep.note("start the server with MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true for loopback webhooks")
        if wh is not None:
            hid = wh["webhook"]["webhook_id"]
            lw = L.call("list_webhooks", query={"max_results": 100})
            if hid not in [w["webhook_id"] for w in lw.get("webhooks", [])]:
                rep.err(f"list_webhooks: {hid} missing")
            tr = L.call("test_webhook", path={"webhook_id": hid}, body={"event": {"entity": "MODEL_VERSION", "action": "CREATED"}})
            res = (tr or {}).get("result", {})
            print(f"         test_webhook {hook['url']}: success={res.get('success')} status={res.get('response_status')} "
                  f"delivered={len(HookSink.received)} error={res.get('error_message')!r:.120}")
            L.call("delete_webhook", path={"webhook_id": hid})
            L.call("delete_webhook", path={"webhook_id": hid}, expect=404)
        sink.shutdown()
    else:
        for oid, kw in (("create_webhook", {"body": {"name": "x", "url": "http://x", "events": []}}),
                        ("list_webhooks", {}), ("delete_webhook", {"path": {"webhook_id": "x"}}),
                        ("test_webhook", {"path": {"webhook_id": "x"}, "body": {}})):
            L.missing_route(oid, **kw)

    # -- coverage -----------------------------------------------------------
    for oid in L.ops:
        if oid not in L.called:
            rep.err(f"{oid}: not exercised by the live check")
    for schema, prop in sorted(L.v.extra):
        rep.note(f"server sent undeclared property {schema}.{prop}")
    slow = sorted(L.timings, key=lambda x: -x[1])[:3]
    print(f"live: {len(L.called)}/{len(L.ops)} operations called, {sum(len(v) for v in L.called.values())} requests; "
          f"slowest {', '.join(f'{o} {t*1000:.0f} ms' for o, t in slow)}")
    return version


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=DEFAULT_SPEC)
    ap.add_argument("--protos-root", help="directory holding mlflow/protos/*_pb2.py (default: the installed mlflow)")
    ap.add_argument("--server", help="tracking server URL for the live check (default: $MLFLOW_TRACKING_URI if --live)")
    ap.add_argument("--live", action="store_true", help="run the live check against $MLFLOW_TRACKING_URI")
    ap.add_argument("--unused", action="store_true", help="also list proto request fields the document omits")
    args = ap.parse_args()
    rep = Report()
    spec = Spec(args.spec)
    routes, failed, where = load_routes(args.protos_root)
    for f in failed:
        rep.note(f"could not import {f}")
    n_ops = sum(1 for _ in spec.operations())
    mapped = static_check(spec, routes, rep)
    print(f"static: {n_ops} operations, {mapped} mapped to RPCs in {where} ({len(routes)} routes)")
    if rep.legacy:
        print("static: 2.x descriptors; they lack (3.x only): " + ", ".join(sorted(rep.lacks)))
    if args.unused:
        for method, path, op in spec.operations():
            r = routes.get((method, path))
            if not r:
                continue
            declared = {p["name"] for p in op.get("parameters", [])}
            sch = spec.json_schema(op["requestBody"]) if "requestBody" in op else None
            if sch:
                declared |= set((spec.resolve(sch).get("properties") or {}).keys())
            omitted = [f.name for f in r[1].fields if f.name not in declared]
            if omitted:
                print(f"unused   {op['operationId']}: {', '.join(omitted)}")
    server = args.server or (os.environ.get("MLFLOW_TRACKING_URI") if args.live else None)
    if server:
        live_check(spec, server, rep)
    print(f"{len(rep.errors)} mismatch(es), {len(rep.notes)} note(s)")
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main())
