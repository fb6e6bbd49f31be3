"""`lambdasmith serve` as a client (or an attacker) meets it, over raw sockets: slow clients,
request smuggling shapes, oversized bodies, unknown methods, header injection by a function,
browsers at the Invoke API, binding the Invoke API to the network, the access log, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.serving import Served, http

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAPS = ROOT / "tests" / "support" / "runtime_bootstraps"
HEAD_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 1.0


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    functions = {"web": {"handler": "web.run", "task_root": str(BOOTSTRAPS / "handlers"), "timeout_s": 5,
                         "bootstrap": [sys.executable, str(BOOTSTRAPS / "python_bootstrap.py")]}}  # fmt: skip
    config = tmp / "shell-functions.json"
    config.write_text(json.dumps({"functions": functions}))
    return {
        "LAMBDASMITH_SHELL_FUNCTIONS": str(config),
        "LAMBDASMITH_EXTRA_FUNCTIONS": "echo=tests.support.invoke_functions:echo,chatty=tests.support.invoke_functions:chatty",
        "LAMBDASMITH_HEAD_TIMEOUT_S": str(HEAD_TIMEOUT_S),
        "LAMBDASMITH_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "LAMBDASMITH_INVOKE_ALLOWED_ORIGINS": "http://allowed.example",
        "LAMBDASMITH_TRUSTED_PROXIES": "127.0.0.1",
        "LAMBDASMITH_LOG_FORMAT": "json",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **extra,
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve-http")
    s = Served(str(tmp / "data"), ["badges", "shell", "invoke"], _env(tmp)).start()
    yield s
    assert s.stop() == 0


def _addr(served: Served, name: str) -> tuple[str, int]:
    u = urlsplit(served.urls[name])
    assert u.hostname and u.port
    return u.hostname, u.port


def _exchange(addr: tuple[str, int], data: bytes, wait_s: float = 5.0) -> tuple[bytes, bool]:
    """Send `data`, read until the server closes (or `wait_s`); what came back, and whether the
    server closed the connection."""
    with socket.create_connection(addr, timeout=wait_s) as s:
        s.sendall(data)
        return _read_all(s, wait_s)


def _read_all(s: socket.socket, wait_s: float) -> tuple[bytes, bool]:
    out = b""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            return out, False
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk
    return out, False


def _status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


# ---------------------------------------------------------------------------- slow clients


def test_an_idle_connection_is_closed_after_the_head_timeout(served):
    with socket.create_connection(_addr(served, "badges")) as s:
        started = time.monotonic()
        data, closed = _read_all(s, HEAD_TIMEOUT_S + 4)
        assert closed and data == b""
        assert time.monotonic() - started < HEAD_TIMEOUT_S + 3


def test_a_head_trickled_a_byte_at_a_time_is_cut_off_at_the_head_timeout(served):
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    with socket.create_connection(_addr(served, "badges")) as s:
        started, closed = time.monotonic(), False
        for byte in head:
            try:
                s.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - started > HEAD_TIMEOUT_S + 3:
                break
        if not closed:
            closed = _read_all(s, 2)[1]
        assert closed, "a trickled head held the connection past the head timeout"
        assert time.monotonic() - started < HEAD_TIMEOUT_S + 4


def test_a_keep_alive_connection_left_idle_is_closed(served):
    with socket.create_connection(_addr(served, "badges")) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        first = s.recv(65536)
        assert _status(first) == 200
        data, closed = _read_all(s, HEAD_TIMEOUT_S + 4)
        assert closed and data == b""


def test_a_half_sent_body_is_a_408_and_a_closed_connection(served):
    started = time.monotonic()
    data, closed = _exchange(_addr(served, "badges"),
                             b"POST /tests/results/linux/o/r/main HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"")  # fmt: skip
    assert _status(data) == 408 and closed
    assert json.loads(data.split(b"\r\n\r\n", 1)[1]) == {"message": "Request Timeout"}
    assert time.monotonic() - started < BODY_TIMEOUT_S + 3


def test_slow_clients_do_not_stop_others_being_served(served):
    idle = [socket.create_connection(_addr(served, "badges")) for _ in range(100)]
    try:
        for s in idle[::2]:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # half a head
        for _ in range(20):
            assert http("GET", served.urls["badges"] + "/health", timeout=2).status == 200
    finally:
        for s in idle:
            s.close()


# ---------------------------------------------------------------------------- strict HTTP/1.1

SMUGGLED = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize("head", [
    b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\n",
    b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n",
    b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
    b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
    b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
    b"POST /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nContent-Length: 5\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n",
])  # fmt: skip
def test_smuggling_shapes_are_a_400_and_nothing_after_them_is_answered(served, head):
    data, closed = _exchange(_addr(served, "badges"), head + b"hello" + SMUGGLED)
    assert data.startswith(b"HTTP/1.1 400 "), data[:100]
    assert closed and data.count(b"HTTP/1.1 ") == 1, "a hidden second request was answered"


def test_an_unknown_method_is_a_json_501(served):
    r = http("BREW", served.urls["badges"] + "/health")
    assert r.status == 501 and r.headers["content-type"] == "application/json"
    assert "BREW" in r.json()["message"]
    r = http("BREW", served.urls["invoke"] + "/2015-03-31/functions/echo/invocations")
    assert r.status == 501 and r.headers["x-amzn-errortype"] == "UnknownOperationException"


def test_a_body_over_the_cap_is_refused_before_it_is_sent(served):
    head = (b"POST /tests/results/linux/o/r/main HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
            b"Expect: 100-continue\r\n\r\n")  # fmt: skip
    data, closed = _exchange(_addr(served, "badges"), head)
    assert _status(data) == 413 and closed and b"100 Continue" not in data
    assert json.loads(data.split(b"\r\n\r\n", 1)[1]) == {"message": "Request Entity Too Large"}


def test_a_huge_body_is_refused_unread_and_the_connection_closed(served):
    with socket.create_connection(_addr(served, "badges"), timeout=5) as s:
        s.sendall(b"POST /tests/results/linux/o/r/main HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        s.sendall(b"x" * 100_000)
        data, closed = _read_all(s, 5)
        assert _status(data) == 413 and closed


def test_a_chunked_body_over_the_cap_is_a_413(served):
    chunk = b"x" * 32768
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3)) + b"0\r\n\r\n"
    head = b"POST /tests/results/linux/o/r/main HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    data, _ = _exchange(_addr(served, "badges"), head + body + SMUGGLED, wait_s=3)
    assert _status(data) == 413
    assert data.count(b"HTTP/1.1 200 ") == 1, "the connection stays usable after a body that was read away"


def test_a_chunked_body_under_the_cap_reaches_the_function(served):
    body = b'{"x": 1}'
    head = b"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    data, _ = _exchange(_addr(served, "invoke"), head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body), wait_s=3)
    assert _status(data) == 200 and data.endswith(b'{"x": 1}')


# ---------------------------------------------------------------------------- response safety


@pytest.mark.parametrize("path", ["/web/redirect?to=/x%0d%0aSet-Cookie:%20session=evil", "/web/redirect?to=/x%0aX-Evil:%201",
                                  "/web/redirect?to=/x%00y", "/web/header-name"])  # fmt: skip
def test_a_function_cannot_inject_response_headers(served, path):
    data, _ = _exchange(_addr(served, "shell"), f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    assert _status(data) == 502, data[:200]
    assert b"set-cookie" not in head and b"x-evil" not in head and b"location" not in head
    deadline = time.monotonic() + 5  # the log line travels through a pipe and a reader thread
    while not any("response refused" in line for line in served.output) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any("response refused" in line for line in served.output)


def test_a_safe_redirect_passes(served):
    r = http("GET", served.urls["shell"] + "/web/redirect?to=/elsewhere")
    assert r.status == 302 and r.headers["location"] == "/elsewhere"


# ---------------------------------------------------------------------------- the Invoke API's guard


def test_a_web_page_cannot_invoke_a_function(served):
    calls_before = len([line for line in served.output if "START RequestId" in line])
    r = http("POST", served.urls["invoke"] + "/2015-03-31/functions/echo/invocations", body=b'{"forged": true}',
             headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})  # fmt: skip
    assert r.status == 403 and r.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert "evil.example" in r.json()["message"]
    r = http("POST", served.urls["invoke"] + "/2015-03-31/functions/echo/invocations", body=b"{}",
             headers={"Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert r.status == 403
    time.sleep(0.2)
    assert len([line for line in served.output if "START RequestId" in line]) == calls_before


def test_an_allowed_origin_may_invoke(served):
    r = http("POST", served.urls["invoke"] + "/2015-03-31/functions/echo/invocations", body=b'{"ok": 1}',
             headers={"Origin": "http://allowed.example"})  # fmt: skip
    assert r.status == 200 and r.json() == {"ok": 1}


def test_serve_refuses_to_put_the_invoke_api_on_the_network_without_credentials(tmp_path):
    env = {**os.environ, "LAMBDASMITH_INVOKE_CREDENTIALS": ""}
    done = subprocess.run([sys.executable, "-m", "lambdasmith", "serve", "invoke", "--host", "0.0.0.0", "--port", "0",
                           "--data-dir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert "LAMBDASMITH_INVOKE_CREDENTIALS" in done.stderr and "lambdasmith serve" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_named(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "lambdasmith", "serve", "badges", "--port", str(port),
                               "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1 and f"127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------------------- the access log


def test_one_access_log_line_per_request_with_what_operations_need(served):
    r = http(
        "GET",
        served.urls["badges"] + "/health?probe=access-log",
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"},
    )
    assert r.status == 200
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in served.output if '"message":"access"' in line and "access-log" in line]
        if lines:
            break
        time.sleep(0.05)
    (entry,) = lines
    assert entry["client_ip"] == "203.0.113.7"  # the peer is a trusted proxy: the nearest untrusted hop
    assert entry["method"] == "GET" and entry["path"] == "/health?probe=access-log" and entry["status"] == 200
    assert entry["bytes"] == len(r.body) and entry["duration_ms"] >= 0 and entry["service"] == "badges"
    assert entry["request_id"] == r.headers["apigw-requestid"]
    assert entry["timestamp"].endswith("Z") and entry["timestamp"][10] == "T"


# ---------------------------------------------------------------------------- lifecycle


def test_sigterm_drains_requests_in_flight_and_exits_0(tmp_path):
    served = Served(str(tmp_path / "data"), ["invoke"], _env(tmp_path, LAMBDASMITH_WORKERS="2")).start()
    results: list[object] = []

    def slow() -> None:
        try:
            r = http("POST", served.urls["invoke"] + "/2015-03-31/functions/chatty/invocations",
                     body=json.dumps({"lines": 3, "pause": 0.5}), timeout=20)  # fmt: skip
            results.append((r.status, r.json()))
        except Exception as e:  # noqa: BLE001 - the assertion below says what went wrong
            results.append(e)

    threads = [threading.Thread(target=slow) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.6)  # the three are running
    assert served.proc is not None
    started = time.monotonic()
    served.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(20)
    code = served.proc.wait(20)
    assert results == [(200, {"printed": 3})] * 3
    assert code == 0 and time.monotonic() - started < 15
    with pytest.raises(OSError):
        socket.create_connection(_addr(served, "invoke"), timeout=1).close()
    served.proc = None


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


def _while_workers_load(tmp_path: Path) -> tuple[Served, set[int]]:
    """A serve caught as soon as every worker is forked, while they still import and open their
    endpoints: the moment a stop used to be swallowed by the supervisor's handlers, which a
    forked worker inherits. The drain bound is long, so a swallowed stop shows as a survivor."""
    served = Served(str(tmp_path / "data"), ["badges", "invoke"],
                    _env(tmp_path, LAMBDASMITH_WORKERS="2", LAMBDASMITH_DRAIN_TIMEOUT_S="60")).launch()  # fmt: skip
    assert served.proc is not None
    deadline = time.monotonic() + 20
    while len(served.processes()) < 1 + 2 * 3 and time.monotonic() < deadline:
        time.sleep(0.002)
    processes = served.processes()
    assert len(processes) == 1 + 2 * 3, "serve did not fork its workers"
    return served, processes


def _survivors(processes: set[int], within_s: float) -> list[int]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and any(_alive(pid) for pid in processes):
        time.sleep(0.05)
    return [pid for pid in processes if _alive(pid)]


def test_a_serve_killed_while_its_workers_load_leaves_nothing_running(tmp_path):
    served, processes = _while_workers_load(tmp_path)
    assert served.proc is not None
    served.proc.kill()
    served.proc.wait()
    served.proc = None
    assert not _survivors(processes, 10), "workers outlived serve"


def test_a_serve_stopped_while_its_workers_load_exits_and_leaves_nothing_running(tmp_path):
    served, processes = _while_workers_load(tmp_path)
    assert served.proc is not None
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(15) == 0
    served.proc = None
    assert not _survivors(processes, 10), "workers outlived serve"


def test_a_serve_killed_with_sigkill_leaves_nothing_running_and_starts_again_on_its_ports(tmp_path):
    served = Served(str(tmp_path / "data"), ["badges", "invoke"], _env(tmp_path, LAMBDASMITH_WORKERS="2")).start()
    assert http("GET", served.urls["badges"] + "/health").status == 200
    processes = served.processes()
    assert len(processes) == 1 + 2 * 3  # serve; per endpoint its server and two workers
    assert served.proc is not None
    served.proc.kill()
    served.proc.wait()
    served.proc = None
    assert not _survivors(processes, 20), "servers outlived serve"
    port = _addr(served, "badges")[1]
    again = Served(served.data_dir, ["badges"], _env(tmp_path))
    again.start_args = ["--port", str(port)]  # after serve's own --port 0: the last one counts
    try:
        again.start()
        assert again.urls["badges"].endswith(f":{port}")
        assert http("GET", again.urls["badges"] + "/health").status == 200
    finally:
        assert again.stop() == 0
