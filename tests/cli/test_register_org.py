"""`badges register-org`, `new-secret` and `orgs list/remove` from the outside."""

from __future__ import annotations

import pytest

from lambdasmith.badges.store import key_id
from tests.cli.support import clean_env, run

RULE = ("a secret needs at least 32 characters and at least 128 bits of estimated entropy "
        "(length × Shannon entropy per character); `lambdasmith badges new-secret` prints one")  # fmt: skip


@pytest.fixture
def env(tmp_path):
    return clean_env(tmp_path, LAMBDASMITH_DATA_DIR=str(tmp_path / "data"))


def new_secret(env) -> str:
    r = run("badges", "new-secret", env=env)
    assert r.returncode == 0 and r.stderr == ""
    return r.stdout.strip()


def test_new_secret_is_strong_and_fresh_each_time(env):
    a, b = new_secret(env), new_secret(env)
    assert a != b and len(a) >= 43 and a.replace("-", "").replace("_", "").isalnum()


def test_new_secrets_never_look_like_an_option(monkeypatch):
    # a secret starting with "-" broke `register-org --secret "$SECRET"` (argparse read an option)
    import secrets

    from lambdasmith.badges import secret_strength

    draws = iter(["-starts-with-a-dash-" + "x" * 23, "fine-" + "y" * 38])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(draws))
    assert secret_strength.new_secret() == "fine-" + "y" * 38


@pytest.mark.parametrize("secret, why", [
    ("abc", "the secret has 3 characters"),
    ("a" * 40, "the secret has about 0 bits of entropy"),
    ("abababababababababababababababababab", "the secret has about 36 bits of entropy"),
])  # fmt: skip
def test_weak_secrets_are_refused_saying_what_is_accepted(env, secret, why):
    r = run("badges", "register-org", "acme", "--type", "testdata", "--secret", secret, env=env)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"register-org: acme testdata: {why}: {RULE} (or pass --allow-weak)\n"
    assert run("badges", "orgs", "list", env=env).stdout == ""  # nothing was written


def test_allow_weak_accepts_a_secret_already_in_use(env):
    r = run("badges", "register-org", "acme", "--type", "testdata", "--secret", "abc", "--allow-weak", env=env)
    assert (r.returncode, r.stdout) == (0, "acme testdata: registered\n")


def test_missing_arguments_are_listed_together(env):
    r = run("badges", "register-org", env=env)
    assert r.returncode == 2
    assert r.stderr == "register-org: missing ORG, --type, --secret (or $BADGES_SECRET) (or give --from-file)\n"


def test_same_secret_is_idempotent_a_different_one_needs_force(env):
    first, second = new_secret(env), new_secret(env)
    args = ("badges", "register-org", "Acme", "--type", "testdata", "--secret")
    assert run(*args, first, env=env).stdout == "acme testdata: registered\n"
    again = run(*args, first, env=env)
    assert (again.returncode, again.stdout) == (0, "acme testdata: unchanged\n")
    refused = run(*args, second, env=env)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == ("register-org: a different secret is already registered for acme testdata; "
                              "pass --force to replace it\n")  # fmt: skip
    forced = run(*args, second, "--force", env=env)
    assert (forced.returncode, forced.stdout) == (0, "acme testdata: registered\n")
    assert run(*args, second, env=env).stdout == "acme testdata: unchanged\n"  # the new one is in place


def test_badges_secret_is_the_variable_and_the_old_name_warns(env):
    secret = new_secret(env)
    r = run("badges", "register-org", "acme", "--type", "testdata", env={**env, "BADGES_SECRET": secret})
    assert (r.returncode, r.stderr) == (0, "")
    old = run("badges", "register-org", "acme", "--type", "testdata", env={**env, "BADGES_ORG_SECRET": secret})
    assert (old.returncode, old.stdout) == (0, "acme testdata: unchanged\n")  # the same secret was read
    assert old.stderr == "register-org: warning: BADGES_ORG_SECRET is deprecated; set BADGES_SECRET instead\n"


def test_orgs_list_and_remove(env):
    secret = new_secret(env)
    run("badges", "register-org", "acme", "--type", "testdata", "--secret", secret, "--v2-only", env=env)
    run("badges", "register-org", "acme", "--type", "package", "--secret", "ghp_" + secret, env=env)
    run("badges", "register-org", "beta", "--type", "testdata", "--secret", secret, env=env)
    listed = run("badges", "orgs", "list", env=env)
    assert listed.returncode == 0 and secret not in listed.stdout
    kid = key_id(secret)
    assert listed.stdout.splitlines() == [
        "ORG                      TYPE      REPO             V2-ONLY  SECRETS [KEY IDS] OR OIDC RULES",
        f"acme                     package   -                no       badges/acme/package [{key_id('ghp_' + secret)}]",
        f"acme                     testdata  -                yes      badges/acme/testdata [{kid}]",
        f"beta                     testdata  -                no       badges/beta/testdata [{kid}]",
    ]
    r = run("badges", "orgs", "remove", "ACME", "--type", "package", env=env)
    assert (r.returncode, r.stdout) == (0, "acme package: removed\n")
    r = run("badges", "orgs", "remove", "acme", env=env)
    assert (r.returncode, r.stdout) == (0, "acme testdata: removed\n")
    assert [line.split()[0] for line in run("badges", "orgs", "list", env=env).stdout.splitlines()[1:]] == ["beta"]
    gone = run("badges", "orgs", "remove", "acme", env=env)
    assert (gone.returncode, gone.stderr) == (1, "orgs remove: acme has no package or testdata or oidc registration\n")
    # a removed org's secret is gone too: registering a new one needs no --force
    assert run("badges", "register-org", "acme", "--type", "testdata", "--secret", new_secret(env),
               env=env).returncode == 0  # fmt: skip


def test_an_empty_listing_says_how_to_register(env):
    r = run("badges", "orgs", "list", env=env)
    assert (r.returncode, r.stdout) == (0, "")
    assert r.stderr == "no organisations registered (lambdasmith badges register-org ORG --type testdata)\n"


def test_rotation_add_then_retire_and_per_repository_keys(env):
    old, new, own = new_secret(env), new_secret(env), new_secret(env)
    base = ("badges", "register-org", "acme", "--type", "testdata")
    assert run(*base, "--secret", old, env=env).returncode == 0
    added = run(*base, "--add-secret", "--secret", new, env=env)
    assert (added.returncode, added.stdout) == (0, f"acme testdata: key {key_id(new)} added\n")
    assert run(*base, "--add-secret", "--secret", new, env=env).stdout == f"acme testdata: key {key_id(new)} already active\n"
    third = run(*base, "--add-secret", "--secret", own, env=env)
    assert third.returncode == 2 and "2 keys are active; retire one first" in third.stderr
    listed = run("badges", "orgs", "list", env=env).stdout
    assert f"[{key_id(new)}], badges/acme/testdata [{key_id(old)}]" in listed and old not in listed
    retired = run(*base, "--retire-secret", env=env)  # the older of the two
    assert (retired.returncode, retired.stdout) == (0, f"acme testdata: key {key_id(old)} retired\n")
    last = run(*base, "--retire-secret", env=env)
    assert last.returncode == 2 and "only one key is active" in last.stderr
    repo = run(*base, "--repo", "Web", "--secret", own, env=env)
    assert (repo.returncode, repo.stdout) == (0, "acme testdata: registered\n")
    assert "acme                     testdata  web" in run("badges", "orgs", "list", env=env).stdout
    wrong = run(*base, "--repo", "web", "--retire-secret", "abc", env=env)
    assert wrong.returncode == 2 and "only one key is active" in wrong.stderr
    gone = run("badges", "orgs", "remove", "acme", "--repo", "web", env=env)
    assert (gone.returncode, gone.stdout) == (0, "acme testdata: removed\n")


def test_oidc_registration_is_idempotent_and_takes_no_secret(env):
    args = ("badges", "register-org", "Acme", "--type", "oidc", "--repos", "web,api", "--branches", "main,release/*")
    first = run(*args, env=env)
    assert (first.returncode, first.stdout) == (0, "acme oidc: registered\n")
    assert run(*args, env=env).stdout == "acme oidc: unchanged\n"
    assert "repositories=api,web branches=main,release/*" in run("badges", "orgs", "list", env=env).stdout
    refused = run("badges", "register-org", "acme", "--type", "oidc", "--secret", "x" * 40, env=env)
    assert refused.returncode == 2 and "takes no secret" in refused.stderr
    misplaced = run("badges", "register-org", "acme", "--type", "testdata", "--branches", "main", env=env)
    assert misplaced.returncode == 2 and "belong to --type oidc" in misplaced.stderr
