"""Ingestion authenticated by the CI job's own identity (NEW): a GitHub Actions OIDC token in
`Authorization: Bearer …` instead of an HMAC signature, so no shared secret exists to leak.

Only requests that carry a Bearer token import this module (and kit/auth/oidc.py, rsa.py): the
badge routes and HMAC ingestion never load it. Checks, in order:

1. the owner is registered for OIDC (`register-org ORG --type oidc`), else the same 401 an
   unregistered org gets for HMAC;
2. the token: RS256 only, signed by a key of the issuer's JWKS (discovered from
   `{issuer}/.well-known/openid-configuration`, cached an hour, refetched on an unknown `kid` at
   most once a minute: BADGES_OIDC_REFETCH_INTERVAL), `iss` = BADGES_OIDC_ISSUER, `aud` = BADGES_OIDC_AUDIENCE, `exp`/`nbf`/
   `iat` within 60 s of leeway, and living no longer than a nonce does (else 401);
3. the claims against the path (else 403): `repository_owner` is the owner, `repository` is
   `{owner}/{repo}`, and the branch is `ref`'s (`refs/heads/X`) or, for a pull request,
   `head_ref`; then the org's optional repository and branch lists;
4. `jti` is burned as the nonce, atomically with the result: a replayed token is refused.
"""

from __future__ import annotations

import time

from lambdasmith.kit.http.routing import HTTPError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.badges.store import OidcPolicy, Repo
    from lambdasmith.kit.auth.oidc import JwksCache

__all__ = ["LEEWAY_S", "Verifier", "authorize"]

LEEWAY_S = 60
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
_CHALLENGE = 'Bearer error="invalid_token"'


def _unauthorized(message: str, code: str = "INVALID_TOKEN") -> HTTPError:
    return HTTPError(401, message, code=code, field="Authorization", headers={"WWW-Authenticate": _CHALLENGE})


def _forbidden(message: str, field: str) -> HTTPError:
    return HTTPError(403, message, code="OIDC_CLAIMS_MISMATCH", field=field)


class Verifier:
    """The issuer's keys (one cache per warm function) and the token check."""

    def __init__(self, issuer: str, audience: str, max_lifetime_s: int, client: Any, refetch_s: float = 60.0):
        self.issuer = issuer
        self.refetch_s = refetch_s
        self.audience = audience
        self.max_lifetime_s = max_lifetime_s
        self._client = client  # kit.http.upstream.UpstreamClient
        self._jwks: JwksCache | None = None

    def claims(self, token: str, now: float | None = None) -> dict[str, Any]:
        from lambdasmith.kit.auth.oidc import InvalidToken, JwksCache, upstream_fetch, verify_token

        now = time.time() if now is None else now
        if self._jwks is None:
            try:
                self._jwks = JwksCache(upstream_fetch(self._client), self.issuer, min_refetch_s=self.refetch_s)
            except ValueError:
                raise HTTPError(500, "BADGES_OIDC_ISSUER is not an https URL") from None
        try:
            claims = verify_token(token, self._jwks, issuer=self.issuer, audience=self.audience,
                                  leeway_s=LEEWAY_S, now=now)  # fmt: skip
        except InvalidToken as e:
            if self._jwks.last_error and not self._jwks.kids():
                raise HTTPError(502, "The OIDC issuer's keys could not be fetched", code="UPSTREAM_UNAVAILABLE") from None
            raise _unauthorized(f"Invalid OIDC token: {e}") from None
        if claims["exp"] - now > self.max_lifetime_s:
            raise _unauthorized(f"OIDC token lives longer than {self.max_lifetime_s} s")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti.strip() or len(jti) > 128:
            raise _unauthorized("OIDC token has no usable jti")
        return claims


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return value if isinstance(value, str) else ""


def token_branch(claims: dict[str, Any]) -> str:
    """The branch the job ran for: `head_ref` on a pull request, else `ref`'s `refs/heads/X`."""
    ref = _text(claims, "ref")
    if _text(claims, "event_name") in PULL_REQUEST_EVENTS or ref.startswith("refs/pull/"):
        return _text(claims, "head_ref")
    return ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ""


def authorize(claims: dict[str, Any], where: Repo, policy: OidcPolicy) -> None:
    """The path must be the token's own repository and branch, and the org's lists must allow it."""
    if _text(claims, "repository_owner").lower() != where.owner:
        raise _forbidden("The token's repository_owner is not the path's owner", "owner")
    if _text(claims, "repository").lower() != f"{where.owner}/{where.repo}":
        raise _forbidden("The token's repository is not the path's repository", "repo")
    branch = token_branch(claims)
    if not branch or branch.lower() != where.branch:
        raise _forbidden("The token's branch (ref, or head_ref for a pull request) is not the path's branch", "branch")
    if not policy.allows(where.repo, where.branch):
        raise _forbidden("This organisation does not accept OIDC results for this repository or branch", "branch")
