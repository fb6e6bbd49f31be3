"""`lambdasmith` alone, --version, and global options before or after the subcommand."""

from __future__ import annotations

import re
from importlib.metadata import version

from tests.cli.support import clean_env, run


def test_no_command_prints_help_and_exits_0(tmp_path):
    r = run(env=clean_env(tmp_path))
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("usage: lambdasmith ")
    for command in ("serve", "invoke", "badges", "wardrobe"):
        assert re.search(rf"^\s+{command}\s", r.stdout, re.M), command


def test_a_command_group_alone_prints_its_help(tmp_path):
    r = run("badges", env=clean_env(tmp_path))
    assert r.returncode == 0 and r.stdout.startswith("usage: lambdasmith badges ")
    assert "new-secret" in r.stdout and "orgs" in r.stdout


def test_version(tmp_path):
    r = run("--version", env=clean_env(tmp_path))
    assert (r.returncode, r.stdout) == (0, f"lambdasmith {version('lambdasmith')}\n")


def test_data_dir_before_or_after_the_subcommand_and_the_later_wins(tmp_path):
    env = clean_env(tmp_path)
    before, after, both = tmp_path / "before", tmp_path / "after", tmp_path / "outer"
    assert run("--data-dir", str(before), "wardrobe", "token", "ana", env=env, cwd=tmp_path).returncode == 0
    assert run("wardrobe", "token", "ana", "--data-dir", str(after), env=env, cwd=tmp_path).returncode == 0
    r = run("--data-dir", str(both), "wardrobe", "token", "ana", "--data-dir", str(after), env=env, cwd=tmp_path)
    assert r.returncode == 0
    assert (before / "lambdasmith.db").exists() and (after / "lambdasmith.db").exists()
    assert not both.exists() and not (tmp_path / ".lambdasmith").exists()


def test_data_dir_between_group_and_command(tmp_path):
    env = clean_env(tmp_path)
    r = run("badges", "--data-dir", str(tmp_path / "g"), "orgs", "list", env=env, cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "g" / "lambdasmith.db").exists()


def test_an_unknown_command_is_a_usage_error(tmp_path):
    r = run("frobnicate", env=clean_env(tmp_path))
    assert r.returncode == 2 and "invalid choice: 'frobnicate'" in r.stderr
