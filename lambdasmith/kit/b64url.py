"""Unpadded base64url (RFC 4648 §5), strict: one spelling per byte string, so a token, cursor or
signature cannot be altered into a second form that decodes to the same bytes."""

from __future__ import annotations

import binascii

__all__ = ["ALPHABET", "encode", "decode"]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_URL = str.maketrans("+/", "-_", "=")
_FROM_URL = str.maketrans("-_", "+/")


def encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii").translate(_TO_URL)


def decode(text: str) -> bytes:
    """The bytes of a canonical unpadded base64url string; ValueError for anything else."""
    if not isinstance(text, str) or text.strip(ALPHABET):  # strip() leaves nothing iff all chars are in it
        raise ValueError("not base64url")
    try:
        data = binascii.a2b_base64(text.translate(_FROM_URL) + "=" * (-len(text) % 4), strict_mode=True)
    except binascii.Error:
        raise ValueError("not base64url") from None
    if encode(data) != text:  # nonzero unused bits: a second spelling of the same bytes
        raise ValueError("not canonical base64url")
    return data
