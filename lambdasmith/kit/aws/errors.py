"""AWS error codes as exceptions a backend can catch by meaning, not by string."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "AwsError",
    "ConditionalCheckFailed",
    "TransactionCanceled",
    "ResourceNotFound",
    "Throttled",
    "ValidationFailed",
    "AccessDenied",
    "THROTTLING",
    "RETRYABLE",
    "from_response",
]


class AwsError(Exception):
    def __init__(self, code: str, message: str, status: int, body: dict[str, Any] | None = None):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status
        self.body = body or {}


class ConditionalCheckFailed(AwsError):
    pass


class TransactionCanceled(AwsError):
    @property
    def reasons(self) -> list[str | None]:
        """One code per operation; None where that operation would have succeeded."""
        out: list[str | None] = []
        for r in self.body.get("CancellationReasons") or []:
            code = (r or {}).get("Code")
            out.append(None if code in (None, "None") else code)
        return out


class ResourceNotFound(AwsError):
    pass


class Throttled(AwsError):
    pass


class ValidationFailed(AwsError):
    pass


class AccessDenied(AwsError):
    pass


THROTTLING = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "EC2ThrottledException", "PriorRequestNotComplete",
})  # fmt: skip
RETRYABLE = THROTTLING | {"TransactionConflictException", "InternalServerError", "ServiceUnavailable",
                          "RequestTimeout", "RequestTimeoutException"}

_BY_CODE: dict[str, type[AwsError]] = {
    "ConditionalCheckFailedException": ConditionalCheckFailed,
    "TransactionCanceledException": TransactionCanceled,
    "ResourceNotFoundException": ResourceNotFound,
    "QueueDoesNotExist": ResourceNotFound,
    "AWS.SimpleQueueService.NonExistentQueue": ResourceNotFound,
    "ParameterNotFound": ResourceNotFound,
    "ValidationException": ValidationFailed,
    "AccessDeniedException": AccessDenied,
    "UnrecognizedClientException": AccessDenied,
    "InvalidSignatureException": AccessDenied,
}


def from_response(status: int, body: dict[str, Any], query_error: str | None = None) -> AwsError:
    """Build the typed error from a JSON-protocol error response."""
    raw = str(body.get("__type") or body.get("code") or body.get("Code") or "")
    code = raw.rsplit("#", 1)[-1] or (query_error.split(";")[0] if query_error else f"HTTP{status}")
    message = str(body.get("message") or body.get("Message") or "")
    cls = _BY_CODE.get(code)
    if cls is None and query_error:
        cls = _BY_CODE.get(query_error.split(";")[0])
    if cls is None:
        cls = Throttled if code in THROTTLING else AwsError
    return cls(code, message, status, body)
