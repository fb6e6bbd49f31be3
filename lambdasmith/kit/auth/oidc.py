"""RS256 ID tokens of an OpenID Connect issuer (GitHub Actions OIDC) for Lambda handlers.

A workflow asks GitHub for a token with an audience of our choosing and sends it as
`Authorization: Bearer <JWT>`; `verify_token` proves GitHub signed it for us and returns its
claims (`repository`, `ref`, ...), which the handler then authorizes.

Decisions a reader should know:

- The token chooses nothing: `alg` must be exactly "RS256" (so neither "none" nor an HS256 token
  MACed with the public key gets near a key), `kid` must name a key the issuer publishes, and the
  shape, `typ`, `crit` and JSON rules are kit/auth/jwt.py's (`read_header`, `parse_object`,
  `check_claims`), so both verifiers read a token the same way.
- `iss` must equal the configured issuer and `aud` must contain the configured audience; `exp` and
  `iat` are required. Leeway covers clock skew on `exp`, `nbf` and `iat`.
- Keys come from the issuer's discovery document (`{issuer}/.well-known/openid-configuration`, its
  `issuer` must match) and its `jwks_uri`, both https (http only on loopback, for local fakes).
  `JwksCache` keeps them `ttl_s`; a `kid` it does not know triggers a refetch (key rotation) at
  most once per `min_refetch_s`, so a flood of made-up `kid`s cannot turn into a flood of
  requests to the issuer. A failed refresh keeps the keys already held (an issuer outage does not
  become ours) and is kept in `last_error` for the log, but only up to `max_stale_s` (a day)
  after the last success: past that they are dropped and every token is refused until a refresh
  succeeds, so a key the issuer withdrew is not trusted for ever by an instance that cannot reach it.
- Nothing is fetched at import or construction: the first `key()` fetches.

Cold start: the standard library's `time` and `threading`, kit.auth.jwt and kit.auth.rsa.
"""

from __future__ import annotations

import threading
import time

from lambdasmith.kit.auth.jwt import (
    ExpiredToken,
    InvalidToken,
    NotYetValid,
    check_claims,
    decode_segment,
    parse_object,
    read_header,
)
from lambdasmith.kit.auth.rsa import RsaPublicKey, from_jwk, verify_pkcs1v15_sha256
from lambdasmith.kit.http.secure_url import check_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from lambdasmith.kit.http.upstream import UpstreamClient

__all__ = [
    "ALGORITHM",
    "MAX_TOKEN_LENGTH",
    "GITHUB_ISSUER",
    "InvalidToken",
    "ExpiredToken",
    "NotYetValid",
    "JwksCache",
    "upstream_fetch",
    "check_url",
    "verify_token",
]

ALGORITHM = "RS256"
MAX_TOKEN_LENGTH = 16 * 1024
"""GitHub's tokens are about 1.5 KB; longer ones are refused before any parsing."""
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
MAX_KEYS = 64
"""A JWKS with more keys is cut to its first MAX_KEYS (GitHub publishes two or three)."""


def upstream_fetch(client: UpstreamClient) -> Callable[[str], Any]:
    """A `fetch` for `JwksCache` on kit/http/upstream.py: GET, a 2xx status, the body as JSON."""

    def fetch(url: str) -> Any:
        response = client.get(url, {"Accept": "application/json"})
        if not response.ok:
            raise ValueError(f"HTTP {response.status} from {url}")
        return response.json()

    return fetch


def _keys_of(jwks: Any) -> dict[str, RsaPublicKey]:
    """The usable RSA keys of a JWKS document by `kid`; keys that do not parse are skipped, and a
    `kid` that names two keys names neither (which one signed would be ambiguous)."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("JWKS must be an object with a keys list")
    keys: dict[str, RsaPublicKey] = {}
    seen: set[str] = set()
    for jwk in jwks["keys"][:MAX_KEYS]:
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        if not isinstance(kid, str) or not kid:
            continue
        if kid in seen:
            keys.pop(kid, None)
            continue
        seen.add(kid)
        try:
            keys[kid] = from_jwk(jwk)
        except ValueError:
            continue
    return keys


class JwksCache:
    """An issuer's signing keys by `kid`, fetched lazily and refreshed as the module docstring says.

    `fetch(url)` returns the parsed JSON at `url` or raises (see `upstream_fetch`). Safe to share
    between threads; one refresh at a time.
    """

    def __init__(
        self,
        fetch: Callable[[str], Any],
        issuer: str,
        *,
        clock: Callable[[], float] = time.time,
        ttl_s: float = 3600,
        min_refetch_s: float = 60,
        max_stale_s: float = 86400,
    ) -> None:
        self.issuer = check_url(issuer, "issuer", query=False)
        if ttl_s <= 0 or min_refetch_s < 0 or max_stale_s < ttl_s:
            raise ValueError("ttl_s must be positive, min_refetch_s not negative and max_stale_s at least ttl_s")
        self._fetch = fetch
        self._clock = clock
        self.ttl_s = ttl_s
        self.min_refetch_s = min_refetch_s
        self.max_stale_s = max_stale_s
        self._keys: dict[str, RsaPublicKey] = {}
        self._fetched_at: float | None = None  # last successful refresh
        self._attempted_at: float | None = None  # last refresh, successful or not
        self._lock = threading.Lock()
        self.last_error: str | None = None
        """Why the last refresh failed (None after a success): for the log, not for a client."""

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def key(self, kid: str) -> RsaPublicKey | None:
        """The key named `kid`, refreshing first when the keys are older than `ttl_s` or do not
        have `kid` (either at most once per `min_refetch_s`); None if the issuer has no such key,
        or if no refresh has succeeded for `max_stale_s`."""
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self.ttl_s
            if (stale or kid not in self._keys) and (
                self._attempted_at is None or now - self._attempted_at >= self.min_refetch_s
            ):
                self._refresh(now)
            if self._fetched_at is not None and now - self._fetched_at >= self.max_stale_s:
                self._keys = {}  # too long without a successful refresh: trust none of them
            return self._keys.get(kid)

    def kids(self) -> list[str]:
        """The `kid`s held now (no fetch)."""
        return sorted(self._keys)

    def _refresh(self, now: float) -> None:
        self._attempted_at = now
        try:
            config = self._fetch(self.discovery_url)
            if not isinstance(config, dict) or config.get("issuer") != self.issuer:
                raise ValueError("discovery document does not name this issuer")
            jwks_uri = check_url(config.get("jwks_uri"), "jwks_uri")
            keys = _keys_of(self._fetch(jwks_uri))
        except Exception as exc:  # whatever `fetch` raises: keep the old keys, fail closed on new kids
            self.last_error = f"{type(exc).__name__}: {exc}"
            return
        self._keys = keys
        self._fetched_at = now
        self.last_error = None


def verify_token(
    token: str,
    jwks: JwksCache,
    *,
    issuer: str,
    audience: str,
    leeway_s: int = 60,
    now: float | None = None,
) -> dict:
    """Verify an RS256 token of `issuer` for `audience` and return its claims, or raise
    `InvalidToken` (`ExpiredToken`, `NotYetValid`) with a message safe to show a client.

    Checked, in order: size and shape, header (`alg` exactly RS256, `typ` JWT if present, no
    `crit`, `kid` a non-empty string), the payload and signature segments, the key
    (`jwks.key(kid)`, which may fetch; `issuer` must be the one `jwks` was made for), the signature over
    `header_b64.payload_b64`, then the claims: `exp` and `iat` present, `exp`/`nbf`/`iat` finite
    numbers within `leeway_s` of `now` (default: the wall clock), `iss` == `issuer`, `aud` ==
    `audience` or a list holding it.
    """
    if not (isinstance(audience, str) and audience):
        raise ValueError("audience must be a non-empty string")
    if issuer != jwks.issuer:  # keys of one issuer never vouch for another's tokens
        raise ValueError(f"jwks holds the keys of {jwks.issuer!r}, not {issuer!r}")
    if leeway_s < 0:
        raise ValueError("leeway_s must not be negative")
    header, header_b64, payload_b64, signature_b64 = read_header(token, ALGORITHM, max_length=MAX_TOKEN_LENGTH)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("token has no key id")
    payload = decode_segment(payload_b64, "payload")
    signature = decode_segment(signature_b64, "signature")
    key = jwks.key(kid)
    if key is None:
        raise InvalidToken("token signing key is unknown")
    if not verify_pkcs1v15_sha256(key, (header_b64 + "." + payload_b64).encode("ascii"), signature):
        raise InvalidToken("token signature is invalid")
    claims = parse_object(payload, "payload")
    check_claims(claims, now=now, leeway_s=leeway_s, issuer=issuer, audience=audience, require=("exp", "iat"))
    return claims
