"""RS256 verification against `cryptography` as the oracle: for every key, message and mangled or
foreign signature, `verify_pkcs1v15_sha256` answers what `public_key.verify(...)` answers. And
`from_jwk` reads exactly the JWKs an RS256 signer should publish."""

import base64
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings, strategies as st

from lambdasmith.kit.auth.rsa import MAX_BITS, RsaPublicKey, from_jwk, verify_pkcs1v15_sha256

SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
DROP = object()
ORACLE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_int(value: int) -> str:
    return b64u(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def ours(private: rsa.RSAPrivateKey) -> RsaPublicKey:
    numbers = private.public_key().public_numbers()
    return RsaPublicKey(numbers.n, numbers.e)


def oracle(private: rsa.RSAPrivateKey, message: bytes, signature: bytes) -> bool:
    try:
        private.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def agree(private: rsa.RSAPrivateKey, message: bytes, signature: bytes) -> bool:
    """Our verdict, asserted equal to the oracle's."""
    verdict = verify_pkcs1v15_sha256(ours(private), message, signature)
    assert verdict is oracle(private, message, signature), (message, signature.hex())
    return verdict


def sign(private: rsa.RSAPrivateKey, message: bytes) -> bytes:
    return private.sign(message, padding.PKCS1v15(), hashes.SHA256())


def raw_sign(private: rsa.RSAPrivateKey, encoded: bytes) -> bytes:
    """The RSA signature primitive on an arbitrary block: how a forger with the key (or e=3 and a
    parsing verifier, without it) would present an encoding that is not the canonical one."""
    numbers = private.private_numbers()
    n = numbers.public_numbers.n
    k = (n.bit_length() + 7) // 8
    return pow(int.from_bytes(encoded, "big"), numbers.d, n).to_bytes(k, "big")


def key_size(private: rsa.RSAPrivateKey) -> int:
    return (private.key_size + 7) // 8


# -- valid and mangled signatures ------------------------------------------------------------------

MESSAGES = [b"", b"a", b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", bytes(range(256)) * 5, "Zoë 🚀".encode()]


@pytest.mark.parametrize("key_index", range(6))
def test_valid_signatures_verify_on_every_key(rsa_keys, key_index):
    private = rsa_keys[key_index]
    for message in MESSAGES:
        assert agree(private, message, sign(private, message))
        assert not agree(private, message + b"x", sign(private, message))


@pytest.mark.parametrize("key_index", range(6))
def test_every_mangling_gets_the_oracles_answer(rsa_keys, key_index):
    private = rsa_keys[key_index]
    n = private.public_key().public_numbers().n
    k = key_size(private)
    message = b"header.payload"
    good = sign(private, message)
    manglings = {
        "truncated": good[:-1],
        "leading byte dropped": good[1:],
        "extended": good + b"\x00",
        "zero-prefixed": b"\x00" + good,
        "empty": b"",
        "zero": bytes(k),
        "one": (1).to_bytes(k, "big"),
        "n": n.to_bytes(k, "big"),
        "all ff": b"\xff" * k,
        "n - 1": (n - 1).to_bytes(k, "big"),
        "sha1": private.sign(message, padding.PKCS1v15(), hashes.SHA1()),
        "sha384": private.sign(message, padding.PKCS1v15(), hashes.SHA384()),
        "sha512": private.sign(message, padding.PKCS1v15(), hashes.SHA512()),
        "pss": private.sign(message, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH),
                            hashes.SHA256()),
        "pss digest-length salt": private.sign(message, padding.PSS(padding.MGF1(hashes.SHA256()), 32),
                                               hashes.SHA256()),
    }
    for byte in (0, 1, k // 2, k - 1):
        for bit in (0, 7):
            flipped = bytearray(good)
            flipped[byte] ^= 1 << bit
            manglings[f"bit {bit} of byte {byte}"] = bytes(flipped)
    for name, signature in manglings.items():
        assert not agree(private, message, signature), name


@pytest.mark.parametrize("key_index", range(6))
def test_a_signature_plus_the_modulus_is_refused(rsa_keys, key_index):
    # s + n has the same residue as s, so only the s < n check refuses it; it fits in k bytes for
    # some messages (those whose s is below 256**k - n), so look for one.
    private = rsa_keys[key_index]
    n, k = private.public_key().public_numbers().n, key_size(private)
    for i in range(2000):
        message = b"message %d" % i
        s = int.from_bytes(sign(private, message), "big")
        if s + n < 256**k:
            break
    else:
        pytest.skip("no signature below 256**k - n found")  # odds per message are at least about 1/256
    assert not agree(private, message, (s + n).to_bytes(k, "big"))


@pytest.mark.parametrize("key_index", [0, 1, 5])
def test_non_canonical_encodings_signed_with_the_key_are_refused(rsa_keys, key_index):
    # Blocks a parsing verifier might accept; construct-and-compare refuses them all, as OpenSSL does.
    import hashlib

    private = rsa_keys[key_index]
    k = key_size(private)
    message = b"header.payload"
    h = hashlib.sha256(message).digest()
    t = SHA256_DIGEST_INFO + h
    canonical = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    no_null = bytes.fromhex("302f300b0609608648016503040201" "0420") + h  # parameters absent
    variants = {
        "absent NULL parameters": b"\x00\x01" + b"\xff" * (k - len(no_null) - 3) + b"\x00" + no_null,
        "garbage after the hash": b"\x00\x01" + b"\xff" * 8 + b"\x00" + t + b"\x42" * (k - len(t) - 11),
        "short padding, zero fill": b"\x00\x01" + b"\xff" * 8 + b"\x00" + t.rjust(k - 11, b"\x00"),
        "block type 2": b"\x00\x02" + canonical[2:],
        "no separator": b"\x00\x01" + b"\xff" * (k - len(t) - 2) + t,
        "ff in the separator": canonical[: k - len(t) - 1] + b"\xff" + t,
        "hash of another message": canonical[: -32] + hashlib.sha256(b"other").digest(),
    }
    assert agree(private, message, raw_sign(private, canonical))
    for name, encoded in variants.items():
        assert len(encoded) == k, name
        assert not agree(private, message, raw_sign(private, encoded)), name


@ORACLE
@given(key_index=st.integers(0, 5), message=st.binary(max_size=300), data=st.data())
def test_random_signatures_agree_with_the_oracle(rsa_keys, key_index, message, data):
    private = rsa_keys[key_index]
    k = key_size(private)
    signature = data.draw(st.one_of(st.binary(min_size=k, max_size=k), st.binary(max_size=k + 2)))
    assert not agree(private, message, signature)


@ORACLE
@given(key_index=st.integers(0, 5), message=st.binary(max_size=300), data=st.data())
def test_flipping_any_bit_agrees_with_the_oracle(rsa_keys, key_index, message, data):
    private = rsa_keys[key_index]
    signature = bytearray(sign(private, message))
    position = data.draw(st.integers(0, len(signature) * 8 - 1))
    signature[position // 8] ^= 1 << (position % 8)
    assert not agree(private, message, bytes(signature))


@ORACLE
@given(key_index=st.integers(0, 5), message=st.binary(max_size=300), other=st.binary(max_size=300))
def test_signatures_verify_only_their_message_and_key(rsa_keys, key_index, message, other):
    private = rsa_keys[key_index]
    signature = sign(private, message)
    assert agree(private, message, signature)
    assert agree(private, other, signature) is (other == message)
    stranger = rsa_keys[(key_index + 2) % 6]  # another size, so the length check answers; and same size:
    assert not agree(stranger, message, signature)
    sibling = rsa_keys[key_index ^ 1]
    assert not agree(sibling, message, signature)


def test_a_bad_signature_type_is_false_not_an_error(rsa_key):
    assert verify_pkcs1v15_sha256(ours(rsa_key), b"m", "not bytes") is False  # type: ignore[arg-type]
    assert verify_pkcs1v15_sha256(ours(rsa_key), b"m", bytearray(sign(rsa_key, b"m"))) is True


def test_a_modulus_too_short_for_the_encoding_verifies_nothing():
    # 512 bits leaves fewer than 8 bytes of padding; such a key never comes out of from_jwk anyway.
    tiny = RsaPublicKey((1 << 511) + 1, 65537)
    assert verify_pkcs1v15_sha256(tiny, b"m", b"\x01" * 64) is False


# -- from_jwk --------------------------------------------------------------------------------------

def jwk_of(private: rsa.RSAPrivateKey, **extra) -> dict:
    numbers = private.public_key().public_numbers()
    return {"kty": "RSA", "n": b64u_int(numbers.n), "e": b64u_int(numbers.e), **extra}


def test_from_jwk_reads_n_and_e(rsa_keys):
    for private in rsa_keys:
        assert from_jwk(jwk_of(private)) == ours(private)
    assert from_jwk(jwk_of(rsa_keys[0], use="sig", alg="RS256", kid="k1", key_ops=["verify"])) == ours(rsa_keys[0])


def test_a_jwk_from_pyjwt_is_read(rsa_key):
    import json

    from jwt.algorithms import RSAAlgorithm

    assert from_jwk(json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))) == ours(rsa_key)


@pytest.mark.parametrize(
    "change",
    [
        {"kty": "EC"},
        {"kty": "rsa"},
        {"kty": DROP},
        {"use": "enc"},
        {"use": None},  # present but null; absent is fine
        {"alg": "RS512"},
        {"alg": "PS256"},
        {"alg": "HS256"},
        {"alg": None},
        {"key_ops": ["encrypt"]},
        {"key_ops": "verify"},
        {"n": DROP},
        {"e": DROP},
        {"n": 12345},
        {"e": "AQAB="},  # padding
        {"e": "AQA B"},
        {"e": "AQAC"},  # non-canonical: unused bits set
        {"e": ""},
        {"e": "AAEAAQ"},  # leading zero byte
        {"e": "Ag"},  # 2: even
        {"e": "AQ"},  # 1
        {"e": "AAAA"},
    ],
)
def test_from_jwk_refuses_keys_not_for_rs256(rsa_key, change):
    jwk = jwk_of(rsa_key)
    for name, value in change.items():
        if value is DROP:
            del jwk[name]
        else:
            jwk[name] = value
    with pytest.raises(ValueError):
        from_jwk(jwk)


def test_from_jwk_refuses_a_modulus_with_a_leading_zero_byte(rsa_key):
    jwk = jwk_of(rsa_key)
    jwk["n"] = b64u(b"\x00" + base64.urlsafe_b64decode(jwk["n"] + "=="))
    with pytest.raises(ValueError):
        from_jwk(jwk)


@pytest.mark.parametrize("bits", [1024, 2047, MAX_BITS + 1])
def test_from_jwk_refuses_moduli_out_of_range(bits):
    n = (1 << (bits - 1)) | 1
    with pytest.raises(ValueError, match="bits"):
        from_jwk({"kty": "RSA", "n": b64u_int(n), "e": "AQAB"})


def test_from_jwk_bounds_are_inclusive():
    for bits in (2048, MAX_BITS):
        n = (1 << (bits - 1)) | 1
        assert from_jwk({"kty": "RSA", "n": b64u_int(n), "e": "AQAB"}).n == n


def test_from_jwk_refuses_even_modulus_and_exponent_not_below_it():
    n = (1 << 2047) | 1
    with pytest.raises(ValueError):
        from_jwk({"kty": "RSA", "n": b64u_int(n + 1), "e": "AQAB"})
    with pytest.raises(ValueError):
        from_jwk({"kty": "RSA", "n": b64u_int(n), "e": b64u_int(n + 2)})


@pytest.mark.parametrize("jwk", [None, [], "RSA", 1])
def test_from_jwk_refuses_non_objects(jwk):
    with pytest.raises(ValueError):
        from_jwk(jwk)


def test_keys_are_immutable_values(rsa_key):
    key = ours(rsa_key)
    assert key == from_jwk(jwk_of(rsa_key)) and hash(key) == hash(from_jwk(jwk_of(rsa_key)))
    assert key.size == 256
    with pytest.raises(AttributeError):
        key.n = 3  # type: ignore[misc]


def test_import_loads_neither_openssl_nor_typing():
    probe = "import sys, lambdasmith.kit.auth.rsa; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                check=True).stdout.split())
    assert "lambdasmith.kit.auth.rsa" in loaded
    assert not {"hashlib", "_hashlib", "hmac", "ssl", "typing", "dataclasses", "base64"} & loaded
