"""lambdasmith.kit.observability.logs: Powertools-shaped JSON log lines."""

import io
import json

from lambdasmith.kit.observability.logs import Logger


def test_log_line_has_powertools_keys():
    out = io.StringIO()
    log = Logger("svc", stream=out)

    class Ctx:
        function_name, aws_request_id, memory_limit_in_mb, invoked_function_arn = "fn", "r-1", 128, "arn:x"

    log.bind(Ctx(), correlation_id="corr-1")
    log.info("hello", extra_key=5)
    line = json.loads(out.getvalue())
    for k in ("level", "location", "message", "timestamp", "service", "cold_start", "function_name",
              "function_request_id", "correlation_id"):
        assert k in line, k
    assert line["message"] == "hello" and line["extra_key"] == 5 and line["function_request_id"] == "r-1"
    assert line["location"].startswith("test_log_line_has_powertools_keys:")
    log.bind(Ctx())
    log.info("again")
    assert json.loads(out.getvalue().splitlines()[1])["cold_start"] is False


def test_log_level_filters():
    out = io.StringIO()
    Logger("svc", level="WARNING", stream=out).info("quiet")
    assert out.getvalue() == ""


def test_service_resolves_as_in_powertools_argument_then_environment_then_default(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    assert Logger(default_service="items").service == "items"
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "lambda-production-readiness")
    assert Logger(default_service="items").service == "lambda-production-readiness"
    assert Logger("explicit").service == "explicit"
