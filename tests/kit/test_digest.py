"""lambdasmith.kit.digest: the built-in SHA-256 and HMAC-SHA256 equal hashlib's and hmac's."""


import pytest


@pytest.mark.parametrize("key,msg", [(b"", b""), (b"k", b"msg"), (b"k" * 64, b"x" * 1000), (b"long" * 40, "é✓".encode())])
def test_builtin_digests_equal_hashlib_and_hmac(key, msg):
    import hashlib
    import hmac

    from lambdasmith.kit.digest import hmac_sha256, sha256_hex

    assert sha256_hex(msg) == hashlib.sha256(msg).hexdigest()
    assert hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()
