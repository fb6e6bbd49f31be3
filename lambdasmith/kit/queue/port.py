"""The queue port: a small model of an SQS standard queue that every backend implements alike.

Services talk to a queue through `Queue`, the base class of every backend: it checks each
request once (the shared checks below) before the backend sees it. The embedded SQLite backend
(`queue.sqlite`) and the SQS backend (`queue.sqs`) both pass `tests/conformance/test_queue.py`, so a worker behaves the
same on a laptop and on AWS.

Model (the SQS semantics we keep):
- `send` stores a string body (plus up to 10 string message attributes) and returns a message
  id; `delay_s` keeps it invisible for that long. Body and attributes together may not exceed
  256 KiB (`MessageTooLarge`, checked before anything goes over the wire);
- `receive` hands out up to 10 visible messages, oldest first (roughly: SQS standard queues do
  not promise order). Each receive bumps the message's `receive_count`, hides it for
  `visibility_timeout_s` and issues a fresh receipt handle; the message reappears when the
  timeout passes unless it was deleted first. `wait_s` long-polls until a message arrives;
- a receipt handle is valid until the message is received again: a consumer whose timeout ran
  out must not delete the copy someone else is now working on. (SQS answers such a stale delete
  with success and does nothing; the embedded backend reports it as not deleted);
- redrive: a queue configured with a dead-letter queue and `max_receive_count` moves a message
  to the DLQ on the receive that would push its receive count past `max_receive_count`
  (delivered `max_receive_count` times at most, then moved; nothing is dropped);
- `approximate_count` counts visible messages (not delayed, not in flight).

Errors: `QueueError`, and its kinds `QueueNotFound`, `InvalidReceipt`, `MessageTooLarge`.
Arguments outside SQS's ranges (10 messages, 12 h of visibility, 15 min of delay, 20 s of long
poll) raise `ValueError`.
"""

from __future__ import annotations

from lambdasmith.kit.values import Record

TYPE_CHECKING = False  # typing costs a cold start ~10 ms; only type checkers read these imports
if TYPE_CHECKING:
    from typing import Iterable, Mapping

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_BATCH",
    "MAX_ATTRIBUTES",
    "MAX_VISIBILITY_TIMEOUT_S",
    "MAX_DELAY_S",
    "MAX_WAIT_S",
    "STRING_TYPE",
    "Message",
    "QueueError",
    "QueueNotFound",
    "InvalidReceipt",
    "MessageTooLarge",
    "Queue",
    "message_size",
    "check_message",
    "check_receive",
    "check_visibility",
    "check_redrive",
]

MAX_MESSAGE_BYTES = 256 * 1024  # body + attribute names, types and values
MAX_BATCH = 10  # messages per receive / entries per batch call
MAX_ATTRIBUTES = 10
MAX_VISIBILITY_TIMEOUT_S = 12 * 60 * 60
MAX_DELAY_S = 15 * 60
MAX_WAIT_S = 20
STRING_TYPE = "String"  # the SQS DataType our attributes travel as


class Message(Record):
    """One delivery of a message: `receipt` is what `delete_batch`/`change_visibility` take."""

    __slots__ = ("id", "receipt", "body", "attributes", "receive_count", "sent_at")
    __match_args__ = ("id", "receipt", "body", "attributes", "receive_count", "sent_at")
    _defaults = {"attributes": dict, "receive_count": 1, "sent_at": 0.0}

    id: str
    receipt: str
    body: str
    attributes: dict[str, str]  # message attributes (SQS DataType String)
    receive_count: int  # including this receive
    sent_at: float  # epoch seconds


# ---------------------------------------------------------------------------- errors


class QueueError(Exception):
    """A queue operation failed; the backend's own error, if any, is the `__cause__`."""


class QueueNotFound(QueueError):
    pass


class InvalidReceipt(QueueError):
    """The receipt handle is unknown, or stale (the message was received again since)."""


class MessageTooLarge(QueueError):
    pass


# ---------------------------------------------------------------------------- the port


class Queue:
    """The queue port. Public methods check their arguments once (the shared checks below),
    then call the backend's hook (`_send`, `_receive`, …), which sees only valid input."""

    name: str

    def send(self, body: str, attributes: Mapping[str, str] | None = None, delay_s: int = 0) -> str:
        """Enqueue one message; its id."""
        check_message(body, attributes, delay_s)
        return self._send(body, attributes, delay_s)

    def send_batch(self, bodies: Iterable[str]) -> list[str]:
        """Enqueue several messages (any number; sent 10 at a time); their ids, in order."""
        bodies = list(bodies)
        for body in bodies:
            check_message(body)
        return self._send_batch(bodies) if bodies else []

    def receive(self, max_messages: int = 10, visibility_timeout_s: int = 30, wait_s: float = 0) -> list[Message]:
        """Up to `max_messages` (1..10) visible messages, each hidden for the timeout."""
        check_receive(max_messages, visibility_timeout_s, wait_s)
        return self._receive(max_messages, visibility_timeout_s, wait_s)

    def delete_batch(self, receipts: Iterable[str]) -> list[str]:
        """Delete by receipt; the receipts that could not be deleted (unknown or stale)."""
        receipts = list(receipts)
        return self._delete_batch(receipts) if receipts else []

    def change_visibility(self, receipt: str, timeout_s: int) -> None:
        """Hide the received message for `timeout_s` from now (0: visible at once)."""
        check_visibility(timeout_s)
        self._change_visibility(receipt, timeout_s)

    def approximate_count(self) -> int:
        """Visible messages: neither delayed nor in flight."""
        raise NotImplementedError

    def purge(self) -> None:
        """Drop every message (tests and tooling)."""
        raise NotImplementedError

    # ------------------------------------------------------------------------ backend hooks

    def _send(self, body: str, attributes: Mapping[str, str] | None, delay_s: int) -> str:
        raise NotImplementedError

    def _send_batch(self, bodies: list[str]) -> list[str]:
        raise NotImplementedError

    def _receive(self, max_messages: int, visibility_timeout_s: int, wait_s: float) -> list[Message]:
        raise NotImplementedError

    def _delete_batch(self, receipts: list[str]) -> list[str]:
        raise NotImplementedError

    def _change_visibility(self, receipt: str, timeout_s: int) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------- shared checks


def message_size(body: str, attributes: Mapping[str, str] | None = None) -> int:
    """Bytes SQS counts against the limit: the body plus each attribute's name, type and value."""
    size = len(body.encode("utf-8"))
    for name, value in (attributes or {}).items():
        size += len(name.encode("utf-8")) + len(STRING_TYPE) + len(value.encode("utf-8"))
    return size


_invalid_chars = None


def check_message(body: str, attributes: Mapping[str, str] | None = None, delay_s: int = 0) -> None:
    """What SQS would reject, rejected before sending so every backend refuses the same input."""
    global _invalid_chars
    if not isinstance(body, str):
        raise TypeError(f"message body must be str, not {type(body).__name__}")
    if not body:
        raise ValueError("message body must not be empty")
    if attributes:
        if len(attributes) > MAX_ATTRIBUTES:
            raise ValueError(f"at most {MAX_ATTRIBUTES} message attributes, got {len(attributes)}")
        for name, value in attributes.items():
            if not isinstance(name, str) or not name or not isinstance(value, str) or not value:
                raise ValueError(f"message attribute {name!r}: name and value must be non-empty strings")
    if not 0 <= delay_s <= MAX_DELAY_S:
        raise ValueError(f"delay_s must be within 0..{MAX_DELAY_S}, got {delay_s}")
    if _invalid_chars is None:
        import re

        # The characters an SQS message may carry (XML 1.0 Char): no other control characters,
        # no unpaired surrogates.
        _invalid_chars = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    for text in (body, *(attributes or {}).values()):
        bad = _invalid_chars.search(text)
        if bad:
            raise ValueError(f"message contains a character SQS refuses: {bad.group()!r}")
    size = message_size(body, attributes)
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"message is {size} bytes; the limit is {MAX_MESSAGE_BYTES}")


def check_receive(max_messages: int, visibility_timeout_s: int, wait_s: float) -> None:
    if not 1 <= max_messages <= MAX_BATCH:
        raise ValueError(f"max_messages must be within 1..{MAX_BATCH}, got {max_messages}")
    check_visibility(visibility_timeout_s)
    if not 0 <= wait_s <= MAX_WAIT_S:
        raise ValueError(f"wait_s must be within 0..{MAX_WAIT_S}, got {wait_s}")


def check_visibility(timeout_s: int) -> None:
    if not 0 <= timeout_s <= MAX_VISIBILITY_TIMEOUT_S:
        raise ValueError(f"visibility timeout must be within 0..{MAX_VISIBILITY_TIMEOUT_S} s, got {timeout_s}")


def check_redrive(dlq: str | None, max_receive_count: int | None) -> None:
    if (dlq is None) != (max_receive_count is None):
        raise ValueError("a redrive policy needs both dlq and max_receive_count")
    if max_receive_count is not None and not 1 <= max_receive_count <= 1000:
        raise ValueError(f"max_receive_count must be within 1..1000, got {max_receive_count}")
