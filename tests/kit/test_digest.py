"""kit.digest: the constant-time compare every MAC check uses (and its pure-Python fallback)."""

import hmac

import pytest

from lambdasmith.kit import digest
from lambdasmith.kit.digest import same_bytes

CASES = [(b"", b""), (b"abc", b"abc"), (b"abc", b"abd"), (b"abc", b"ab"), (b"\x00" * 32, b"\x00" * 31 + b"\x01")]


@pytest.mark.parametrize(("a", "b"), CASES)
def test_same_bytes_answers_like_hmac_compare_digest(a, b):
    assert same_bytes(a, b) is hmac.compare_digest(a, b)


@pytest.mark.parametrize(("a", "b"), CASES)
def test_the_fallback_answers_the_same(a, b):
    assert digest._same_bytes_slowly(a, b) is hmac.compare_digest(a, b)


def test_the_builtin_is_used_where_cpython_has_it():
    assert digest._compare is not None


def test_the_fallback_is_used_without_the_builtin(monkeypatch):
    monkeypatch.setattr(digest, "_compare", None)
    assert same_bytes(b"abc", b"abc") is True
    assert same_bytes(b"abc", b"abd") is False
