"""A tiny custom-runtime bootstrap for the emulator's tests (stdlib only).

GET next → run the handler → POST response/error, on one keep-alive connection. Events with a
"probe" key exercise the Runtime API itself (see tests/local/test_runtime_api.py); anything else goes to
the handler `_HANDLER` = `file.function`, the function of `{LAMBDA_TASK_ROOT}/{file}.py`.
"""

import http.client
import importlib.util
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "/2018-06-01/runtime"
conn = http.client.HTTPConnection(API)
seen: dict[str, int] = {}  # statuses of the probes' extra calls, reported by the "report" probe


def call(method, path, body=None, headers=None):
    conn.request(method, BASE + path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, dict(r.getheaders()), r.read()


def load_handler():
    name, _, func = os.environ["_HANDLER"].rpartition(".")
    marker = os.environ.get("INIT_FAIL_MARKER")
    if marker and os.path.exists(marker):
        os.remove(marker)
        with open(marker + ".pid", "w") as f:
            f.write(str(os.getpid()))
        name = "missing-" + name
    path = os.path.join(os.environ.get("LAMBDA_TASK_ROOT", "."), name + ".py")
    if not os.path.exists(path):
        body = json.dumps({"errorMessage": f"no handler file {path}", "errorType": "Runtime.NoSuchHandler"})
        status, _, _ = call("POST", "/init/error", body, {"Lambda-Runtime-Function-Error-Type": "Runtime.NoSuchHandler"})
        print(f"init error posted: {status}", flush=True)
        if os.environ.get("INIT_ERROR_LINGER"):
            time.sleep(60)  # the emulator must kill us
        sys.exit(1)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, func)


def probe(event, rid, headers):
    kind = event["probe"]
    if kind == "headers":
        env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "_HANDLER", "LAMBDA_", "MY_"))}
        return json.dumps({"headers": headers, "env": env, "pid": os.getpid(), "has_path": "PATH" in os.environ})
    if kind == "pid":
        return json.dumps({"pid": os.getpid(), "n": event.get("n")})
    if kind == "unknown":
        seen["unknown"] = call("POST", "/invocation/not-a-request-id/response", b"{}")[0]
        return json.dumps({"unknown": seen["unknown"]})
    if kind == "twice":
        call("POST", f"/invocation/{rid}/response", b'"first"')
        seen["twice"] = call("POST", f"/invocation/{rid}/response", b'"second"')[0]
        seen["twice_error"] = call("POST", f"/invocation/{rid}/error", b'{"errorMessage":"x","errorType":"X"}')[0]
        return None
    if kind == "size":
        status, _, body = call("POST", f"/invocation/{rid}/response", b"x" * event["n"])
        seen["size"] = status
        seen["size_after"] = call("POST", f"/invocation/{rid}/response", b'"late"')[0]
        return None
    if kind == "report":
        return json.dumps(seen)
    if kind == "error":
        body = json.dumps({"errorMessage": "it broke", "errorType": "MyError", "stackTrace": ["line 1"]})
        seen["error"] = call("POST", f"/invocation/{rid}/error", body, {"Lambda-Runtime-Function-Error-Type": "MyError"})[0]
        return None
    if kind == "crash":
        print("about to crash", flush=True)
        os._exit(event.get("code", 3))
    if kind == "sleep":
        time.sleep(event["s"])
        return json.dumps({"slept": event["s"], "pid": os.getpid()})
    if kind == "answer_then_exit":  # a one-shot runtime: answers, then ends before asking again
        call("POST", f"/invocation/{rid}/response", json.dumps({"pid": os.getpid()}).encode())
        time.sleep(event.get("linger", 0))
        os._exit(0)
    if kind == "report_timeout":  # a runtime that timed its own handler out (as our bootstrap does)
        body = json.dumps({"errorMessage": "handler killed at its deadline", "errorType": "Runtime.Timeout"})
        call("POST", f"/invocation/{rid}/error", body, {"Lambda-Runtime-Function-Error-Type": "Runtime.Timeout"})
        return None
    if kind == "log":
        print("to stdout", flush=True)
        print("to stderr", file=sys.stderr, flush=True)
        return json.dumps({"logged": True})
    raise ValueError(f"unknown probe {kind}")


def main():
    handler = load_handler()
    while True:
        status, headers, body = call("GET", "/invocation/next")
        if status != 200:
            continue
        rid = headers["Lambda-Runtime-Aws-Request-Id"]
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id", "")  # as Lambda's runtimes do
        os.environ["TEST_RUNTIME_REQUEST_ID"] = rid  # this bootstrap's own, for the handlers' echo
        try:
            event = json.loads(body)
            if isinstance(event, dict) and "probe" in event:
                out = probe(event, rid, headers)
            else:
                out = handler(event)
                out = out if isinstance(out, str) else json.dumps(out)
        except Exception as e:
            err = {"errorMessage": str(e), "errorType": type(e).__name__, "stackTrace": traceback.format_exc().splitlines()}
            call("POST", f"/invocation/{rid}/error", json.dumps(err), {"Lambda-Runtime-Function-Error-Type": type(e).__name__})
            continue
        if out is not None:
            call("POST", f"/invocation/{rid}/response", out.encode())


main()
