"""Where a function's AWS credentials come from, in the order the SDKs look:

1. environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (what Lambda sets);
2. a container endpoint: AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, with
   AWS_CONTAINER_AUTHORIZATION_TOKEN or _TOKEN_FILE (Lambda SnapStart, ECS, local emulators);
3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_PROFILE).

Temporary credentials are refreshed five minutes before they expire.
"""

from __future__ import annotations

import json
import os
import threading
import time

from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Mapping

__all__ = [
    "CONTAINER_HOST",
    "REFRESH_BEFORE_S",
    "Credentials",
    "NoCredentials",
    "region",
    "from_env",
    "from_container",
    "from_shared_file",
    "CredentialProvider",
]

CONTAINER_HOST = "http://169.254.170.2"
REFRESH_BEFORE_S = 300


class Credentials(Record):
    __slots__ = ("access_key", "secret_key", "token", "expires")
    _defaults = {"token": None, "expires": None}

    access_key: str
    secret_key: str
    token: str | None
    expires: float | None  # epoch seconds; None for long-term keys

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(access_key={self.access_key!r}, expires={self.expires!r})"


class NoCredentials(Exception):
    pass


def region(env: Mapping[str, str] = os.environ) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def from_env(env: Mapping[str, str]) -> Credentials | None:
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return Credentials(key, secret, env.get("AWS_SESSION_TOKEN") or None)
    return None


def from_container(env: Mapping[str, str], timeout: float = 2.0) -> Credentials | None:
    url = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if not url and env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        url = CONTAINER_HOST + env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
    if not url:
        return None
    from lambdasmith.kit.http.wire import Pool

    headers = [("Accept", "application/json")]
    token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if not token and env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
        with open(env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], encoding="utf-8") as f:
            token = f.read().strip()
    if token:
        headers.append(("Authorization", token))
    pool = Pool(timeout)
    try:
        resp = pool.request("GET", url, headers)
    finally:
        pool.close()
    if resp.status != 200:
        raise NoCredentials(f"container credentials endpoint answered {resp.status}")
    data = json.loads(resp.body)
    return Credentials(data["AccessKeyId"], data["SecretAccessKey"], data.get("Token"), _epoch(data.get("Expiration")))


def from_shared_file(env: Mapping[str, str]) -> Credentials | None:
    path = env.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(os.path.expanduser("~"), ".aws", "credentials")
    if not os.path.exists(path):
        return None
    import configparser

    parser = configparser.RawConfigParser()
    parser.read(path, encoding="utf-8")
    profile = env.get("AWS_PROFILE") or "default"
    if not parser.has_section(profile):
        return None
    sec = parser[profile]
    if not sec.get("aws_access_key_id") or not sec.get("aws_secret_access_key"):
        return None
    return Credentials(sec["aws_access_key_id"], sec["aws_secret_access_key"], sec.get("aws_session_token") or None)


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


class CredentialProvider:
    """Resolves once, caches, refreshes temporary credentials ahead of expiry; thread-safe."""

    def __init__(self, env: Mapping[str, str] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.env = env
        self.clock = clock
        self._cached: Credentials | None = None
        self._lock = threading.Lock()

    def get(self) -> Credentials:
        c = self._cached
        if c is not None and (c.expires is None or c.expires - self.clock() > REFRESH_BEFORE_S):
            return c
        with self._lock:
            c = self._cached
            if c is None or (c.expires is not None and c.expires - self.clock() <= REFRESH_BEFORE_S):
                env = os.environ if self.env is None else self.env
                for source in (from_env, from_container, from_shared_file):
                    c = source(env)
                    if c is not None:
                        break
                if c is None:
                    raise NoCredentials("no AWS credentials in the environment, container endpoint or shared file")
                self._cached = c
            return c
