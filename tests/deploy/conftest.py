"""Fixtures of the deploy tests: every template, and the builds (made once per test module: probes running the built code may write bytecode next to it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.templates import SERVICES, load_template, run_build


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {s: load_template(s) for s in SERVICES}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("build")
    return out, run_build(out, "badges")


@pytest.fixture(scope="module")
def built_wardrobe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("build-wardrobe")
    return out, run_build(out, "wardrobe")
