"""One way to read JSON that came from outside (request bodies, headers, cursors, tokens, queue
messages, upstream answers): bounded in depth and size, and every failure one `ValueError`.

`json.loads` recurses once per nesting level, so 3,000 `[` raise RecursionError — not a
ValueError, so the caller's "bad input → 400" path misses it and the answer is a 500; a
600-deep value parses, then breaks whatever walks it next. `loads` refuses anything nested
deeper than `max_depth` before parsing. The check costs two `str.count` calls for ordinary
input (it cannot be deep without that many brackets); text with more brackets than the limit
is reduced to its brackets (strings removed) and peeled a level at a time with `str.replace`:
C-speed passes, no recursion.

Standard library only (handlers import it at cold start).
"""

from __future__ import annotations

import json
import re

__all__ = ["MAX_DEPTH", "JSONInputError", "loads", "nested_deeper"]

MAX_DEPTH = 64
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class JSONInputError(ValueError):
    """Input that is not JSON we accept: malformed, not UTF-8, too deep or too big."""


def _too_deep(text: str, max_depth: int) -> bool:
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))  # the structure alone: "[{}{}]"…
    for _ in range(max_depth):  # each pass removes the innermost level
        inner = brackets.replace("[]", "").replace("{}", "")
        if not inner or inner == brackets:  # all gone; or malformed, which json.loads will say
            return False
        brackets = inner
    return True


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int | None = None) -> object:
    """The JSON value of `data` (bytes are UTF-8); JSONInputError when it is not one we accept."""
    if not isinstance(data, (str, bytes, bytearray)):
        raise JSONInputError("JSON must be text")
    if max_bytes is not None and len(data) > max_bytes:
        raise JSONInputError(f"JSON larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    except UnicodeDecodeError:
        raise JSONInputError("JSON is not UTF-8") from None
    if _too_deep(text, max_depth):
        raise JSONInputError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # a max_depth above the interpreter's own limit
        raise JSONInputError("JSON nested too deeply") from None
    except ValueError as e:  # json.JSONDecodeError; an integer past int()'s digit limit
        if "digits" in str(e):
            raise JSONInputError("a number in the JSON has too many digits") from None
        raise JSONInputError(f"not valid JSON: {str(e).split(':')[0]}") from None


def nested_deeper(value: object, max_depth: int) -> bool:
    """Whether a parsed value (lists and dicts) nests deeper than `max_depth`, found without
    recursion: for events that arrive already parsed (a Lambda event) before anything walks them."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (list, dict)):
            if depth >= max_depth:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False
