"""`badges push` on a laptop: the git checkout fills owner, repo, branch and commit; every
missing thing is reported at once."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.cli.support import clean_env, run


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@e", "HOME": str(cwd), "PATH": "/usr/bin:/bin"})  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def checkout(tmp_path):
    repo = tmp_path / "work"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "feature/login")
    git(repo, "commit", "-q", "--allow-empty", "-m", "first")
    return repo


def dry_run(checkout, tmp_path, *args, **env):
    r = run("badges", "push", "--url", "http://127.0.0.1:9", "--passed", "3", "--failed", "1", "--dry-run", *args,
            env=clean_env(tmp_path, BADGES_SECRET="s" * 40, **env), cwd=checkout)  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    return lines[0], json.loads(lines[-1])


@pytest.mark.parametrize("remote", ["https://github.com/Acme/Widgets.git", "git@github.com:Acme/Widgets.git",
                                    "ssh://git@github.com/Acme/Widgets", "https://github.com/Acme/Widgets"])
def test_owner_repo_branch_commit_come_from_git(checkout, tmp_path, remote):
    git(checkout, "remote", "add", "origin", remote)
    sha = git(checkout, "rev-parse", "HEAD")
    target, body = dry_run(checkout, tmp_path)
    assert target.startswith("POST http://127.0.0.1:9/tests/results/") and target.endswith("/Acme/Widgets/feature%2Flogin")
    assert body["commit"] == sha
    assert body["url_html"] == body["workflow_run_url"] == f"https://github.com/Acme/Widgets/commit/{sha}"
    assert body["run_id"].startswith(f"local-{sha[:12]}-")
    assert (body["passed"], body["failed"], body["total"]) == (3, 1, 4)


def test_flags_and_variables_win_over_git(checkout, tmp_path):
    git(checkout, "remote", "add", "origin", "git@github.com:Acme/Widgets.git")
    target, body = dry_run(checkout, tmp_path, "--owner", "other", "--branch", "main", "--commit", "c0ffee",
                           "--run-id", "7", "--platform", "windows", GITHUB_REPOSITORY="ignored/Gadgets")  # fmt: skip
    assert target == "POST http://127.0.0.1:9/tests/results/windows/other/Gadgets/main"
    assert (body["commit"], body["run_id"], body["platform"]) == ("c0ffee", "7", "windows")
    assert body["workflow_run_url"] == "https://github.com/other/Gadgets/commit/c0ffee"


def test_a_push_reaches_a_server_with_the_git_values(checkout, tmp_path):
    """Not only --dry-run: a recording HTTP server gets the signed POST."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    seen = []

    class Record(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append((self.path, self.headers.get("X-Signature"), self.rfile.read(int(self.headers["Content-Length"]))))
            body = b'{"repository":"acme/widgets"}'
            self.send_response(201)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Record)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        git(checkout, "remote", "add", "origin", "https://github.com/Acme/Widgets.git")
        r = run("badges", "push", "--url", f"http://127.0.0.1:{server.server_port}", "--passed", "2",
                env=clean_env(tmp_path, BADGES_SECRET="k" * 40), cwd=checkout)  # fmt: skip
    finally:
        server.shutdown()
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("201 recorded 2 passed, 0 failed, 0 skipped for acme/widgets")
    [(path, signature, body)] = seen
    assert path.endswith("/Acme/Widgets/feature%2Flogin") and signature.startswith("sha256=")
    assert json.loads(body)["commit"] == git(checkout, "rev-parse", "HEAD")


def test_every_missing_thing_is_listed_at_once(tmp_path):
    """Outside a checkout and CI: one line per problem, exit 2; run id and URL are not among them
    (they are derived once owner, repo and commit are known)."""
    r = run("badges", "push", env=clean_env(tmp_path), cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.splitlines() == [
        "badges push: error: missing --url (or BADGES_URL): the badges service's base URL",
        "badges push: error: missing secret: set BADGES_SECRET (or pass --secret)",
        "badges push: error: missing --owner (or GITHUB_REPOSITORY, or a GitHub origin remote)",
        "badges push: error: missing --repo (or GITHUB_REPOSITORY, or a GitHub origin remote)",
        "badges push: error: missing --branch (or GITHUB_HEAD_REF / GITHUB_REF_NAME, or git's current branch)",
        "badges push: error: missing --commit (or GITHUB_SHA, or git's HEAD)",
        "badges push: error: no test results: pass --junit, --trx, report files or --passed/--failed/--skipped",
    ]


def test_in_ci_the_run_id_and_url_are_still_required(checkout, tmp_path):
    env = clean_env(tmp_path, GITHUB_ACTIONS="true", BADGES_SECRET="s" * 40, GITHUB_REPOSITORY="acme/widgets",
                    GITHUB_REF_NAME="main", GITHUB_SHA="abc", RUNNER_OS="Linux")  # fmt: skip
    r = run("badges", "push", "--url", "http://127.0.0.1:9", "--passed", "1", "--dry-run", env=env, cwd=checkout)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "badges push: error: missing --run-id (or GITHUB_RUN_ID)",
        "badges push: error: missing --workflow-run-url (or GITHUB_REPOSITORY and GITHUB_RUN_ID)",
    ]


def test_a_non_github_remote_leaves_owner_and_repo_missing(checkout, tmp_path):
    git(checkout, "remote", "add", "origin", "https://gitlab.com/acme/widgets.git")
    r = run("badges", "push", "--url", "http://127.0.0.1:9", "--passed", "1", "--dry-run",
            env=clean_env(tmp_path, BADGES_SECRET="s" * 40), cwd=checkout)  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "badges push: error: missing --owner (or GITHUB_REPOSITORY, or a GitHub origin remote)",
        "badges push: error: missing --repo (or GITHUB_REPOSITORY, or a GitHub origin remote)",
    ]


def test_help_says_where_outside_ci_values_come_from(tmp_path):
    r = run("badges", "push", "--help", env=clean_env(tmp_path))
    text = " ".join(r.stdout.split())
    assert "outside CI https://github.com/OWNER/REPO/commit/COMMIT" in text
    assert "outside CI git's HEAD" in text
