"""lambdasmith.wardrobe.wiring: the local JWT secret."""

from __future__ import annotations

from lambdasmith.wardrobe.config import WardrobeConfig


def test_wardrobe_prepare_local_makes_the_jwt_secret_once(tmp_path):
    from lambdasmith.wardrobe.wiring import ensure_local_secret, prepare_local

    config = WardrobeConfig(data_dir=str(tmp_path))
    prepare_local(config)
    secret = ensure_local_secret(config)
    prepare_local(config)
    assert ensure_local_secret(config) == secret and len(secret) > 40
