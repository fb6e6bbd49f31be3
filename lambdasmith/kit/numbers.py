"""Whole numbers from outside (query parameters, headers, CLI): ASCII digits only, bounded.

`str.isdigit()` is true for "²" and "٣", which `int()` then refuses or reads as another
number; a 5,000-digit string makes `int()` raise with a message about
`sys.set_int_max_str_digits()`. `whole_number` accepts `0`-`9` only, at most `max_digits` of
them, and answers None for anything else, so the caller says what it expects.
"""

from __future__ import annotations

__all__ = ["whole_number"]

_DIGITS = frozenset("0123456789")


def whole_number(text: str | None, *, max_digits: int = 9) -> int | None:
    """The non-negative integer `text` spells in ASCII digits; None otherwise (empty, signs,
    spaces, other scripts' digits, more than `max_digits` digits)."""
    if not text or len(text) > max_digits or not _DIGITS.issuperset(text):
        return None
    return int(text)
