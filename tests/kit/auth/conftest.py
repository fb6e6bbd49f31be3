"""RSA keys shared by the auth tests: generating them is slow, so once per session."""

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

# (bits, public exponent): cryptography generates e = 65537 or 3; the small exponent is the one
# where parsing verifiers were forgeable (Bleichenbacher 2006), so it is in the set.
KEY_SPECS = [(2048, 65537), (2048, 3), (3072, 65537), (3072, 3), (4096, 65537), (4096, 3)]


@pytest.fixture(scope="session")
def rsa_keys() -> list[rsa.RSAPrivateKey]:
    return [rsa.generate_private_key(public_exponent=e, key_size=bits) for bits, e in KEY_SPECS]


@pytest.fixture(scope="session")
def rsa_key(rsa_keys) -> rsa.RSAPrivateKey:
    """One 2048-bit key, e = 65537 (what GitHub's OIDC issuer publishes)."""
    return rsa_keys[0]


@pytest.fixture(scope="session")
def other_rsa_key(rsa_keys) -> rsa.RSAPrivateKey:
    return rsa_keys[2]
