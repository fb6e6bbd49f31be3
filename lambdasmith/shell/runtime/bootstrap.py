#!/usr/bin/env -S python3 -S
"""Lambda custom-runtime bootstrap for bash handlers (provided.al2023), standard library only.

_HANDLER=file.function runs `bash -c 'source "$1" && "$2"' bootstrap FILE FUNCTION` per invocation,
FILE being {file}.sh under LAMBDA_TASK_ROOT (else the working directory): the event on stdin,
stdout the response, stderr the log. A non-zero exit is a Runtime.HandlerError (exit status and
the stderr tail), a handler past Lambda-Runtime-Deadline-Ms has its process group killed
(Runtime.Timeout), a response over 6 MiB is an error (Runtime.ResponseTooLarge). One kept-alive
HTTP/1.1 connection to the Runtime API; a small client of its own, because http.client costs
~20 ms of imports (email.*) on a cold start.
"""
import os
import select
import signal
import socket
import time

LIMIT = 6291456  # 6 MiB, the synchronous response limit
TAIL = 4096  # bytes of stderr kept for the error message
MARGIN_MS = 20  # kill this much before the deadline, so the error lands before the platform's cutoff
BASE = "/2018-06-01/runtime"
SCRIPT = 'source "$1" && "$2"'
SIGDEF = (signal.SIGPIPE, signal.SIGXFSZ)  # Python ignores these; the handler gets the defaults back
current = 0  # pid (= process group) of the running handler


class Api:
    """One HTTP/1.1 connection to the Runtime API, reopened when it drops."""

    def __init__(self, hostport):
        self.hostport = hostport
        host, _, port = hostport.rpartition(":")
        self.addr = (host.strip("[]") or "127.0.0.1", int(port))
        self.sock = None
        self.buf = bytearray()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _connect(self):
        err = OSError("cannot resolve %s" % self.hostport)
        for family, kind, proto, _, addr in socket.getaddrinfo(*self.addr, 0, socket.SOCK_STREAM):
            sock = socket.socket(family, kind, proto)
            try:
                sock.connect(addr)  # no timeout: GET next blocks until there is an event
            except OSError as exc:
                sock.close()
                err = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock, self.buf = sock, bytearray()
            return
        raise err

    def request(self, method, path, body=None, headers=""):
        head = "%s %s%s HTTP/1.1\r\nHost: %s\r\n%s" % (method, BASE, path, self.hostport, headers)
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        head = (head + "\r\n").encode("latin-1")
        for attempt in range(4):
            try:
                if self.sock is None:
                    self._connect()
                if body is None or len(body) > 65536:
                    self.sock.sendall(head)
                    if body:
                        self.sock.sendall(body)
                else:
                    self.sock.sendall(head + body)
                return self._response()
            except (OSError, EOFError, ValueError, IndexError):
                self.close()
                if attempt == 3:
                    raise
                time.sleep(0.05 * attempt)

    def _recv(self):
        data = self.sock.recv(262144)
        if not data:
            raise EOFError("Runtime API closed the connection")
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._recv()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _line(self):
        while (i := self.buf.find(b"\r\n")) < 0:
            self._recv()
        return self._take(i + 2)[:-2]

    def _response(self):
        while True:
            while (end := self.buf.find(b"\r\n\r\n")) < 0:
                self._recv()
            lines = self._take(end + 4).decode("latin-1").split("\r\n")
            version, status = lines[0].split(" ", 2)[:2]
            status = int(status)
            if status >= 200 or status == 101:
                break  # 1xx interim answers are skipped
        hdrs = {}
        for line in lines[1:]:
            if line:
                key, _, value = line.partition(":")
                hdrs[key.strip().lower()] = value.strip()
        if "chunked" in hdrs.get("transfer-encoding", "").lower():
            parts = []
            while size := int(self._line().split(b";")[0], 16):
                parts.append(self._take(size + 2)[:-2])
            while self._line():  # trailers
                pass
            body = b"".join(parts)
        elif "content-length" in hdrs:
            body = self._take(int(hdrs["content-length"]))
        elif status in (204, 304):
            body = b""
        else:  # delimited by the end of the connection
            try:
                while True:
                    self._recv()
            except EOFError:
                pass
            body = bytes(self.buf)
            self.close()
        conn = hdrs.get("connection", "").lower()
        if conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive"):
            self.close()
        return status, hdrs, body


def error_body(kind, message):
    import json  # only on the error path

    return json.dumps({"errorMessage": message, "errorType": kind}).encode()


def post_error(api, path, kind, message):
    hdrs = "Content-Type: application/json\r\nLambda-Runtime-Function-Error-Type: %s\r\n" % kind
    return api.request("POST", path, error_body(kind, message), hdrs)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except OSError:
            return


def drain(fd):
    os.set_blocking(fd, False)
    parts = []
    try:
        while data := os.read(fd, 262144):
            parts.append(data)
    except OSError:  # BlockingIOError: nothing more for now
        pass
    return b"".join(parts)


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def run(argv, env, event, deadline_ms):
    """Run one handler: (status, stdout or None when too large, stdout size, stderr tail, timed out)."""
    global current
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    actions = [(os.POSIX_SPAWN_DUP2, in_r, 0), (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)]
    try:
        pid = os.posix_spawnp("bash", argv, env, file_actions=actions, setpgroup=0, setsigdef=SIGDEF)
    except OSError:
        for fd in (in_w, out_r, err_r):
            os.close(fd)
        raise
    finally:
        for fd in (in_r, out_w, err_w):
            os.close(fd)
    current = pid
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1  # no pidfd: look at the child every 20 ms instead
    poller = select.poll()
    poller.register(out_r, select.POLLIN)
    poller.register(err_r, select.POLLIN)
    if pidfd >= 0:
        poller.register(pidfd, select.POLLIN)
    pending = memoryview(event)
    if pending:
        os.set_blocking(in_w, False)
        poller.register(in_w, select.POLLOUT)
    else:
        os.close(in_w)
        in_w = -1
    out, size, tail = [], 0, b""
    exited = timed_out = False
    while not exited:
        wait = -1
        if deadline_ms:
            wait = deadline_ms - MARGIN_MS - int(time.time() * 1000)
            if wait <= 0:
                timed_out = True
                break
        if pidfd < 0:
            wait = 20 if wait < 0 else min(wait, 20)
        for fd, _ in poller.poll(wait):
            if fd == pidfd:
                exited = True
            elif fd == in_w:
                try:
                    pending = pending[os.write(in_w, pending[:65536]):]
                except BlockingIOError:
                    continue
                except OSError:  # the handler closed its stdin
                    pending = b""
                if not pending:
                    poller.unregister(in_w)
                    os.close(in_w)
                    in_w = -1
            else:
                data = os.read(fd, 262144)
                if not data:
                    poller.unregister(fd)
                    continue
                if fd == out_r:
                    size += len(data)
                    if out is not None:
                        out.append(data)
                        if size > LIMIT:
                            out = None  # too large: keep counting, stop keeping
                else:
                    write_all(2, data)
                    tail = (tail + data)[-TAIL:]
        if pidfd < 0 and not exited:
            exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    # The handler's process group goes, stragglers included; it is still ours (the leader is
    # not reaped yet), so no other process can be hit.
    kill_group(pid)
    rest = drain(out_r)
    size += len(rest)
    if out is not None:
        out.append(rest)
        if size > LIMIT:
            out = None
    data = drain(err_r)
    write_all(2, data)
    tail = (tail + data)[-TAIL:]
    for fd in (in_w, out_r, err_r, pidfd):
        if fd >= 0:
            os.close(fd)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    current = 0
    return status, None if out is None else b"".join(out), size, tail, timed_out


def stop(signum, frame):
    if current:
        kill_group(current)
    os._exit(128 + signum)


def main():
    env = dict(os.environ)
    api = Api(env["AWS_LAMBDA_RUNTIME_API"])
    handler = env.get("_HANDLER") or "handler.run"
    name, _, function = handler.rpartition(".")
    path = os.path.join(env.get("LAMBDA_TASK_ROOT") or os.getcwd(), name + ".sh")
    if not name or not function:
        kind, message = "Runtime.MalformedHandlerName", "bad handler %r: expected file.function" % handler
    elif not os.path.isfile(path):
        kind, message = "Runtime.NoSuchHandler", "handler file %s not found (handler %r)" % (path, handler)
    else:
        kind = None
    if kind:
        os.write(2, ("bootstrap: %s\n" % message).encode())
        try:
            post_error(api, "/init/error", kind, message)
        except Exception:
            pass
        return 1
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    argv = ["bash", "-c", SCRIPT, "bootstrap", path, function]
    while True:
        status, hdrs, event = api.request("GET", "/invocation/next")
        if status != 200:
            os.write(2, b"bootstrap: next answered %d\n" % status)
            time.sleep(0.1)
            continue
        rid = hdrs.get("lambda-runtime-aws-request-id", "")
        trace = hdrs.get("lambda-runtime-trace-id")
        if trace:
            env["_X_AMZN_TRACE_ID"] = trace
        else:
            env.pop("_X_AMZN_TRACE_ID", None)
        try:
            deadline = int(hdrs.get("lambda-runtime-deadline-ms") or 0)
        except ValueError:
            deadline = 0
        where = "/invocation/%s/" % rid
        try:
            code, out, size, tail, timed_out = run(argv, env, event, deadline)
        except OSError as exc:
            post_error(api, where + "error", "Runtime.HandlerError", "cannot start bash: %s" % exc)
            continue
        text = tail.decode("utf-8", "replace").rstrip()
        if timed_out:
            post_error(api, where + "error", "Runtime.Timeout",
                       "handler killed at its deadline (Lambda-Runtime-Deadline-Ms %d): %s" % (deadline, text))
        elif code != 0:
            what = "exit status %d" % code if code > 0 else "killed by signal %d" % -code
            post_error(api, where + "error", "Runtime.HandlerError", "%s: %s" % (what, text))
        elif out is None:
            post_error(api, where + "error", "Runtime.ResponseTooLarge",
                       "response of %d bytes is over the %d-byte limit" % (size, LIMIT))
        else:
            answer = api.request("POST", where + "response", out)[0]
            if answer == 413:
                post_error(api, where + "error", "Runtime.ResponseTooLarge",
                           "the Runtime API refused a response of %d bytes (413)" % size)
            elif answer >= 300:
                os.write(2, b"bootstrap: response for %s answered %d\n" % (rid.encode(), answer))


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except (OSError, EOFError) as exc:
        os.write(2, ("bootstrap: Runtime API unreachable: %s\n" % exc).encode())
        raise SystemExit(1)
