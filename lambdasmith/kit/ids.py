"""Random identifiers without importing `uuid`.

Why: `uuid` costs a cold start a few milliseconds (it is on the import guard's heavy list), and
all lambdasmith needs from it is a random version-4 UUID; `os.urandom` gives the same thing.
One function, so request ids, item ids, nonces and message ids look alike everywhere.
"""

from __future__ import annotations

import os

__all__ = ["uuid4"]


def uuid4() -> str:
    """A random (version 4, RFC 9562 variant) UUID in its canonical 36-character form."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
