"""A fake GitHub Actions OIDC issuer on 127.0.0.1, for end-to-end tests of token verification.

Serves what a verifier and a workflow's token request read, shaped like GitHub's:

    GET /.well-known/openid-configuration  → {"issuer": "http://127.0.0.1:PORT", "jwks_uri": ".../jwks", ...}
    GET /jwks                              → {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid", "n", "e"}]}
    GET /token?api-version=2.0&audience=X  → {"value": "<JWT>"}; needs `Authorization: Bearer <request token>`

The last is what a workflow with `permissions: id-token: write` calls: GitHub sets
ACTIONS_ID_TOKEN_REQUEST_URL (already carrying a query, so clients append `&audience=`) and
ACTIONS_ID_TOKEN_REQUEST_TOKEN; `actions_env()` gives both for this fake.

    with FakeIssuer() as issuer:
        token = issuer.mint({"repository": "other/repo"})      # GitHub-like claims, overrides merged
        issuer.mint(key=issuer.foreign_key)                     # signed by a key it never published
        issuer.mint(alg="none"); issuer.mint(alg="HS256")       # unsigned; MACed with the public key PEM
        issuer.rotate()                                         # a new current key, the old one still published

Keys come from `cryptography` (a test dependency); tokens are built by hand, not by PyJWT, so
that the fake does not share a reading of JWTs with either verifier it tests. The HTTP side is
the fake upstreams' own server (`tests.support.upstreams.FakeServer`: keep-alive, counters,
failure injection).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from typing import Any, Callable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.upstreams import FakeServer, Reply, Request, json_reply

__all__ = ["OMIT", "FakeIssuer", "new_key", "public_jwk"]

OMIT: Any = object()
"""A claim or header value that removes the member: `mint({"exp": OMIT})`."""


def new_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return _b64u(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": _uint(numbers.n), "e": _uint(numbers.e)}


def _merge(base: dict, changes: dict | None) -> dict:
    out = dict(base)
    for name, value in (changes or {}).items():
        if value is OMIT:
            out.pop(name, None)
        else:
            out[name] = value
    return out


class FakeIssuer(FakeServer):
    """The issuer, its keys and its HTTP server; a context manager (or `start()` / `stop()`)."""

    def __init__(
        self,
        *,
        audience: str = "lambdasmith-badges",
        repository: str = "owner/repo",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.audience = audience
        self.repository = repository
        self.clock = clock
        self.request_token = secrets.token_urlsafe(24)
        self._keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self._foreign: rsa.RSAPrivateKey | None = None
        self._lock = threading.Lock()
        self.jwks_requests = 0
        self.discovery_requests = 0
        self.token_requests = 0
        self.rotate()
        self.issuer = self.url

    def route(self, request: Request) -> Reply:
        if request.path == "/.well-known/openid-configuration":
            self._count("discovery_requests")
            return json_reply(200, self.configuration())
        if request.path == "/jwks":
            self._count("jwks_requests")
            return json_reply(200, self.jwks())
        if request.path == "/token":
            self._count("token_requests")
            if request.headers.get("authorization") != f"Bearer {self.request_token}":
                return json_reply(401, {"message": "Bad credentials"})
            owner = self.repository.partition("/")[0]
            audience = request.query.get("audience") or f"https://github.com/{owner}"  # GitHub's default
            return json_reply(200, {"value": self.mint({"aud": audience})})
        return json_reply(404, {"message": "Not Found"})

    # -- keys --------------------------------------------------------------------------------------

    @property
    def kid(self) -> str:
        """The current key's id: what `mint` signs with unless told otherwise."""
        return self._keys[-1][0]

    @property
    def key(self) -> rsa.RSAPrivateKey:
        return self._keys[-1][1]

    @property
    def kids(self) -> list[str]:
        return [kid for kid, _ in self._keys]

    @property
    def foreign_key(self) -> rsa.RSAPrivateKey:
        """A key this issuer never publishes (made on first use): `mint(key=issuer.foreign_key)`."""
        if self._foreign is None:
            self._foreign = new_key()
        return self._foreign

    def rotate(self, *, retire_old: bool = False) -> str:
        """Publish a new key and sign with it from now on; the old keys stay published unless
        `retire_old`. Returns the new kid."""
        kid = secrets.token_hex(16)
        with self._lock:
            self._keys = ([] if retire_old else self._keys) + [(kid, new_key())]
        return kid

    def jwks(self) -> dict:
        with self._lock:
            return {"keys": [public_jwk(key, kid) for kid, key in self._keys]}

    def configuration(self) -> dict:
        return {
            "issuer": self.issuer,
            "jwks_uri": self.issuer + "/jwks",
            "subject_types_supported": ["public", "pairwise"],
            "response_types_supported": ["id_token"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository",
                                 "repository_owner", "run_id", "event_name", "head_ref"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
        }

    # -- tokens ------------------------------------------------------------------------------------

    def claims(self, audience: str | None = None) -> dict:
        """GitHub-like claims of a push to main, issued now and valid for five minutes."""
        now = int(self.clock())
        owner = self.repository.partition("/")[0]
        return {
            "jti": str(uuid.uuid4()),
            "sub": f"repo:{self.repository}:ref:refs/heads/main",
            "aud": self.audience if audience is None else audience,
            "ref": "refs/heads/main",
            "ref_type": "branch",
            "head_ref": "",
            "repository": self.repository,
            "repository_owner": owner,
            "actor": owner,
            "event_name": "push",
            "workflow": "CI",
            "run_id": str(secrets.randbelow(10**10)),
            "run_attempt": "1",
            "iss": self.issuer,
            "nbf": now,
            "iat": now,
            "exp": now + 300,
        }

    def mint(
        self,
        claims_overrides: dict | None = None,
        *,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        alg: str = "RS256",
        headers: dict | None = None,
    ) -> str:
        """A compact token: `claims()` with `claims_overrides` merged (OMIT removes a claim), header
        {"typ": "JWT", "alg", "kid"} with `headers` merged. `alg` "RS256" signs with `key` (default
        the current key) under `kid` (default the current kid, also for a foreign `key`); "none"
        leaves the signature empty; "HS256" MACs with the current public key's PEM (key confusion)."""
        header = _merge({"typ": "JWT", "alg": alg, "kid": kid or self.kid}, headers)
        claims = _merge(self.claims(), claims_overrides)
        signing_input = (_b64u(json.dumps(header).encode()) + "." + _b64u(json.dumps(claims).encode())).encode()
        if alg == "RS256":
            signature = (key or self.key).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "none":
            signature = b""
        elif alg == "HS256":
            pem = self.key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            signature = hmac.new(pem, signing_input, hashlib.sha256).digest()
        else:
            raise ValueError(f"FakeIssuer mints RS256, none or HS256, not {alg!r}")
        return signing_input.decode() + "." + _b64u(signature)

    def actions_env(self) -> dict[str, str]:
        """The environment GitHub gives a job with `id-token: write`, pointing at this fake."""
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.issuer + "/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

