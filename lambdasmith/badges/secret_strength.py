"""Whether an org secret is strong enough to register.

The secret is an HMAC key that anyone who guesses it can forge results with, so `register-org`
refuses short or repetitive ones. The rule is meant to be explained in one sentence: at least
MIN_LENGTH characters and at least MIN_BITS bits by a simple estimate, the length times the
Shannon entropy of its characters (how evenly it uses the characters it has). The estimate
is rough (it cannot see that a dictionary word is weak) but it refuses `abc`, `aaaa…` and short
passwords, and accepts what `badges new-secret`, `openssl rand -base64 32` and GitHub tokens give.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter

__all__ = ["MIN_BITS", "MIN_LENGTH", "RULE", "estimated_bits", "new_secret", "weakness"]

MIN_LENGTH = 32
MIN_BITS = 128
RULE = (f"a secret needs at least {MIN_LENGTH} characters and at least {MIN_BITS} bits of estimated entropy "
        "(length × Shannon entropy per character); `lambdasmith badges new-secret` prints one")  # fmt: skip


def estimated_bits(secret: str) -> float:
    if not secret:
        return 0.0
    n = len(secret)
    per_char = sum(c / n * math.log2(n / c) for c in Counter(secret).values())  # ≥ 0, never -0.0
    return n * per_char


def weakness(secret: str) -> str | None:
    """Why `secret` is too weak (one clause, with what is accepted), or None when it is not."""
    if len(secret) < MIN_LENGTH:
        return f"the secret has {len(secret)} characters: {RULE}"
    bits = estimated_bits(secret)
    if bits < MIN_BITS:
        return f"the secret has about {bits:.0f} bits of entropy: {RULE}"
    return None


def new_secret() -> str:
    """256 random bits, URL-safe base64 (43 characters): strong by the rule above. Never starting
    with `-`, which a command line (`--secret -abc…`, argparse) would take for an option."""
    while True:
        secret = secrets.token_urlsafe(32)
        if not secret.startswith("-"):
            return secret
