"""The gateway in front of every endpoint, driven as granian drives it (ASGI messages), with a
fake endpoint: body caps, timeouts, refusals, response checks. Over real sockets:
tests/e2e/test_serve_http.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from lambdasmith.local.apigw import HttpResult
from lambdasmith.local.endpoints import Endpoint
from lambdasmith.local.gateway import DISCARD_LIMIT, Gateway, Request, header_problem
from lambdasmith.local.serve_config import ServeConfig


class Fake(Endpoint):
    name = "fake"
    max_body = 100

    def __init__(self, result: HttpResult | None = None, raises: bool = False) -> None:
        self.result = result or HttpResult(200, [("Content-Type", "text/plain")], b"ok")
        self.raises = raises
        self.seen: list[Request] = []

    def handle(self, request: Request) -> HttpResult:
        self.seen.append(request)
        if self.raises:
            raise RuntimeError("secret detail /srv/app.py")
        return self.result


def run(endpoint: Endpoint, method: str = "GET", path: bytes = b"/x", headers: list[tuple[bytes, bytes]] | None = None,
        chunks: list[bytes] | None = None, stall: bool = False, disconnect: bool = False,
        **config: Any) -> list[dict[str, Any]]:  # fmt: skip
    """One request through a Gateway; the messages it sent."""
    sent: list[dict[str, Any]] = []
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks or []) - 1 or stall}
               for i, c in enumerate(chunks or [])]  # fmt: skip
    if disconnect:
        pending.append({"type": "http.disconnect"})

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)  # a client that sends nothing more
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path.decode(), "raw_path": path, "query_string": b"",
             "headers": headers or [], "client": ("127.0.0.1", "5000")}  # fmt: skip
    gateway = Gateway(endpoint, ServeConfig(access_log=False, **config))
    asyncio.run(gateway(scope, receive, send))
    return sent


def answer(sent: list[dict[str, Any]]) -> tuple[int, dict[str, str], bytes]:
    start, body = sent
    return start["status"], {k.decode(): v.decode("latin-1") for k, v in start["headers"]}, body["body"]


def test_a_request_reaches_the_endpoint_with_its_raw_target_and_body():
    fake = Fake()
    sent = run(fake, "POST", b"/a%2Fb", [(b"content-length", b"4"), (b"x-a", b"1")], chunks=[b"ab", b"cd"])
    assert answer(sent)[0] == 200
    (request,) = fake.seen
    assert request.target == "/a%2Fb" and request.body == b"abcd" and request.header("x-a") == "1"


def test_a_content_length_over_the_cap_is_read_away_and_answered_413_without_calling_the_endpoint():
    fake = Fake()
    status, headers, body = answer(
        run(fake, "POST", headers=[(b"content-length", b"150")], chunks=[b"x" * 100, b"x" * 50])
    )
    assert status == 413 and json.loads(body) == {"message": "Request Entity Too Large"}
    assert "connection" not in headers and fake.seen == []  # read away: the connection stays usable


def test_a_body_too_big_to_read_away_or_awaiting_100_continue_is_refused_unread_and_the_connection_closed():
    for headers in ([(b"content-length", str(DISCARD_LIMIT + 1).encode())],
                    [(b"content-length", b"101"), (b"expect", b"100-continue")]):  # fmt: skip
        status, out, _ = answer(run(Fake(), "POST", headers=headers))
        assert status == 413 and out["connection"] == "close"


def test_a_chunked_body_past_the_cap_is_a_413():
    fake = Fake()
    status, _, _ = answer(run(fake, "POST", headers=[(b"transfer-encoding", b"chunked")], chunks=[b"x" * 60] * 3))
    assert status == 413 and fake.seen == []


def test_a_body_that_stops_arriving_is_a_408_and_the_connection_closes():
    sent = run(Fake(), "POST", headers=[(b"content-length", b"10")], chunks=[b"abc"], stall=True, body_timeout_s=0.2)
    status, headers, body = answer(sent)
    assert status == 408 and headers["connection"] == "close" and json.loads(body) == {"message": "Request Timeout"}


def test_a_client_gone_before_its_body_is_complete_gets_nothing():
    fake = Fake()
    assert run(fake, "POST", headers=[(b"content-length", b"10")], chunks=[b"abc"], stall=True, disconnect=True) == []
    assert fake.seen == []


def test_an_unknown_method_is_a_501_in_the_endpoints_shape():
    status, _, body = answer(run(Fake(), "BREW"))
    assert status == 501 and "BREW" in json.loads(body)["message"]


@pytest.mark.parametrize("headers", [[("Location", "/x\r\nSet-Cookie: a=b")], [("X-A", "a\nb")], [("X-A", "a\0b")],
                                     [("Bad Name", "x")], [("", "x")], [("X:Y", "x")]])  # fmt: skip
def test_response_headers_that_would_break_the_wire_are_a_502(headers, capsys):
    status, out, body = answer(run(Fake(HttpResult(302, headers, b""))))
    assert status == 502 and json.loads(body) == {"message": "Internal Server Error"}
    assert "location" not in out and "set-cookie" not in out
    assert "response refused" in capsys.readouterr().err
    assert header_problem(headers) is not None


def test_framing_headers_of_a_handler_are_the_servers_own():
    result = HttpResult(200, [("Transfer-Encoding", "chunked"), ("Content-Length", "999"), ("Connection", "upgrade"),
                              ("X-Kept", "é")], b"body")  # fmt: skip
    status, headers, body = answer(run(Fake(result)))
    assert body == b"body" and set(headers) == {"x-kept"} and headers["x-kept"] == "é"


def test_head_answers_keep_the_length_and_drop_the_body():
    result = HttpResult(200, [("Content-Length", "42")], b"")
    assert answer(run(Fake(result), "HEAD"))[1:] == ({"content-length": "42"}, b"")
    _, headers, body = answer(run(Fake(HttpResult(200, [], b"12345")), "HEAD"))
    assert headers == {"content-length": "5"} and body == b""


def test_an_endpoint_that_fails_is_a_500_without_its_details(capsys):
    status, _, body = answer(run(Fake(raises=True)))
    assert status == 500 and b"secret" not in body
    assert "RuntimeError: secret detail" in capsys.readouterr().err


def test_the_lifespan_starts_and_stops_the_endpoint():
    calls: list[str] = []

    class Lived(Fake):
        def start(self) -> None:
            calls.append("start")

        def stop(self) -> None:
            calls.append("stop")

    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(Gateway(Lived(), ServeConfig())({"type": "lifespan"}, receive, send))
    assert calls == ["start", "stop"]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.mark.parametrize("status", [100, 101, 199, 600, 0])
def test_a_status_that_is_not_a_final_http_status_is_a_502(status, capsys):
    assert answer(run(Fake(HttpResult(status, [], b"x"))))[0] == 502
    assert "not a final HTTP status" in capsys.readouterr().err


def test_a_content_length_that_is_not_a_number_is_a_400():
    fake = Fake()
    status, headers, _ = answer(run(fake, "POST", headers=[(b"content-length", b"5, 5")], chunks=[b"12345"]))
    assert status == 400 and headers["connection"] == "close" and fake.seen == []
