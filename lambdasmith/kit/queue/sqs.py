"""The SQS queue backend, over the SQS JSON protocol (`X-Amz-Target: AmazonSQS.<Operation>`).

Redrive is SQS's own: a RedrivePolicy on the source queue (`create_queue` sets one up). Message
attributes travel as DataType `String`; attributes of other types that someone else sent arrive
as their string value (Binary ones base64-encoded).

Notes on SQS that the port documents in general terms:
- a delete with a stale receipt handle (the message was received again since) succeeds on SQS
  without deleting anything, so `delete_batch` cannot report it; only receipts SQS rejects
  outright (malformed, or for another queue) come back as failed;
- long polls (`wait_s`) are capped at 20 s by SQS, and at a second under the HTTP timeout of
  the client, so a poll never outlives its request.
"""

from __future__ import annotations

import json

from lambdasmith.kit.aws import errors
from lambdasmith.kit.queue.port import (
    MAX_BATCH,
    MAX_MESSAGE_BYTES,
    STRING_TYPE,
    InvalidReceipt,
    Message,
    Queue,
    QueueError,
    QueueNotFound,
    check_redrive,
    check_visibility,
    message_size,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping

    from lambdasmith.kit.aws.client import JsonClient

__all__ = ["SqsQueue", "create_queue", "CLIENT_TIMEOUT_S"]

# Long polls hold a request open for up to 20 s: the client's timeout must outlast them.
CLIENT_TIMEOUT_S = 30.0
_RECEIPT_ERRORS = frozenset({"ReceiptHandleIsInvalid", "InvalidReceiptHandle", "MessageNotInflight"})


def _client(client: JsonClient | None, region: str | None = None, endpoint: str | None = None) -> JsonClient:
    if client is not None:
        return client
    from lambdasmith.kit.aws.client import SQS, JsonClient

    return JsonClient(SQS, region=region, endpoint=endpoint, timeout=CLIENT_TIMEOUT_S)


def _is_url(s: str) -> bool:
    return s.startswith(("https://", "http://"))


def _call(client: JsonClient, operation: str, payload: Mapping[str, Any], queue: str) -> dict[str, Any]:
    try:
        return client.call(operation, payload)
    except errors.ResourceNotFound as e:
        raise QueueNotFound(f"SQS queue {queue!r} does not exist") from e
    except errors.AwsError as e:
        if e.code in _RECEIPT_ERRORS:
            raise InvalidReceipt(str(e)) from e
        raise QueueError(f"SQS {operation} on {queue!r}: {e}") from e


class SqsQueue(Queue):
    """An SQS queue by URL or by name (resolved with GetQueueUrl on first use)."""

    def __init__(
        self,
        url_or_name: str,
        client: JsonClient | None = None,
        *,
        region: str | None = None,
        endpoint: str | None = None,
    ):
        self.client = _client(client, region, endpoint)
        self._url = url_or_name if _is_url(url_or_name) else None
        self.name = url_or_name.rstrip("/").rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return f"SqsQueue({self._url or self.name!r})"

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = _call(self.client, "GetQueueUrl", {"QueueName": self.name}, self.name)["QueueUrl"]
        return self._url

    def _call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        payload["QueueUrl"] = self.url
        return _call(self.client, operation, payload, self.name)

    # -------------------------------------------------------------------- sending

    def _send(self, body: str, attributes: Mapping[str, str] | None, delay_s: int) -> str:
        payload: dict[str, Any] = {"MessageBody": body}
        if attributes:
            payload["MessageAttributes"] = {
                k: {"DataType": STRING_TYPE, "StringValue": v} for k, v in attributes.items()
            }
        if delay_s:
            payload["DelaySeconds"] = delay_s
        return self._call("SendMessage", payload)["MessageId"]

    def _send_batch(self, bodies: list[str]) -> list[str]:
        """Sent in requests of at most 10 messages and 256 KiB; their ids, in order.

        A message SQS refuses raises `QueueError` after the rest of the batch was sent; its
        `sent` attribute lists the ids that made it (None for the refused ones).
        """
        chunks: list[list[int]] = []
        size = 0
        for i, body in enumerate(bodies):
            n = message_size(body)
            if not chunks or len(chunks[-1]) == MAX_BATCH or size + n > MAX_MESSAGE_BYTES:
                chunks.append([])
                size = 0
            chunks[-1].append(i)
            size += n
        ids: list[str | None] = [None] * len(bodies)
        failures: list[str] = []
        for chunk in chunks:
            entries = [{"Id": str(i), "MessageBody": bodies[i]} for i in chunk]
            result = self._call("SendMessageBatch", {"Entries": entries})
            for ok in result.get("Successful") or []:
                ids[int(ok["Id"])] = ok["MessageId"]
            for bad in result.get("Failed") or []:
                failures.append(f"message {bad.get('Id')}: {bad.get('Code')} {bad.get('Message', '')}".strip())
        if failures or any(mid is None for mid in ids):
            err = QueueError(f"SQS refused {len(failures) or 'some'} of {len(bodies)} messages: {'; '.join(failures)}")
            err.sent = ids  # type: ignore[attr-defined]
            raise err
        return ids  # type: ignore[return-value]

    # -------------------------------------------------------------------- receiving

    def _receive(self, max_messages: int, visibility_timeout_s: int, wait_s: float) -> list[Message]:
        wait = min(int(-(-wait_s // 1)), max(0, int(self.client.timeout) - 1))  # whole seconds, rounded up
        result = self._call(
            "ReceiveMessage",
            {
                "MaxNumberOfMessages": max_messages,
                "VisibilityTimeout": visibility_timeout_s,
                "WaitTimeSeconds": wait,
                "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
                "AttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],  # its older name
                "MessageAttributeNames": ["All"],
            },
        )
        return [_message(m) for m in result.get("Messages") or []]

    # -------------------------------------------------------------------- after receiving

    def _delete_batch(self, receipts: list[str]) -> list[str]:
        failed: list[str] = []
        for start in range(0, len(receipts), MAX_BATCH):
            chunk = receipts[start : start + MAX_BATCH]
            entries = [{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(chunk)]
            result = self._call("DeleteMessageBatch", {"Entries": entries})
            failed.extend(chunk[int(f["Id"])] for f in result.get("Failed") or [])
        return failed

    def _change_visibility(self, receipt: str, timeout_s: int) -> None:
        self._call("ChangeMessageVisibility", {"ReceiptHandle": receipt, "VisibilityTimeout": timeout_s})

    # -------------------------------------------------------------------- the whole queue

    def approximate_count(self) -> int:
        result = self._call("GetQueueAttributes", {"AttributeNames": ["ApproximateNumberOfMessages"]})
        return int((result.get("Attributes") or {}).get("ApproximateNumberOfMessages", 0))

    def purge(self) -> None:
        """PurgeQueue. SQS allows one purge per queue per 60 s; moto does not enforce it."""
        self._call("PurgeQueue", {})


def _message(m: Mapping[str, Any]) -> Message:
    system = m.get("Attributes") or {}
    attributes = {}
    for name, value in (m.get("MessageAttributes") or {}).items():
        v = value.get("StringValue")
        attributes[name] = v if v is not None else str(value.get("BinaryValue", ""))
    return Message(
        m["MessageId"],
        m["ReceiptHandle"],
        m.get("Body", ""),
        attributes,
        int(system.get("ApproximateReceiveCount", 1)),
        int(system.get("SentTimestamp", 0)) / 1000,
    )


def create_queue(
    name: str,
    *,
    dlq_name: str | None = None,
    max_receive_count: int | None = None,
    visibility_timeout_s: int = 30,
    client: JsonClient | None = None,
) -> str:
    """Create (or reconfigure) queue `name`, and its DLQ with a RedrivePolicy; the queue's URL.

    For tests and setup scripts; infrastructure as code should own real queues.
    """
    check_redrive(dlq_name, max_receive_count)
    check_visibility(visibility_timeout_s)
    client = _client(client)
    attributes = {"VisibilityTimeout": str(visibility_timeout_s)}
    if dlq_name is not None:
        dlq_url = _call(client, "CreateQueue", {"QueueName": dlq_name}, dlq_name)["QueueUrl"]
        arn = _call(client, "GetQueueAttributes", {"QueueUrl": dlq_url, "AttributeNames": ["QueueArn"]}, dlq_name)
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": max_receive_count}
        )
    try:
        return _call(client, "CreateQueue", {"QueueName": name, "Attributes": attributes}, name)["QueueUrl"]
    except QueueError as e:
        code = getattr(e.__cause__, "code", "")
        if code not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
    # It exists with other attributes: bring them in line.
    url = _call(client, "GetQueueUrl", {"QueueName": name}, name)["QueueUrl"]
    _call(client, "SetQueueAttributes", {"QueueUrl": url, "Attributes": attributes}, name)
    return url
