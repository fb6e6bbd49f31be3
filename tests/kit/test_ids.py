"""kit.ids: random version-4 UUIDs without the `uuid` module."""

import uuid

from lambdasmith.kit.ids import uuid4


def test_a_canonical_version_4_rfc_variant_uuid():
    for _ in range(200):
        text = uuid4()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_random():
    assert len({uuid4() for _ in range(1000)}) == 1000
