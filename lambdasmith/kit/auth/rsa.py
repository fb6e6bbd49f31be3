"""RSA public keys from JWKs and RSASSA-PKCS1-v1_5 / SHA-256 verification (RS256), standard library only.

Why not `cryptography`: a Lambda handler may import only the standard library at cold start, and
verifying needs no private-key maths, only one modular exponentiation (`pow(s, e, n)`).

Verification is construct-and-compare (RFC 8017 §8.2.2 step 3, EMSA-PKCS1-v1_5 §9.2): the whole
expected encoded message `00 01 FF..FF 00 || DigestInfo(SHA-256) || H` is built and compared with
the recovered one in constant time. Nothing is parsed out of the recovered block, so the classic
parsing flaws (Bleichenbacher's 2006 e=3 forgery with garbage after the hash, short padding, a
DigestInfo with other parameters or another hash) cannot apply.

Keys are held to what an RS256 signer should publish: 2048 to 8192 bits, e odd and at least 3,
`use` "sig" and `alg` "RS256" when present.

Cold start: `lambdasmith.kit.b64url`, `kit.digest` (builtin SHA-256, no OpenSSL) and `kit.values`.
"""

from __future__ import annotations

from lambdasmith.kit import b64url
from lambdasmith.kit.digest import same_bytes, sha256_digest
from lambdasmith.kit.values import Record

__all__ = ["MIN_BITS", "MAX_BITS", "RsaPublicKey", "from_jwk", "verify_pkcs1v15_sha256"]

MIN_BITS = 2048  # NIST SP 800-57: smaller moduli are no longer acceptable for signatures
MAX_BITS = 8192  # bounds the cost of pow() a published key can impose on each verification

# DER of DigestInfo{ AlgorithmIdentifier{ id-sha256, NULL }, OCTET STRING (32 bytes) }, up to the
# digest itself (RFC 8017 §9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_MIN_PADDING = 8  # RFC 8017 §9.2 step 5: at least 8 bytes of FF


class RsaPublicKey(Record):
    """An RSA public key: modulus `n` and public exponent `e` (validated by `from_jwk`)."""

    __slots__ = ("n", "e")
    n: int
    e: int

    @property
    def size(self) -> int:
        """k, the modulus length in bytes: also the length of every valid signature."""
        return (self.n.bit_length() + 7) // 8


def _uint(jwk: dict, name: str) -> int:
    """A JWK Base64urlUInt member (RFC 7518 §2): strict base64url, big-endian, no leading zeros."""
    value = jwk.get(name)
    if not isinstance(value, str):
        raise ValueError(f"JWK {name!r} must be a string")
    data = b64url.decode(value)
    if not data or data[0] == 0:
        raise ValueError(f"JWK {name!r} must be a minimal unsigned integer")
    return int.from_bytes(data, "big")


def from_jwk(jwk: dict) -> RsaPublicKey:
    """The RSA public key of a JWK (RFC 7517/7518 §6.3.1); ValueError if it is not one to verify
    RS256 signatures with."""
    if not isinstance(jwk, dict):
        raise ValueError("JWK must be a JSON object")
    if jwk.get("kty") != "RSA":
        raise ValueError("JWK kty must be RSA")
    if "use" in jwk and jwk["use"] != "sig":
        raise ValueError("JWK use must be sig")
    if "alg" in jwk and jwk["alg"] != "RS256":
        raise ValueError("JWK alg must be RS256")
    if "key_ops" in jwk and not (isinstance(jwk["key_ops"], list) and "verify" in jwk["key_ops"]):
        raise ValueError("JWK key_ops must allow verify")
    n = _uint(jwk, "n")
    e = _uint(jwk, "e")
    if not MIN_BITS <= n.bit_length() <= MAX_BITS:
        raise ValueError(f"RSA modulus must be {MIN_BITS} to {MAX_BITS} bits")
    if n % 2 == 0:
        raise ValueError("RSA modulus must be odd")
    if e < 3 or e % 2 == 0 or e >= n:
        raise ValueError("RSA exponent must be odd, at least 3 and below the modulus")
    return RsaPublicKey(n, e)


def _expected_encoding(message: bytes, k: int) -> bytes | None:
    """EMSA-PKCS1-v1_5-ENCODE(message, k) with SHA-256; None when k is too short for it."""
    t = _SHA256_DIGEST_INFO + sha256_digest(message)
    padding = k - len(t) - 3
    if padding < _MIN_PADDING:
        return None
    return b"\x00\x01" + b"\xff" * padding + b"\x00" + t


def verify_pkcs1v15_sha256(key: RsaPublicKey, message: bytes, signature: bytes) -> bool:
    """True iff `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `message` by `key`
    (RFC 8017 §8.2.2). Never raises for a bad signature: every failure is False."""
    k = key.size
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != k:  # step 1
        return False
    s = int.from_bytes(signature, "big")  # OS2IP
    if s >= key.n:  # RSAVP1: the signature representative must be below the modulus
        return False
    m = pow(s, key.e, key.n)
    expected = _expected_encoding(message, k)
    if expected is None:
        return False
    return same_bytes(m.to_bytes(k, "big"), expected)  # I2OSP, then compare the whole block
