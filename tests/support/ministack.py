"""ministack (PyPI `ministack`), a local AWS emulator, run on loopback for the emulator deploy test.

ministack pins botocore exactly, so it never enters the project's lock: it lives in its own venv,
`.cache/ministack-venv`, made once with `python -m venv` and pip (MINISTACK_REQUIREMENTS, pinned)
and re-used while its marker file names the same requirements. `aws-sam-translator` is ministack's
optional dependency for `Transform: AWS::Serverless-2016-10-31` (its `full` extra, which would also
pull docker, duckdb, postgres and mysql drivers, none of which this test uses).

What we learned from its source (ministack/app.py, core/lambda_runtime.py, services/lambda_svc.py)
and set accordingly when starting it:

- The gateway binds BIND_HOST (default 0.0.0.0) on GATEWAY_PORT: 127.0.0.1 and a free port here.
- At start-up it also opens an IoT MQTT mTLS listener on 0.0.0.0:8883 (IOT_MTLS_ENABLED=0 turns it
  off) and, for restored Transfer servers, an SFTP listener (SFTP_ENABLED=0); both off.
- AUTH=true turns on SigV4 verification and IAM policy evaluation for IAM users' and STS sessions'
  keys. Each Lambda function runs with an STS session of its execution role, whose policies are
  enforced on its own calls to DynamoDB, SQS, SSM... The root key (the AWS_ACCESS_KEY_ID ministack
  runs with, used here for the deploys) is allowed everything and its signature is not checked.
- Lambda (LAMBDA_EXECUTOR=local, no Docker): python* functions run in a warm worker subprocess of
  ministack's own interpreter (sys.executable, so Python 3.11 here whatever `Runtime` says), with
  the code zip extracted to a temp dir and layers on sys.path; provided.* functions run
  `<code dir>/bootstrap` as a subprocess against an in-process Runtime API on 127.0.0.1 — layers
  are not extracted to /opt for them, so a bootstrap shipped in a layer is not found.
- The emulator writes a PID file under TMPDIR and S3 data under S3_DATA_DIR; both go to a temp dir.
- It is started in its own session and stopped by signalling that whole process group, so the
  Lambda workers it forked go with it.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from tests.support.aws_servers import REPO, ServerFailed, ServerUnavailable, _parent_death_signal, file_tail, free_port

MINISTACK_REQUIREMENTS = ("ministack==1.5.33", "aws-sam-translator==1.115.0")
VENV = REPO / ".cache" / "ministack-venv"
MARKER = VENV / ".lambdasmith-installed"
ACCESS_KEY_ID = "LSIAMINISTACKROOT"  # ministack's root key: the one it is started with
SECRET_ACCESS_KEY = "ministack-root-secret"
REGION = "us-east-1"


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv(timeout: float = 600.0) -> Path:
    """The venv's python, creating the venv and installing ministack first when needed (under a lock,
    so two test runs never build it at once)."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / "ministack-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_venv(timeout)


def _ensure_venv(timeout: float) -> Path:
    want = "\n".join(MINISTACK_REQUIREMENTS) + "\n"
    if MARKER.is_file() and MARKER.read_text(encoding="utf-8") == want and venv_python().is_file():
        return venv_python()
    if MARKER.exists():
        MARKER.unlink()
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True,
                       capture_output=True, timeout=120)
        subprocess.run([str(venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        *MINISTACK_REQUIREMENTS], check=True, capture_output=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = ""
        if isinstance(exc, subprocess.CalledProcessError):
            detail = (exc.stderr or b"").decode("utf-8", "replace")[-2000:]
        raise ServerUnavailable(
            f"could not install {' '.join(MINISTACK_REQUIREMENTS)} into {VENV}: {exc}\n{detail}") from exc
    MARKER.write_text(want, encoding="utf-8")
    return venv_python()


def _ready(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/_ministack/ready", timeout=2) as response:
            return response.status == 200 and json.loads(response.read()).get("status") == "completed"
    except urllib.error.HTTPError:
        return False  # 503 until its ready.d scripts (none) have run


class Ministack:
    """One ministack process on 127.0.0.1; `.endpoint` is its URL once started."""

    def __init__(self) -> None:
        self.python = ensure_venv()
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        self._log: IO[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def endpoint(self) -> str:
        if self.port is None or self.proc is None:
            raise RuntimeError("ministack is not running")
        return f"http://127.0.0.1:{self.port}"

    def environment(self, port: int, tmp: str) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update({
            "GATEWAY_PORT": str(port),
            "BIND_HOST": "127.0.0.1",
            "MINISTACK_HOST": "localhost",
            "MINISTACK_REGION": REGION,
            "AUTH": "true",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "IOT_MTLS_ENABLED": "0",
            "SFTP_ENABLED": "0",
            "LAMBDA_EXECUTOR": "local",
            "DOCKER_HOST": "unix://" + os.path.join(tmp, "no-docker.sock"),  # never a real daemon
            "TMPDIR": tmp,
            "S3_DATA_DIR": os.path.join(tmp, "s3"),
            "STATE_DIR": os.path.join(tmp, "state"),
            "LOG_LEVEL": "INFO",
            # Async retries of a failed event: 1 s then 2 s (AWS waits about a minute, then two).
            "LAMBDA_ASYNC_RETRY_BASE_SECONDS": "1",
            "LAMBDA_ASYNC_RETRY_MAX_SECONDS": "2",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        return env

    def start(self, timeout: float = 60.0) -> "Ministack":
        if self.proc is not None:
            return self
        began = time.monotonic()
        self._tmp = tempfile.TemporaryDirectory(prefix="lambdasmith-ministack-")
        self.port = free_port()
        self._log = tempfile.TemporaryFile(prefix="lambdasmith-ministack-log-")
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "ministack"],
            env=self.environment(self.port, self._tmp.name),
            cwd=self._tmp.name,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends every child with it
            preexec_fn=_parent_death_signal(),
        )
        endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            code = self.proc.poll()
            if code is not None:
                tail = self.log_tail()
                self.stop()
                raise ServerFailed(f"ministack exited with status {code}:\n{tail}", exited=True)
            try:
                if _ready(endpoint):
                    break
                last = "answered, not ready"
            except (OSError, ValueError) as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise ServerFailed(f"ministack not ready on {endpoint} in {timeout:.0f}s ({last}):\n{tail}",
                                   exited=False)
            time.sleep(0.1)
        self.startup_seconds = time.monotonic() - began
        return self

    def log_tail(self, limit: int = 6000) -> str:
        return file_tail(self._log, limit)

    def listening(self) -> list[str]:
        """The local addresses the emulator's process group listens on (`ss -ltnp`), e.g. 127.0.0.1:4566."""
        if self.proc is None:
            return []
        pids = _group_pids(self.proc.pid)
        out = subprocess.run(["ss", "-H", "-ltnp"], capture_output=True, text=True, check=True).stdout
        found = []
        for line in out.splitlines():
            fields = line.split()
            if len(fields) >= 5 and any(f"pid={pid}," in line for pid in pids):
                found.append(fields[3])
        return sorted(found)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            pgid = proc.pid  # start_new_session: the group is named after the leader
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    continue
                if not _group_pids(pgid):
                    break
            else:
                proc.wait()
            try:  # workers that outlived their leader's SIGTERM
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _group_pids(pgid: int) -> list[int]:
    """The live processes of a process group (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids
