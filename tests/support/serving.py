"""Start `lambdasmith serve` as a real subprocess and talk to it over real HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from urllib.parse import urlsplit


class Served:
    """A running `lambdasmith serve`; `urls` maps each system to its base URL."""

    def __init__(self, data_dir: str, systems: list[str], env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.systems = systems
        # One worker process per endpoint unless a test asks for more: state a test relies on
        # (a warm cache, a shell function's environment) then lives in one process, as in one
        # Lambda instance, and start-up is quicker.
        self.env = {**os.environ, "LAMBDASMITH_WORKERS": "1", **(env or {})}
        self.urls: dict[str, str] = {}
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []
        self.start_args: list[str] = []  # more arguments of `lambdasmith serve` (e.g. --host)

    def start(self, timeout: float = 20.0) -> "Served":
        self.launch()
        deadline = time.monotonic() + timeout
        assert self.proc is not None and self.proc.stdout is not None
        while len(self.urls) < len(self.systems):
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("lambdasmith serve exited:\n" + "".join(self.output))
            self.output.append(line)
            m = re.match(r"\s+(\w+)\s+(http://\S+)", line)
            if m:
                self.urls[m.group(1)] = m.group(2)
            if time.monotonic() > deadline:
                raise RuntimeError("lambdasmith serve did not start:\n" + "".join(self.output))
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def launch(self) -> "Served":
        """Start serve without waiting for it to answer (`start` waits for its banner)."""
        cmd = [
            sys.executable,
            "-m",
            "lambdasmith",
            "serve",
            *self.systems,
            "--port",
            "0",
            "--data-dir",
            self.data_dir,
            *self.start_args,
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env)
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def processes(self) -> set[int]:
        """The pids of serve and every process under it (its endpoints' servers and workers)."""
        assert self.proc is not None
        return descendants(self.proc.pid) | {self.proc.pid}

    def restart(self) -> "Served":
        self.stop()
        self.urls = {}
        return self.start()


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body[:200]!r})"


def http(
    method: str, url: str, headers: dict[str, str] | None = None, body: bytes | str | None = None, timeout: float = 15.0
) -> Reply:
    """One real HTTP request; any status comes back as a Reply (no exceptions for 4xx/5xx)."""
    u = urlsplit(url)
    conn = HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        target = u.path + (f"?{u.query}" if u.query else "")
        conn.request(method, target, body=body.encode() if isinstance(body, str) else body, headers=headers or {})
        r = conn.getresponse()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()
