"""URLs a service may trust to name a key or token issuer: https, or http to a loopback host
(local fakes in tests), and nothing that hides where they point.

Its own module, standard library only, because configuration checks such a URL at start-up
(`kit.settings.secure_url`) without loading the token verifier that later fetches from it."""

from __future__ import annotations

__all__ = ["check_url"]

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def check_url(url: object, what: str, *, query: bool = True) -> str:
    """`url` if it is an absolute https URL, or http to a loopback host; ValueError otherwise.

    No user info (`user@host` hides the real host from a careless reader), no whitespace or
    control characters, no fragment; with `query=False` (an issuer, OIDC Discovery §4) no query.
    """
    if not isinstance(url, str) or not url.isascii() or any(c <= " " or c == "\x7f" for c in url):
        raise ValueError(f"{what} must be a URL without spaces")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("https", "http"):
        raise ValueError(f"{what} must be an https URL")
    if "#" in rest or (not query and "?" in rest):
        raise ValueError(f"{what} must not have a {'fragment' if '#' in rest else 'query'}")
    authority = rest
    for stop in "/?":
        authority = authority.partition(stop)[0]
    if "@" in authority:
        raise ValueError(f"{what} must not have user info")
    if authority.startswith("["):
        host, bracket, port = authority[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            raise ValueError(f"{what} has a malformed host")
        port = port[1:]
    else:
        host, _, port = authority.partition(":")
    if not host or (port and not (port.isdigit() and 0 < int(port) < 65536)) or authority.endswith(":"):
        raise ValueError(f"{what} has a malformed host or port")
    if scheme == "http" and host.lower() not in _LOOPBACK:
        raise ValueError(f"{what} must be https (http only on loopback)")
    return url
