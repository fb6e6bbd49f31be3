"""Structured JSON logs with the keys Powertools users already query.

One JSON object per line: level, location, message, timestamp, service, cold_start,
function_name, function_request_id, xray_trace_id, correlation_id, plus any extra keys.
"""

from __future__ import annotations

import json
import os
import sys
import time

from lambdasmith.kit.clock import utc_stamp_ms

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

__all__ = ["Logger"]

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_cold = True  # module state survives warm invocations, exactly like Lambda's


def _timestamp(now: float) -> str:
    return utc_stamp_ms(now, "%Y-%m-%d %H:%M:%S", ",", "+0000")  # Powertools' (logging's) format


class Logger:
    """Service name as in Powertools: an explicit argument, else POWERTOOLS_SERVICE_NAME, else the
    handler's own default."""

    def __init__(self, service: str | None = None, level: str | None = None, stream: TextIO | None = None, *,
                 default_service: str = "service_undefined"):  # fmt: skip
        self.service = service or os.environ.get("POWERTOOLS_SERVICE_NAME") or default_service
        name = (level or os.environ.get("POWERTOOLS_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "INFO").upper()
        self.level = _LEVELS.get(name, 20)
        self.stream = stream
        self.keys: dict[str, Any] = {}

    def bind(self, context: Any = None, correlation_id: str | None = None) -> None:
        """Start an invocation: function keys from the Lambda context, cold start, correlation id."""
        global _cold
        self.keys = {
            "cold_start": _cold,
            "function_name": getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            "function_memory_size": getattr(context, "memory_limit_in_mb", None),
            "function_arn": getattr(context, "invoked_function_arn", None),
            "function_request_id": getattr(context, "aws_request_id", None),
            "correlation_id": correlation_id,
        }
        _cold = False

    def log(self, level: str, message: str, exc: BaseException | None = None, **extra: Any) -> None:
        if _LEVELS[level] < self.level:
            return
        now = time.time()
        frame = sys._getframe(2)
        line: dict[str, Any] = {
            "level": level,
            "location": f"{frame.f_code.co_name}:{frame.f_lineno}",
            "message": message,
            "timestamp": _timestamp(now),
            "service": self.service,
        }
        line.update({k: v for k, v in self.keys.items() if v is not None})
        trace = os.environ.get("_X_AMZN_TRACE_ID")
        if trace:
            line["xray_trace_id"] = trace.split(";")[0].removeprefix("Root=")
        line.update(extra)
        if exc is not None:
            import traceback

            line["exception_name"] = type(exc).__name__
            line["exception"] = "".join(traceback.format_exception(exc)).rstrip()
        (self.stream or sys.stdout).write(json.dumps(line, default=str, ensure_ascii=False) + "\n")

    def debug(self, message: str, **extra: Any) -> None:
        self.log("DEBUG", message, **extra)

    def info(self, message: str, **extra: Any) -> None:
        self.log("INFO", message, **extra)

    def warning(self, message: str, **extra: Any) -> None:
        self.log("WARNING", message, **extra)

    def error(self, message: str, **extra: Any) -> None:
        self.log("ERROR", message, **extra)

    def exception(self, message: str, exc: BaseException, **extra: Any) -> None:
        self.log("ERROR", message, exc=exc, **extra)
