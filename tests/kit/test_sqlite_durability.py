"""kit.sqlite: how a commit reaches the disk is one environment knob, checked, and
`lambdasmith serve` asks for commits that survive power loss unless told otherwise."""

from __future__ import annotations

import pytest

from lambdasmith.kit.sqlite import SYNCHRONOUS_ENV, Database
from lambdasmith.local.serve import function_environment

LEVELS = {"NORMAL": 1, "FULL": 2, "EXTRA": 3}  # PRAGMA synchronous reads back as a number


@pytest.mark.parametrize(("value", "mode"), [(None, "NORMAL"), ("", "NORMAL"), ("full", "FULL"), ("NORMAL", "NORMAL"),
                                             ("EXTRA", "EXTRA")])  # fmt: skip
def test_each_connection_commits_as_the_environment_says(tmp_path, monkeypatch, value, mode):
    if value is None:
        monkeypatch.delenv(SYNCHRONOUS_ENV, raising=False)
    else:
        monkeypatch.setenv(SYNCHRONOUS_ENV, value)
    db = Database(tmp_path / "x.db")
    assert db.connection().execute("PRAGMA synchronous").fetchone() == (LEVELS[mode],)


@pytest.mark.parametrize("value", ["OFF", "fast", "2", "FULL;DROP"])
def test_an_unknown_mode_is_refused_by_name(tmp_path, monkeypatch, value):
    monkeypatch.setenv(SYNCHRONOUS_ENV, value)
    with pytest.raises(ValueError, match=SYNCHRONOUS_ENV):
        Database(tmp_path / "x.db").connection()


def test_serve_defaults_to_full_and_keeps_the_operators_choice(tmp_path):
    assert function_environment(str(tmp_path), {})[SYNCHRONOUS_ENV] == "FULL"
    assert function_environment(str(tmp_path), {SYNCHRONOUS_ENV: "NORMAL"})[SYNCHRONOUS_ENV] == "NORMAL"
    assert function_environment("rel", {})["LAMBDASMITH_DATA_DIR"].endswith("/rel")


def test_serve_refuses_to_start_with_an_unknown_mode(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, SYNCHRONOUS_ENV: "sometimes"}
    r = subprocess.run([sys.executable, "-m", "lambdasmith", "serve", "badges", "--port", "0", "--data-dir", str(tmp_path)],
                       env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 1
    assert f"lambdasmith serve: {SYNCHRONOUS_ENV}='SOMETIMES'" in r.stderr and "Traceback" not in r.stderr
