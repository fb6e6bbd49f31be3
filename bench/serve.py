"""`lambdasmith serve` under load, over real HTTP on 127.0.0.1, beside peers measured in the same run.

    uv run --frozen python bench/serve.py [--workers 1] [--duration 10] [--quick] [--peer-async]

1. Throughput and latency (wrk, keep-alive; -t1 -c1 and -t2 -c50) of three routes: a cached NuGet
   badge (a fake NuGet on loopback, cache warmed first), a test badge (after one signed result)
   and a wardrobe page (20 items, a token from `lambdasmith wardrobe token`), for
   (a) `lambdasmith serve badges wardrobe` and (b) the FastAPI + uvicorn app of
   bench/fastapi_peer.py on the same data dir — same worker count (LAMBDASMITH_WORKERS for ours,
   `uvicorn --workers` for the peer), same load generator, one contender loaded at a time (both
   are up; each measurement of ours is followed by the same one of the peer).
   Both must answer the same status, body and validators before anything is measured.
2. The server's ceiling: bench/granian_hello.py on granian (RSGI, same worker count), measured the
   same way; ours as a fraction of it.
3. Slow clients: 400 connections to the badges port (half of them trickling a request head a byte
   a second, half idle), then /health p50 over sequential keep-alive requests and the serve
   process tree's RSS, against the same figures without them.
4. Durability cost: signed test-result ingestion and wardrobe create (wrk Lua scripts; ingestion
   replays requests signed beforehand in Python, each used once) with
   LAMBDASMITH_SQLITE_SYNCHRONOUS=FULL and NORMAL, one serve run each.

Nothing here is a timed test: it prints markdown tables (progress goes to stderr). Needs wrk
(`make bench` installs Debian's package when it is missing).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambdasmith.badges.signature import sign_v2  # noqa: E402
from tests.support.upstreams import FakeNuGet  # noqa: E402

HOST = "127.0.0.1"
PACKAGE = "Newtonsoft.Json"
NUGET_DATA = {PACKAGE: ["12.0.3", "13.0.1", "13.0.3", "14.0.0-preview.1"]}
ORG, REPO, PLATFORM, BRANCH = "acme", "widgets", "linux", "main"
SECRET = "bench-hmac-secret-0123456789"
USER = "bench"
ITEMS = 20
SLOW_CONNECTIONS = 400
RESULT_PATH = f"/tests/results/{PLATFORM}/{ORG}/{REPO}/{BRANCH}"
ROUTES = [  # (label, system, path)
    ("NuGet badge (cached)", "badges", f"/badges/packages/nuget/{PACKAGE}"),
    ("test badge", "badges", f"/badges/tests/{PLATFORM}/{ORG}/{REPO}/{BRANCH}"),
    ("wardrobe page (20 items)", "wardrobe", f"/users/{USER}/items"),
]
COMPARED_HEADERS = ("content-type", "etag", "cache-control", "last-modified", "vary")
CONNS = (1, 50)

THREAD_IDS_LUA = r"""
-- Each wrk thread gets a number, `tid`, so it can use inputs and ids of its own.
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
"""

INGEST_LUA = THREAD_IDS_LUA + r"""
-- Replays requests signed beforehand (one file per wrk thread: nonce, signature, X-Timestamp, body).
function init(args)
  reqs, i = {}, 0
  for line in io.lines(args[1] .. "." .. tid) do
    local nonce, sig, ts, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", args[2], {["Content-Type"] = "application/json",
      ["X-Signature"] = sig, ["X-Signature-Version"] = "2", ["X-Timestamp"] = ts, ["X-Nonce"] = nonce}, body)
  end
end
function request()
  i = i + 1
  if i > #reqs then i = 1 end  -- used up: a replay is refused, and wrk counts it as non-2xx
  return reqs[i]
end
"""

CREATE_LUA = THREAD_IDS_LUA + r"""
-- A new item per request: unique itemId and Idempotency-Key.
function init(args)
  prefix, path, auth, n = args[1] .. "-" .. tid, args[2], "Bearer " .. args[3], 0
end
function request()
  n = n + 1
  local id = prefix .. "-" .. n
  local body = '{"itemId":"' .. id .. '","name":"Bench item ' .. n .. '","category":"coats","season":"winter"}'
  return wrk.format("POST", path, {["Authorization"] = auth, ["Idempotency-Key"] = id,
    ["Content-Type"] = "application/json"}, body)
end
"""


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- processes


def free_base(span: int = 4) -> int:
    """A base port with `span` free ports from it (serve binds BASE and BASE+1)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            base = probe.getsockname()[1]
        if base + span >= 65535:
            continue
        try:
            held = []
            for p in range(base, base + span):
                s = socket.socket()
                held.append(s)
                s.bind((HOST, p))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return base
    raise RuntimeError("no free ports")


class Server:
    """A server started by this bench in a session of its own, so its workers stop with it."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> Server:
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited ({self.proc.returncode}):\n{self.log_text()[-3000:]}")
            try:
                if request("GET", url, timeout=2)[0] < 500:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"{self.name} did not answer {url} within {timeout:.0f} s:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(pid, signal.SIGKILL)
                self.proc.wait()
        for sig in (signal.SIGTERM, signal.SIGKILL):  # workers the main process left behind, if any
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            time.sleep(0.5)
        self.proc = None
        if self._log is not None:
            self._log.close()


def tree_rss_kb(pid: int) -> int:
    """VmRSS of `pid` and every descendant, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def cli(*args: str, env: dict[str, str]) -> str:
    p = subprocess.run([sys.executable, "-m", "lambdasmith", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"lambdasmith {' '.join(args[:2])} failed:\n{p.stderr}")
    return p.stdout.strip()


def prepare(data_dir: str, workers: int, nuget_url: str) -> tuple[dict[str, str], str]:
    """The environment of both contenders (serve's default durability, FULL) and a wardrobe token,
    after registering the org's signing secret — through lambdasmith's own CLI, as an operator would."""
    env = dict(base_env(data_dir, workers), NUGET_BASE_URL=nuget_url, LAMBDASMITH_SQLITE_SYNCHRONOUS="FULL")
    cli("badges", "register-org", ORG, "--type", "testdata", "--secret", SECRET, "--allow-weak", "--data-dir", data_dir, env=env)
    return env, cli("wardrobe", "token", USER, "--data-dir", data_dir, env=env)


def base_env(data_dir: str, workers: int) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LAMBDASMITH_", "GRANIAN_", "BADGES_", "WARDROBE_"))
    }
    env.update(
        LAMBDASMITH_DATA_DIR=data_dir,
        LAMBDASMITH_WORKERS=str(workers),
        PYTHONPATH=str(ROOT),
        BADGES_UPSTREAM_CACHE_TTL="3600",
    )  # fresh for the whole run: every measured badge is a cache hit
    return env


def start_ours(data_dir: str, env: dict[str, str], log_dir: Path, name: str = "serve") -> tuple[Server, dict[str, str]]:
    """`lambdasmith serve badges wardrobe --port BASE`; its URLs as it prints them."""
    base = free_base()
    argv = [sys.executable, "-m", "lambdasmith", "serve", "badges", "wardrobe", "--port", str(base),
            "--data-dir", data_dir]  # fmt: skip
    server = Server(name, argv, env, log_dir).start()
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while len(urls) < 2:
        for m in re.finditer(r"^\s+(badges|wardrobe)\s+(http://\S+)", server.log_text(), re.M):
            urls[m.group(1)] = m.group(2).rstrip("/")
        if server.proc is not None and server.proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"lambdasmith serve did not start:\n{server.log_text()[-3000:]}")
        time.sleep(0.05)
    server.wait_ready(urls["badges"] + "/health")
    server.wait_ready(urls["wardrobe"] + f"/users/{USER}/items")  # a 401 without a token: answering
    return server, urls


def start_peer(workers: int, env: dict[str, str], log_dir: Path, run_on_loop: bool) -> tuple[Server, dict[str, str]]:
    port = free_base(1)
    argv = [sys.executable, "-m", "uvicorn", "bench.fastapi_peer:app", "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--loop", "uvloop", "--http", "httptools"]  # fmt: skip
    peer_env = dict(env, BENCH_PEER_ASYNC="1" if run_on_loop else "0")
    server = Server("fastapi-peer", argv, peer_env, log_dir).start()
    url = f"http://{HOST}:{port}"
    server.wait_ready(url + "/health")
    return server, {"badges": url, "wardrobe": url}


def start_ceiling(workers: int, env: dict[str, str], log_dir: Path) -> tuple[Server, str]:
    port = free_base(1)
    argv = [sys.executable, "-m", "granian", "--interface", "rsgi", "--workers", str(workers), "--http", "1",
            "--host", HOST, "--port", str(port), "bench.granian_hello:app"]  # fmt: skip
    server = Server("granian-hello", argv, env, log_dir).start()
    url = f"http://{HOST}:{port}"
    server.wait_ready(url + "/")
    return server, url


# ---------------------------------------------------------------------------- HTTP


def request(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = None,
            timeout: float = 15) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    u = url.split("://", 1)[1]
    hostport, _, path = u.partition("/")
    host, _, port = hostport.partition(":")
    conn = http.client.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        conn.request(method, "/" + path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def signed_result(n: int, when: datetime) -> tuple[str, str, str, bytes]:
    """(nonce, signature, X-Timestamp, body) of one v2-signed ingestion request, unique by `n`."""
    ran = (datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    result = {"platform": PLATFORM, "passed": 120, "failed": 0, "skipped": 3, "total": 123,
              "url_html": f"https://ci.example/runs/{n}", "timestamp": ran[:-3] + "Z", "commit": f"c{n:08x}",
              "run_id": str(n), "workflow_run_url": f"https://ci.example/runs/{n}"}  # fmt: skip
    body = json.dumps(result, separators=(",", ":")).encode()
    ts = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = f"bench-{n}"
    return nonce, sign_v2(SECRET, "POST", RESULT_PATH, ts, nonce, body), ts, body


def post_result(badges_url: str, n: int) -> int:
    nonce, sig, ts, body = signed_result(n, datetime.now(timezone.utc))
    headers = {"Content-Type": "application/json", "X-Signature": sig, "X-Signature-Version": "2",
               "X-Timestamp": ts, "X-Nonce": nonce}  # fmt: skip
    return request("POST", badges_url + RESULT_PATH, headers, body)[0]


def seed(urls: dict[str, str], token: str) -> None:
    status = post_result(urls["badges"], 0)
    if status != 201:
        raise SystemExit(f"signed test result: {status}, not 201")
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for n in range(ITEMS):
        item = {"itemId": f"item-{n:03d}", "name": f"Item {n}", "category": ["coats", "shoes", "hats", "bags"][n % 4],
                "season": ["winter", "summer", "spring"][n % 3]}  # fmt: skip
        status, _, body = request("POST", urls["wardrobe"] + f"/users/{USER}/items",
                                  {**auth, "Idempotency-Key": item["itemId"]}, json.dumps(item).encode())  # fmt: skip
        if status != 201:
            raise SystemExit(f"wardrobe create: {status} {body[:200]!r}")
        time.sleep(0.002)  # distinct updatedAt, so "newest first" is one order for everyone


def answers(urls: dict[str, str], token: str) -> dict[str, tuple[int, dict[str, str], bytes]]:
    out = {}
    for label, system, path in ROUTES:
        headers = {"Authorization": f"Bearer {token}"} if system == "wardrobe" else {}
        status, got, body = request("GET", urls[system] + path, headers)
        compared = {k: got.get(k, "") for k in COMPARED_HEADERS}
        # Starlette's CORS middleware adds `Vary: Origin` to every answer; ours sends
        # `Access-Control-Allow-Origin: *` instead. Both are right for a public API; compare the rest.
        compared["vary"] = ", ".join(v.strip() for v in compared["vary"].split(",") if v.strip() not in ("", "Origin"))
        out[label] = (status, compared, body)
    return out


def differences(ours: dict[str, Any], peer: dict[str, Any]) -> list[str]:
    """Where the peer's answers differ from ours (status, body, compared headers); ours must be 200s."""
    problems = []
    for label, (status, headers, body) in ours.items():
        p_status, p_headers, p_body = peer[label]
        if status != 200:
            problems.append(f"{label}: ours answered {status} {body[:200]!r}")
        if (status, body) != (p_status, p_body):
            problems.append(f"{label}: ours {status} {body[:300]!r}\n   peer {p_status} {p_body[:300]!r}")
        for name in COMPARED_HEADERS:
            if name == "last-modified" and headers[name] and p_headers[name]:
                continue  # each process stamps when *it* last heard from upstream: present in both is alike
            if headers[name] != p_headers[name]:
                problems.append(f"{label}: {name}: ours {headers[name]!r}, peer {p_headers[name]!r}")
    return problems


def same_answers(ours: dict[str, Any], peer: dict[str, Any]) -> None:
    problems = differences(ours, peer)
    if problems:
        raise SystemExit("the contenders do not answer alike:\n - " + "\n - ".join(problems))


# ---------------------------------------------------------------------------- load


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx answers and socket errors


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def wrk(url: str, conns: int, seconds: int, script: str | None = None, script_args: tuple[str, ...] = (),
        headers: tuple[str, ...] = ()) -> Load:  # fmt: skip
    argv = [WRK, f"-t{1 if conns == 1 else 2}", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for h in headers:
        argv += ["-H", h]
    if script:
        argv += ["-s", script]
    argv.append(url)
    if script_args:
        argv += ["--", *script_args]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    out = p.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)\s*$", out, re.M))
    if p.returncode != 0 or rps is None or "50" not in lat or "99" not in lat:
        raise SystemExit(f"wrk failed ({' '.join(argv)}):\n{out}\n{p.stderr}")

    def ms(text: str) -> float:
        m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
        assert m, text
        return float(m.group(1)) * _UNITS[m.group(2)]

    bad = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        bad += sum(int(x) for x in sock.groups())
    total = re.search(r"(\d+) requests in", out)
    return Load(float(rps.group(1)), ms(lat["50"]), ms(lat["99"]), int(total.group(1)) if total else 0, bad)


def measure_routes(contenders: dict[str, dict[str, str]], token: str, nuget: FakeNuGet, secs: int, warm: int,
                   ) -> tuple[dict[str, dict[tuple[str, int], Load]], dict[str, int]]:  # fmt: skip
    """Each route at each connection count, the contenders one after the other (the idle one waits),
    so a slow drift of the machine falls on both alike; NuGet upstream requests made while measuring."""
    out: dict[str, dict[tuple[str, int], Load]] = {who: {} for who in contenders}
    upstream_hits = dict.fromkeys(contenders, 0)
    for label, system, path in ROUTES:
        headers = (f"Authorization: Bearer {token}",) if system == "wardrobe" else ()
        for who, urls in contenders.items():
            say(f"  {who}: {label}: warm-up {warm} s")
            wrk(urls[system] + path, 50, warm, headers=headers)  # every worker's cache and connections are warm
        for conns in CONNS:
            for who, urls in contenders.items():
                say(f"  {who}: {label}: {conns} connection{'s' if conns > 1 else ''}, {secs} s")
                before = nuget.requests
                out[who][(label, conns)] = wrk(urls[system] + path, conns, secs, headers=headers)
                upstream_hits[who] += nuget.requests - before
    return out, upstream_hits


def health_latencies(url: str, n: int) -> list[float]:
    """`n` sequential GET /health on one keep-alive connection (http.client), in ms."""
    host, port = url.split("://", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    out = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            conn.request("GET", "/health")
            r = conn.getresponse()
            r.read()
            out.append((time.perf_counter() - t) * 1e3)
            if r.status != 200:
                raise SystemExit(f"/health answered {r.status}")
    finally:
        conn.close()
    return out


def p99(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


@dataclass
class SlowResult:
    unloaded: list[float]
    loaded: list[float]
    rss_before_kb: int
    rss_after_kb: int
    opened: int
    still_open: int


def slow_clients(badges_url: str, pid: int, samples: int, settle: float) -> SlowResult:
    host, port = badges_url.split("://", 1)[1].split(":")
    health_latencies(badges_url, 20)  # warm
    unloaded = health_latencies(badges_url, samples)
    rss_before = tree_rss_kb(pid)
    trickling: list[socket.socket] = []
    idle: list[socket.socket] = []
    for i in range(SLOW_CONNECTIONS):
        s = socket.create_connection((host, int(port)), timeout=10)
        if i % 2 == 0:
            s.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode())
            trickling.append(s)
        else:
            idle.append(s)
        s.setblocking(False)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(1.0):
            for s in trickling:
                try:
                    s.send(b"a")
                except OSError:
                    pass

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    time.sleep(settle)  # every connection accepted and holding whatever the server gives it
    loaded = health_latencies(badges_url, samples)
    rss_after = tree_rss_kb(pid)
    still_open = 0
    for s in trickling + idle:
        try:
            s.recv(1, socket.MSG_PEEK)  # b"": the server hung up; bytes: it answered (an error, a timeout)
        except BlockingIOError:
            still_open += 1  # nothing to read and not closed: still held open
        except OSError:
            pass
    stop.set()
    t.join()
    for s in trickling + idle:
        s.close()
    return SlowResult(unloaded, loaded, rss_before, rss_after, SLOW_CONNECTIONS, still_open)


def write_ingest_files(directory: Path, threads: int, count: int, first: int) -> str:
    """`count` signed requests, each used once, dealt round-robin into one file per wrk thread."""
    stem = directory / f"ingest-{first}"
    now = datetime.now(timezone.utc)
    files = [open(f"{stem}.{i}", "w") for i in range(threads)]
    try:
        for k in range(count):
            nonce, sig, ts, body = signed_result(first + k, now)
            files[k % threads].write(f"{nonce}\t{sig}\t{ts}\t{body.decode()}\n")
    finally:
        for f in files:
            f.close()
    return str(stem)


def durability(
    mode: str, workers: int, secs: int, work: Path, log_dir: Path, first_n: int
) -> dict[tuple[str, int], Load]:
    """One serve run on a fresh data dir with `LAMBDASMITH_SQLITE_SYNCHRONOUS=mode`: both writes at
    each connection count (ingestion first, so the results table is alike for both modes)."""
    data_dir = tempfile.mkdtemp(prefix=f"serve-{mode.lower()}-", dir=work)
    env, token = prepare(data_dir, workers, "http://127.0.0.1:9")  # no package badge here
    env["LAMBDASMITH_SQLITE_SYNCHRONOUS"] = mode
    ingest_lua, create_lua = work / "ingest.lua", work / "create.lua"
    ingest_lua.write_text(INGEST_LUA)
    create_lua.write_text(CREATE_LUA)
    server, urls = start_ours(data_dir, env, log_dir, name=f"serve-{mode.lower()}")
    out: dict[tuple[str, int], Load] = {}
    try:
        if post_result(urls["badges"], first_n) != 201:
            raise SystemExit("ingestion refused the bench's signed request")
        n = first_n + 1
        # Enough unique requests for the fastest rate SQLite commits reach here, with room to spare.
        cap = 12_000 * max(1, workers)
        for conns in CONNS:
            threads = 1 if conns == 1 else 2
            count = (secs + 1) * cap
            say(
                f"  {mode}: ingestion, {conns} connection{'s' if conns > 1 else ''}, {secs} s ({count} signed requests)"
            )
            stem = write_ingest_files(work, threads, count, n)
            n += count
            out[("ingest", conns)] = wrk(urls["badges"] + RESULT_PATH, conns, secs, str(ingest_lua),
                                         (stem, RESULT_PATH))  # fmt: skip
            for i in range(threads):
                Path(f"{stem}.{i}").unlink()
        for conns in CONNS:
            say(f"  {mode}: wardrobe create, {conns} connection{'s' if conns > 1 else ''}, {secs} s")
            out[("create", conns)] = wrk(urls["wardrobe"] + f"/users/{USER}/items", conns, secs, str(create_lua),
                                         (f"{mode}-c{conns}", f"/users/{USER}/items", token))  # fmt: skip
    finally:
        server.stop()
    return out


# ---------------------------------------------------------------------------- tables


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def errors_note(loads: list[Load]) -> str:
    return "/".join(str(x.bad) for x in loads) if any(x.bad for x in loads) else ""


def table_routes(ours: dict[tuple[str, int], Load], peer: dict[tuple[str, int], Load], workers: int) -> None:
    print(
        f"\n### 1. Throughput and latency: `lambdasmith serve` vs FastAPI + uvicorn, {workers} worker(s), keep-alive\n"
    )
    print(
        "| route | conns | ours req/s | peer req/s | ours/peer (goal ≥ 3× at 1 worker) | ours p50 ms "
        "(goal ≤ 1 at c1) | peer p50 ms | ours p99 ms | peer p99 ms | errors ours/peer |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, _, _ in ROUTES:
        for conns in CONNS:
            o, p = ours[(label, conns)], peer[(label, conns)]
            ratio = o.rps / p.rps if p.rps else float("inf")
            p50 = f"{o.p50_ms:.2f}" + (f" {mark(o.p50_ms <= 1.0)}" if conns == 1 else "")
            print(
                f"| {label} | {conns} | {o.rps:,.0f} | {p.rps:,.0f} | {ratio:.2f}× {mark(ratio >= 3)} | {p50} | "
                f"{p.p50_ms:.2f} | {o.p99_ms:.2f} | {p.p99_ms:.2f} | {errors_note([o, p])} |"
            )


def table_ceiling(ours: dict[tuple[str, int], Load], hello: dict[int, Load], workers: int) -> None:
    print(f"\n### 2. The server's ceiling: hello world on granian (RSGI, {workers} worker(s), HTTP/1)\n")
    print(
        "| conns | hello req/s | hello p50 ms | hello p99 ms | "
        + " | ".join(f"{label}: ours / ceiling" for label, _, _ in ROUTES)
        + " |"
    )
    print("|---:|---:|---:|---:|" + "---:|" * len(ROUTES))
    for conns in CONNS:
        h = hello[conns]
        shares = " | ".join(f"{ours[(label, conns)].rps / h.rps:.1%}" for label, _, _ in ROUTES)
        print(f"| {conns} | {h.rps:,.0f} | {h.p50_ms:.2f} | {h.p99_ms:.2f} | {shares} |")


def table_slow(r: SlowResult, samples: int) -> None:
    ratio = statistics.median(r.loaded) / statistics.median(r.unloaded)
    print(
        f"\n### 3. Slow clients: {r.opened} connections to the badges port ({r.opened // 2} trickling a request "
        f"head a byte a second, {r.opened // 2} idle); {samples} sequential keep-alive GET /health\n"
    )
    print("| | unloaded | with the slow clients | loaded / unloaded |")
    print("|---|---:|---:|---:|")
    print(
        f"| /health p50 ms | {statistics.median(r.unloaded):.2f} | {statistics.median(r.loaded):.2f} | "
        f"{ratio:.2f}× {mark(ratio <= 2)} (goal ≤ 2×) |"
    )
    print(f"| /health p99 ms | {p99(r.unloaded):.2f} | {p99(r.loaded):.2f} | {p99(r.loaded) / p99(r.unloaded):.2f}× |")
    print(
        f"| serve process tree RSS MB | {r.rss_before_kb / 1024:.1f} | {r.rss_after_kb / 1024:.1f} | "
        f"+{(r.rss_after_kb - r.rss_before_kb) / 1024:.1f} MB ({(r.rss_after_kb - r.rss_before_kb) / r.opened:.0f} KB a connection) |"
    )
    print(f"| slow connections still open at the end | | {r.still_open} of {r.opened} | |")


def table_durability(full: dict[tuple[str, int], Load], normal: dict[tuple[str, int], Load], workers: int) -> None:
    print(
        f"\n### 4. Durability cost: writes with LAMBDASMITH_SQLITE_SYNCHRONOUS=FULL (serve's default) vs NORMAL, "
        f"{workers} worker(s)\n"
    )
    print(
        "| write | conns | FULL req/s | NORMAL req/s | NORMAL/FULL | FULL p50 ms | NORMAL p50 ms | FULL p99 ms | "
        "NORMAL p99 ms | errors FULL/NORMAL |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = {
        "ingest": "signed test result (POST /tests/results/…)",
        "create": "wardrobe create (POST /users/{u}/items)",
    }
    for key, name in names.items():
        for conns in CONNS:
            f, n = full[(key, conns)], normal[(key, conns)]
            print(
                f"| {name} | {conns} | {f.rps:,.0f} | {n.rps:,.0f} | {n.rps / f.rps:.2f}× | {f.p50_ms:.2f} | "
                f"{n.p50_ms:.2f} | {f.p99_ms:.2f} | {n.p99_ms:.2f} | {errors_note([f, n])} |"
            )


# ---------------------------------------------------------------------------- main

WRK = shutil.which("wrk") or "/usr/bin/wrk"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("LAMBDASMITH_WORKERS") or 1),
        help="worker processes of every contender (LAMBDASMITH_WORKERS for serve)",
    )
    ap.add_argument("--duration", type=int, default=10, help="seconds of each measurement (default 10)")
    ap.add_argument("--quick", action="store_true", help="short runs (2 s each), for a smoke run")
    ap.add_argument(
        "--peer-async",
        action="store_true",
        help="the peer's path operations run on the event loop instead of FastAPI's thread pool",
    )
    args = ap.parse_args()
    if not os.access(WRK, os.X_OK):
        raise SystemExit("bench/serve.py needs wrk (Debian: apt-get install wrk; `make bench` installs it)")
    secs = 2 if args.quick else args.duration
    warm = 1 if args.quick else max(1, secs // 5)
    samples = 60 if args.quick else 200
    settle = 1.0 if args.quick else 3.0
    started = time.monotonic()

    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    log_dir = work / "logs"
    log_dir.mkdir()
    nuget = FakeNuGet(NUGET_DATA)
    nuget.start()
    try:
        data_dir = str(work / "data")
        env, token = prepare(data_dir, args.workers, nuget.url)

        say(f"1. serve and the FastAPI peer ({args.workers} worker(s)); logs in {log_dir}")
        ours_server, ours_urls = start_ours(data_dir, env, log_dir)
        try:
            seed(ours_urls, token)
            expected = answers(ours_urls, token)
            peer_server, peer_urls = start_peer(args.workers, env, log_dir, args.peer_async)
            try:
                same_answers(expected, answers(peer_urls, token))
                say("   same status, body and validators on every route")
                loads, upstream_hits = measure_routes({"serve": ours_urls, "peer": peer_urls}, token, nuget, secs, warm)
            finally:
                peer_server.stop()
            say("3. slow clients against serve's badges port")
            slow = slow_clients(ours_urls["badges"], ours_server.pid, samples, settle)
        finally:
            ours_server.stop()
        ours, peer = loads["serve"], loads["peer"]

        say("2. hello world on granian")
        hello_server, hello_url = start_ceiling(args.workers, env, log_dir)
        try:
            wrk(hello_url + "/", 50, warm)
            hello = {}
            for conns in CONNS:
                say(f"  hello: {conns} connection(s), {secs} s")
                hello[conns] = wrk(hello_url + "/", conns, secs)
        finally:
            hello_server.stop()

        say("4. durability: FULL, then NORMAL")
        full = durability("FULL", args.workers, secs, work, log_dir, 10_000_000)
        normal = durability("NORMAL", args.workers, secs, work, log_dir, 20_000_000)
    finally:
        nuget.stop()

    peer_kind = "on the event loop (--peer-async)" if args.peer_async else "on FastAPI's thread pool (def)"
    print(
        f"## `lambdasmith serve` under load — {args.workers} worker(s), {secs} s a measurement, "
        f"{os.cpu_count()} CPUs, wrk (-t1 -c1, -t2 -c50)\n"
    )
    print(
        f"Peer: FastAPI + uvicorn (uvloop, httptools), path operations {peer_kind}. NuGet upstream requests "
        f"while measuring: ours {upstream_hits['serve']}, peer {upstream_hits['peer']} (every badge a cache hit)."
    )
    table_routes(ours, peer, args.workers)
    table_ceiling(ours, hello, args.workers)
    table_slow(slow, samples)
    table_durability(full, normal, args.workers)
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
