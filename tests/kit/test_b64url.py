"""lambdasmith.kit.b64url: unpadded base64url, one spelling per value."""


import pytest


@pytest.mark.parametrize("data", [b"", b"f", b"fo", b"foo", b"\xfb\xff\xbf", bytes(range(256))])
def test_b64url_round_trips_unpadded(data):
    import base64

    from lambdasmith.kit import b64url

    text = b64url.encode(data)
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert b64url.decode(text) == data


@pytest.mark.parametrize("text", ["Zm9v=", "Zm+v", "Zm/v", "Zm9 v", "Z", "Zh", "Zm9vYk"])
def test_b64url_refuses_padding_foreign_characters_and_second_spellings(text):
    from lambdasmith.kit import b64url

    with pytest.raises(ValueError):
        b64url.decode(text)
