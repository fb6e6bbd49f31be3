"""Function URLs of the shell functions on one machine (`lambdasmith serve shell`, BASE+2; served by
`lambdasmith.local.endpoints.ShellEndpoint`).

Each shell function runs in its own execution environment: a `RuntimeEmulator`
(lambdasmith.local.runtime_api) that starts the function's custom-runtime bootstrap on its first
invocation. An HTTP request becomes a payload 2.0 event and the function's stdout becomes the
response, by the Function URL rules of the shell runtime:

- stdout is JSON with `statusCode` → that response (`statusCode`, `headers`, `body`, `cookies`,
  `isBase64Encoded`);
- other JSON → 200 `application/json` with that JSON as the body;
- anything else → 200 `application/json` with the text as a JSON string;
- a handler error (or a timeout, a crash, a failed init) → 502.

Local convention: on AWS each Function URL has a host of its own
(`https://{url-id}.lambda-url.{region}.on.aws/…`); here they share one port and the first path
segment names the function: `http://127.0.0.1:8002/{function}/rest/of/path?q` is the request
`/rest/of/path?q` of `{function}` (its event's `rawPath` is `/rest/of/path`). An unknown function
is a 404.

The shell functions are declared in a JSON file named by LAMBDASMITH_SHELL_FUNCTIONS (default: the
examples under lambdasmith/shell/examples):

    {"functions": {"NAME": {"handler": "file.function", "task_root": "DIR", "env": {…},
                            "timeout_s": 10, "memory_mb": 128, "bootstrap": ["ARGV", …]}}}

`task_root`, and `bootstrap` entries that contain a `/`, are relative to the file's directory;
`bootstrap` defaults to the project's runtime, the bash bootstrap lambdasmith/shell/runtime/bootstrap
(run by bash, as provided.al2023 runs it); `"bootstrap": "python"` picks the Python one beside it
(bootstrap.py, run by this Python). The same functions are served by the Invoke API (BASE+3) through `invoke_runners`. Each
server worker process has its own environment per function, so a function's invocations run one
at a time per worker process (AWS would start more environments).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from lambdasmith.local.apigw import HttpResult, v2_result
from lambdasmith.local.invocation import Outcome
from lambdasmith.local.runtime_api import Invocation, RuntimeEmulator
from lambdasmith.shell.service import EXAMPLES_DIR

if TYPE_CHECKING:
    from lambdasmith.local.invoke import Runner
    from lambdasmith.manifest import Function

SHELL_FUNCTIONS_ENV = "LAMBDASMITH_SHELL_FUNCTIONS"
PACKAGE = Path(__file__).resolve().parents[1]  # lambdasmith/
EXAMPLES = PACKAGE / EXAMPLES_DIR
HELPERS = PACKAGE / "shell" / "runtime" / "helpers.sh"  # what a bash handler sources (shipped in the function zip)
BOOTSTRAP = PACKAGE / "shell" / "runtime" / "bootstrap"  # bash: the default, what the layer ships
PY_BOOTSTRAP = PACKAGE / "shell" / "runtime" / "bootstrap.py"  # the Python one, an option
TAIL_BYTES = 4096


def default_bootstrap() -> list[str]:
    return ["bash", str(BOOTSTRAP)]


def python_bootstrap() -> list[str]:
    return [sys.executable, str(PY_BOOTSTRAP)]


def default_config() -> dict[str, Any]:
    """The shell functions of the manifest (lambdasmith/shell/service.py), as a configuration file
    would declare them."""
    from lambdasmith.shell.service import SERVICE

    task_root = str(EXAMPLES)

    def spec(fn: Function) -> dict[str, Any]:
        out: dict[str, Any] = {"handler": fn.handler, "task_root": task_root, "env": dict(fn.local_env)}
        if fn.local_timeout_s is not None:
            out["timeout_s"] = fn.local_timeout_s
        return out

    return {"functions": {fn.name: spec(fn) for fn in SERVICE.functions}}


@dataclass
class ShellFunction:
    name: str
    handler: str
    task_root: str
    bootstrap: list[str]
    env: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 10.0
    memory_mb: int = 128


def parse_config(config: Any, base_dir: str) -> dict[str, ShellFunction]:
    """The functions of a configuration (ValueError when it is malformed)."""
    functions = config.get("functions") if isinstance(config, dict) else None
    if not isinstance(functions, dict):
        raise ValueError('shell functions: expected {"functions": {NAME: {...}}}')
    out: dict[str, ShellFunction] = {}
    for name, spec in functions.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("handler"), str) or "/" in name or not name:
            raise ValueError(f"shell function {name!r}: needs a name without '/' and a handler")
        bootstrap = spec.get("bootstrap") or default_bootstrap()
        if bootstrap == "python":
            bootstrap = python_bootstrap()
        env = spec.get("env") or {}
        if not (isinstance(bootstrap, list) and all(isinstance(a, str) for a in bootstrap) and isinstance(env, dict)):
            raise ValueError(f"shell function {name!r}: bootstrap is a list of strings, env an object")
        try:
            timeout_s, memory_mb = float(spec.get("timeout_s", 10)), int(spec.get("memory_mb", 128))
        except (TypeError, ValueError):
            raise ValueError(f"shell function {name!r}: timeout_s and memory_mb are numbers") from None
        out[name] = ShellFunction(
            name, spec["handler"], os.path.join(base_dir, str(spec.get("task_root") or ".")),
            [os.path.join(base_dir, a) if "/" in a else a for a in bootstrap],
            {str(k): str(v) for k, v in env.items()}, timeout_s, memory_mb,
        )  # fmt: skip
    return out


def load_config(env: Mapping[str, str] = os.environ) -> dict[str, ShellFunction]:
    path = env.get(SHELL_FUNCTIONS_ENV)
    if not path:
        return parse_config(default_config(), str(PACKAGE))
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{SHELL_FUNCTIONS_ENV}: cannot read {path}: {e}") from None
    return parse_config(config, os.path.dirname(os.path.abspath(path)))


class ShellFunctions:
    """The configured functions, each with its execution environment (made on first use)."""

    def __init__(self, functions: dict[str, ShellFunction]):
        self.functions = functions
        self._emulators: dict[str, RuntimeEmulator] = {}
        self._lock = threading.Lock()
        self._closed = False

    def emulator(self, name: str) -> RuntimeEmulator | None:
        fn = self.functions.get(name)
        if fn is None:
            return None
        with self._lock:
            if self._closed:
                raise RuntimeError("the shell functions are stopped")
            emulator = self._emulators.get(name)
            if emulator is None:
                emulator = RuntimeEmulator(fn.name, fn.bootstrap, fn.handler, fn.task_root, fn.env,
                                           fn.timeout_s, fn.memory_mb)  # fmt: skip
                self._emulators[name] = emulator
            return emulator

    def close(self) -> None:
        with self._lock:
            self._closed = True
            emulators, self._emulators = list(self._emulators.values()), {}
        for emulator in emulators:
            emulator.close()


_shared: ShellFunctions | None = None
_shared_lock = threading.Lock()


def shell_functions() -> ShellFunctions:
    """This process's shell functions (read from the configuration once), shared by the
    Function URL server and the Invoke API; their bootstraps are stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ShellFunctions(load_config())
            atexit.register(close_shell_functions)
        return _shared


def close_shell_functions() -> None:
    global _shared
    with _shared_lock:
        shared, _shared = _shared, None
    if shared is not None:
        shared.close()


# ---------------------------------------------------------------------------- results


def http_result(invocation: Invocation) -> HttpResult:
    """The Function URL response for one invocation of a shell function."""
    if not invocation.ok:
        body = json.dumps({"message": "Internal Server Error"}).encode()
        return HttpResult(502, [("Content-Type", "application/json")], body)
    text = invocation.payload.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return HttpResult(200, [("Content-Type", "application/json")], json.dumps(text).encode())
    if isinstance(parsed, dict) and "statusCode" in parsed:
        return v2_result(parsed)
    return HttpResult(200, [("Content-Type", "application/json")], text.strip().encode())


def not_found(name: str, known: list[str]) -> HttpResult:
    body = {"message": f"No shell function {name!r} (the first path segment names the function)", "functions": known}
    return HttpResult(404, [("Content-Type", "application/json")], json.dumps(body).encode())


# ---------------------------------------------------------------------------- the Invoke API's hook


def invoke_runners(functions: ShellFunctions | None = None) -> dict[str, Runner]:
    """For the Invoke API: each shell function as `run(payload, request_id, client_context_json,
    qualifier)` (lambdasmith.local.invoke.Runner)."""
    registry = functions or shell_functions()

    def runner(name: str) -> Runner:
        def run(payload: bytes, request_id: str, client_context: str | None, qualifier: str | None) -> Outcome:
            emulator = registry.emulator(name)
            assert emulator is not None
            inv = emulator.invoke(payload, client_context=client_context, request_id=request_id, qualifier=qualifier)
            return Outcome(
                request_id, inv.payload, None if inv.ok else "Unhandled", "" if inv.ok else inv.error_message,
                log_tail=inv.logs.encode("utf-8", "replace")[-TAIL_BYTES:], init_ms=inv.init_duration_ms,
                duration_ms=inv.duration_ms,
            )  # fmt: skip

        return run

    return {name: runner(name) for name in registry.functions}
