"""The key file of the embedded secrets from the command line: one-line errors naming the file,
and a lost key recovered from by registering the orgs again with --force."""

from __future__ import annotations

import os

import pytest

from tests.cli.support import clean_env, run


@pytest.fixture
def env(tmp_path):
    return clean_env(tmp_path, LAMBDASMITH_DATA_DIR=str(tmp_path / "data"))


def register(env, *extra: str):
    secret = run("badges", "new-secret", env=env).stdout.strip()
    return run("badges", "register-org", "acme", "--type", "testdata", f"--secret={secret}", *extra, env=env)  # may start with -


def test_a_group_readable_key_file_stops_the_command_with_the_fix(env, tmp_path):
    assert register(env).returncode == 0
    key = tmp_path / "data" / "secrets.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    key.chmod(0o640)
    r = register(env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr == (f"lambdasmith: secret key file {key} has mode 0640, open to group or others: "
                        "chmod 600 it (and keep it owned by the user lambdasmith runs as)\n")  # fmt: skip


def test_a_key_file_elsewhere_is_used_when_named(env, tmp_path):
    key = tmp_path / "keys" / "lambdasmith.key"
    env = {**env, "LAMBDASMITH_SECRETS_KEY_FILE": str(key)}
    assert register(env).returncode == 0
    assert key.is_file() and not (tmp_path / "data" / "secrets.key").exists()


def test_after_a_lost_key_the_orgs_are_registered_again_with_force(env, tmp_path):
    assert register(env).returncode == 0
    os.unlink(tmp_path / "data" / "secrets.key")
    r = register(env)
    assert r.returncode == 1 and r.stderr.startswith("lambdasmith: secret 'badges/acme/testdata' does not decrypt")
    assert str(tmp_path / "data" / "secrets.key") in r.stderr and "--force" in r.stderr
    r = register(env, "--force")
    assert (r.returncode, r.stdout) == (0, "acme testdata: registered\n")
    assert run("badges", "orgs", "list", env=env).stdout.splitlines()[1].split()[0] == "acme"
