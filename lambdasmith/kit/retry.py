"""How long to wait before trying again: one rule for every retry loop in lambdasmith.

Why a module of its own: the AWS JSON client, the upstream HTTP client and the DynamoDB table
each drew the same full-jitter delay, and three store operations each retried a transaction that
lost a `TransactionConflict` the same way. Each caller keeps its own loop (what counts as
retryable differs) and its injected sleep/rng; only the arithmetic and the give-up rule live here.

Cold start: imports `time` only; `random` loads the first time a delay is drawn without an rng.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["CONFLICT_ATTEMPTS", "full_jitter", "retry_conflict"]

CONFLICT_ATTEMPTS = 5
"""Tries of a transaction that keeps losing conflicts, the first included."""


def full_jitter(attempt: int, base: float, cap: float, rng: Callable[[], float] | None = None) -> float:
    """Seconds to wait: uniform in [0, min(cap, base * 2**attempt)) ("full jitter", AWS's
    Architecture Blog). `rng` returns a float in [0, 1); `random.random` when None."""
    if rng is None:
        import random

        rng = random.random
    return rng() * min(cap, base * 2**attempt)


def retry_conflict(
    reasons: Iterable[str | None],
    attempt: int,
    *,
    attempts: int = CONFLICT_ATTEMPTS,
    sleep: Callable[[float], None] | None = None,
) -> bool:
    """After try `attempt` (0-based) of a transaction was cancelled with `reasons`: True, having
    paused 10 ms × (attempt + 1), when a write lost a TransactionConflict and tries remain; False
    when the caller should give up (re-raise). A concurrent transaction on the same items is
    short-lived, so a short linear pause is enough. `sleep` is `time.sleep` when None (looked up
    at call time, so a test can patch it)."""
    if attempt >= attempts - 1 or "TransactionConflict" not in reasons:
        return False
    (sleep or time.sleep)(0.01 * (attempt + 1))
    return True
