"""kit.digest: the built-in SHA-256 and HMAC-SHA256 equal hashlib's and hmac's, and the
constant-time compare every MAC check uses (and its pure-Python fallback)."""

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


def test_the_builtin_in_c_is_used_where_cpython_has_it():
    import _operator

    assert digest._compare is _operator._compare_digest


def test_hmac_is_not_imported_for_it():
    import subprocess
    import sys

    code = "import sys, lambdasmith.kit.digest as d; d.same_bytes(b'a', b'a'); print('hmac' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("key,msg", [(b"", b""), (b"k", b"msg"), (b"k" * 64, b"x" * 1000), (b"long" * 40, "é✓".encode())])
def test_builtin_digests_equal_hashlib_and_hmac(key, msg):
    import hashlib
    import hmac

    from lambdasmith.kit.digest import hmac_sha256, sha256_hex

    assert sha256_hex(msg) == hashlib.sha256(msg).hexdigest()
    assert hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()
