"""What `badges push` can learn from the local `git` checkout when it runs outside GitHub Actions.

In CI every field comes from GITHUB_* variables; on a laptop the same facts are in the checkout:
the origin remote names the GitHub repository (https or ssh form), HEAD is the commit, and the
current branch is the branch. Flags and variables still win; this only fills what is left.
Nothing here fails: without git, a checkout or a GitHub remote, the fields stay unknown and
push reports them as missing.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

__all__ = ["Checkout", "github_repo", "read_checkout"]

# https://github.com/o/r(.git), git@github.com:o/r(.git), ssh://git@github.com[:22]/o/r(.git)
_GITHUB = re.compile(
    r"^(?:https?://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com(?::\d+)?/)"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True, slots=True)
class Checkout:
    owner: str | None = None
    repo: str | None = None
    branch: str | None = None
    commit: str | None = None


def github_repo(remote_url: str) -> tuple[str, str] | None:
    """(owner, repo) of a GitHub remote URL, or None for any other URL."""
    m = _GITHUB.match(remote_url.strip())
    return (m.group("owner"), m.group("repo")) if m else None


def _git(*args: str, cwd: str | None) -> str | None:
    try:
        r = subprocess.run(["git", *args], capture_output=True, text=True, cwd=cwd, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    out = r.stdout.strip()
    return out if r.returncode == 0 and out else None


def read_checkout(cwd: str | None = None) -> Checkout:
    remote = _git("remote", "get-url", "origin", cwd=cwd)
    parsed = github_repo(remote) if remote else None
    branch = _git("symbolic-ref", "--quiet", "--short", "HEAD", cwd=cwd)  # None on a detached HEAD
    commit = _git("rev-parse", "--verify", "--quiet", "HEAD", cwd=cwd)
    return Checkout(parsed[0] if parsed else None, parsed[1] if parsed else None, branch, commit)
