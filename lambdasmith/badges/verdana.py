"""Verdana advance widths, as badge-maker measures badge text (via anafanafo): the decoder.

The numbers are font metrics (facts) generated into `verdana_widths.py` (and, for the social
style's bold 11px Helvetica, `helvetica_widths.py`, imported only when first needed) by
`tools/gen_widths.py`; this module is the only code that reads them. They stay encoded strings so importing costs only
loading those constants; `latin1()` decodes a font's first 256 code points and `table()` the
whole font, each on first use (most badges never need more than Latin-1).

Encoding: a walk over code points from 0. `!` + 4 digits skips code points that have no width;
otherwise an optional run length (`.` + 1 digit, or `:` + 3 digits; default 1) precedes 2 digits
giving the width in hundredths of a pixel for that many consecutive code points. Digits are
base 64 over `verdana_widths.ALPHABET`, most significant first.
"""

from __future__ import annotations

from functools import cache

from lambdasmith.badges import verdana_widths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["FONTS", "Table", "decode", "latin1", "table"]

# The tables badge-maker 6 uses, by their constant name in verdana_widths (the last one: in
# helvetica_widths).
FONTS = ("NORMAL_11", "NORMAL_10", "BOLD_10", "HELVETICA_BOLD_11")

Table = tuple[list[int], list[int], list[float]]


def decode(data: str) -> Iterator[tuple[int, int, float]]:
    """(first code point, count, width) of each range of an encoded table, in code point order."""
    value = {ch: i for i, ch in enumerate(verdana_widths.ALPHABET)}
    cp = i = 0
    while i < len(data):
        mark = data[i]
        if mark == "!":
            cp += ((value[data[i + 1]] * 64 + value[data[i + 2]]) * 64 + value[data[i + 3]]) * 64 + value[data[i + 4]]
            i += 5
            continue
        count = 1
        if mark == ".":
            count = value[data[i + 1]]
            i += 2
        elif mark == ":":
            count = (value[data[i + 1]] * 64 + value[data[i + 2]]) * 64 + value[data[i + 3]]
            i += 4
        yield cp, count, (value[data[i]] * 64 + value[data[i + 1]]) / 100
        cp += count
        i += 2


def _data(name: str) -> str:
    if name not in FONTS:
        raise KeyError(name)
    if name == "HELVETICA_BOLD_11":
        from lambdasmith.badges import helvetica_widths  # only social badges pay for loading it

        social: str = helvetica_widths.HELVETICA_BOLD_11
        return social
    data: str = getattr(verdana_widths, name)
    return data


@cache
def table(name: str) -> Table:
    """(starts, ends, widths) of the width ranges of font `name` (e.g. "NORMAL_11"), sorted."""
    starts: list[int] = []
    ends: list[int] = []
    widths: list[float] = []
    for first, count, width in decode(_data(name)):
        starts.append(first)
        ends.append(first + count - 1)
        widths.append(width)
    return starts, ends, widths


@cache
def latin1(name: str) -> list[float | None]:
    """Widths of code points 0-255 (None: not in the table), without decoding the rest."""
    out: list[float | None] = [None] * 256
    for first, count, width in decode(_data(name)):
        if first >= 256:
            break
        for cp in range(first, min(first + count, 256)):
            out[cp] = width
    return out
