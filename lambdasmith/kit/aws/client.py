"""The AWS JSON protocol (DynamoDB, SQS, Secrets Manager, SSM): one signed POST per operation.

Endpoints: explicit > AWS_ENDPOINT_URL_<SERVICE> > AWS_ENDPOINT_URL > https://<prefix>.<region>.amazonaws.com.
Retries: throttling, 5xx and connection errors, with full-jitter exponential backoff; every
attempt is signed afresh. Connections are kept alive between warm invocations.
"""

from __future__ import annotations

import json
import os
import time

from lambdasmith.kit.aws import errors, sigv4
from lambdasmith.kit.aws.credentials import CredentialProvider, region as default_region
from lambdasmith.kit.http.wire import Pool, WireError, split_url
from lambdasmith.kit.retry import full_jitter
from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping

__all__ = [
    "USER_AGENT",
    "Service",
    "DYNAMODB",
    "SQS",
    "SECRETS_MANAGER",
    "SSM",
    "shared_pool",
    "endpoint_for",
    "JsonClient",
]

USER_AGENT = "lambdasmith/0.1"


class Service(Record):
    __slots__ = ("signing_name", "target_prefix", "json_version", "env_suffix", "host_prefix")

    signing_name: str
    target_prefix: str
    json_version: str
    env_suffix: str  # AWS_ENDPOINT_URL_<this>
    host_prefix: str


DYNAMODB = Service("dynamodb", "DynamoDB_20120810", "1.0", "DYNAMODB", "dynamodb")
SQS = Service("sqs", "AmazonSQS", "1.0", "SQS", "sqs")
SECRETS_MANAGER = Service("secretsmanager", "secretsmanager", "1.1", "SECRETS_MANAGER", "secretsmanager")
SSM = Service("ssm", "AmazonSSM", "1.1", "SSM", "ssm")

_shared_pool: Pool | None = None
_shared_credentials: CredentialProvider | None = None


def shared_pool() -> Pool:
    """The process's keep-alive pool, used by every client not given a pool of its own."""
    global _shared_pool
    pool = _shared_pool
    if pool is None:
        pool = _shared_pool = Pool(10.0, max_idle_per_origin=16)
    return pool


def _forget_inherited_connections() -> None:
    """In a forked child: never reuse the parent's sockets (two processes writing to one
    connection would read each other's responses). The child just forgets its copies — no
    shutdown is sent — so the parent's connections stay usable; its next request opens anew."""
    global _shared_pool
    _shared_pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_connections)


def endpoint_for(service: Service, region: str, env: Mapping[str, str] = os.environ) -> str:
    url = env.get(f"AWS_ENDPOINT_URL_{service.env_suffix}") or env.get("AWS_ENDPOINT_URL")
    return (url or f"https://{service.host_prefix}.{region}.amazonaws.com").rstrip("/")


class JsonClient:
    def __init__(
        self,
        service: Service,
        *,
        region: str | None = None,
        endpoint: str | None = None,
        credentials: CredentialProvider | None = None,
        pool: Pool | None = None,
        max_attempts: int = 4,
        backoff_base: float = 0.05,
        backoff_cap: float = 5.0,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] | None = None,
    ):
        global _shared_credentials
        self.service = service
        self.region = region or default_region()
        self.endpoint = endpoint or endpoint_for(service, self.region)
        scheme, host, port, path = split_url(self.endpoint)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 literal
        self.host = host if port == (443 if scheme == "https" else 80) else f"{host}:{port}"
        self.path = path.split("?")[0] or "/"
        self.url = f"{scheme}://{self.host}{self.path}"  # the endpoint's own path included once
        if credentials is None:
            _shared_credentials = _shared_credentials or CredentialProvider()
            credentials = _shared_credentials
        self.credentials = credentials
        self._pool = pool  # None: the shared pool, looked up per request so a fork can reset it
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.timeout = timeout
        self.sleep = sleep
        self.rng = rng

    @property
    def pool(self) -> Pool:
        return self._pool if self._pool is not None else shared_pool()

    def call(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """One operation; its response as a dict, or a typed `errors.AwsError`."""
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        base = {
            "Host": self.host,
            "Content-Type": f"application/x-amz-json-{self.service.json_version}",
            "X-Amz-Target": f"{self.service.target_prefix}.{operation}",
        }
        attempt = 0
        while True:
            attempt += 1
            creds = self.credentials.get()
            headers = sigv4.sign(
                "POST", self.path, "", base, body,
                access_key=creds.access_key, secret_key=creds.secret_key, token=creds.token,
                region=self.region, service=self.service.signing_name,
            )  # fmt: skip
            headers["User-Agent"] = USER_AGENT
            try:
                resp = self.pool.request("POST", self.url, list(headers.items()), body, self.timeout)
            except (OSError, WireError):  # connection refused/reset, timeouts
                if attempt >= self.max_attempts:
                    raise
                self._backoff(attempt)
                continue
            if resp.status == 200:
                return json.loads(resp.body) if resp.body.strip() else {}
            try:
                data = json.loads(resp.body) if resp.body.strip() else {}
            except ValueError:
                data = {"message": resp.body[:200].decode("utf-8", "replace")}
            err = errors.from_response(resp.status, data if isinstance(data, dict) else {}, resp.header("x-amzn-query-error"))
            retry = err.code in errors.RETRYABLE or isinstance(err, errors.Throttled) or resp.status >= 500
            if not retry or attempt >= self.max_attempts:
                raise err
            self._backoff(attempt)

    def _backoff(self, attempt: int) -> None:
        self.sleep(full_jitter(attempt - 1, self.backoff_base, self.backoff_cap, self.rng))
