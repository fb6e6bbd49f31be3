"""`GET /dashboard/{owner}/{repo}`: a repository's test results, one section per platform and
branch: the latest run (its counts, when, commit, a link to the run), its badges, the trend
chart of the recent runs and the same runs as a table.

`?platform=P&branch=B&cursor=C` shows one section only, from the page of history the cursor
names: the "Older runs" link walks back through the whole history this way. Owner, repository,
platform and branch are matched case-insensitively, as in the API.
"""

from __future__ import annotations

import re

from lambdasmith.badges.pages import chart
from lambdasmith.badges.pages.chart import count
from lambdasmith.badges.pages.html import esc, link, page, page_response, segment
from lambdasmith.kit.http.responses import Response
from lambdasmith.kit.table.port import ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping

    from lambdasmith.badges.store import BadgeStore, Repo
    from lambdasmith.kit.http.events import Request

__all__ = ["RUNS_PER_PAGE", "render"]

RUNS_PER_PAGE = 30
_COMMIT = re.compile(r"[0-9a-fA-F]{7,64}")


def _verdict(run: Mapping[str, Any]) -> tuple[str, str]:
    """(css class, word) of a run."""
    if count(run, "failed"):
        return "failed", "failed"
    if count(run, "passed") == 0:
        return "empty", "no tests"
    return "passed", "passed"


def _commit(where: Repo, run: Mapping[str, Any]) -> str:
    sha = run.get("commit")
    if not isinstance(sha, str) or not sha:
        return "—"
    short = sha[:7]
    if _COMMIT.fullmatch(sha):  # owners are GitHub organisations: the commit is on GitHub
        url = f"https://github.com/{segment(where.owner)}/{segment(where.repo)}/commit/{segment(sha)}"
        return f'<code>{link(url, short)}</code>'
    return f"<code>{esc(short)}</code>"


def _run_link(run: Mapping[str, Any]) -> str:
    url = run.get("workflow_run_url") or run.get("url_html")
    label = f"run {run.get('run_id', '')}".strip()
    return link(url, label)


def _badge_paths(where: Repo) -> tuple[str, str]:
    base = "/badges/tests/" + "/".join(segment(v) for v in (where.platform, where.owner, where.repo, where.branch))
    return base + ".svg", base + "/trend.svg"


def _section(where: Repo, runs: list[dict[str, Any]], next_cursor: str | None, index: int, own_page: bool) -> str:
    latest = runs[0]
    css, word = _verdict(latest)
    badge, trend = _badge_paths(where)
    title = f"{where.branch} on {where.platform}"
    section_id = f"s{index}"
    older = ""
    if next_cursor:
        query = f"?platform={segment(where.platform)}&branch={segment(where.branch)}&cursor={segment(next_cursor)}"
        older = f'<p class="older"><a href="{esc(query)}">Older runs →</a></p>'
    oldest_first = list(reversed(runs))
    rows = "".join(
        f'<tr class="{_verdict(r)[0]}"><td><time datetime="{esc(r.get("timestamp", ""))}">'
        f'{esc(_when(r))}</time></td><td>{count(r, "passed")}</td><td>{count(r, "failed")}</td>'
        f'<td>{count(r, "skipped")}</td><td>{_commit(where, r)}</td><td>{_run_link(r)}</td></tr>'
        for r in runs
    )
    heading = "h1" if own_page else "h2"
    return (
        f'<section class="branch" id="{section_id}" aria-labelledby="{section_id}-h">'
        f'<{heading} id="{section_id}-h">{esc(title)}</{heading}>'
        f'<p class="badges"><img src="{esc(badge)}" alt="tests badge for {esc(title)}"> '
        f'<img src="{esc(trend)}" alt="trend badge for {esc(title)}"></p>'
        f'<p class="latest {css}"><strong class="verdict">{esc(word)}</strong>: '
        f'{count(latest, "passed")} passed, {count(latest, "failed")} failed, '
        f'{count(latest, "skipped")} skipped · <time datetime="{esc(latest.get("timestamp", ""))}">'
        f'{esc(_when(latest))}</time> · commit {_commit(where, latest)} · {_run_link(latest)}</p>'
        f'<figure>{chart.render(oldest_first, f"{section_id}-chart", f"Test results of {title}, oldest to newest")}'
        f'<figcaption>{len(runs)} runs, newest on the right.</figcaption></figure>'
        '<details><summary>The runs as a table</summary><table><thead><tr><th scope="col">When (UTC)</th>'
        '<th scope="col">Passed</th><th scope="col">Failed</th><th scope="col">Skipped</th>'
        f'<th scope="col">Commit</th><th scope="col">Run</th></tr></thead><tbody>{rows}</tbody></table></details>'
        f"{older}</section>"
    )


def _when(run: Mapping[str, Any]) -> str:
    ts = str(run.get("timestamp", ""))
    return ts[:16].replace("T", " ") if len(ts) >= 16 else ts


def not_found(request: Request, owner: str, repo: str) -> Response:
    body = (f"<h1>No test results for {esc(owner)}/{esc(repo)}</h1>"
            "<p>Nothing has been posted for this repository yet (names are matched without regard to case). "
            'CI posts results with <code>lambdasmith badges push</code>; see the <a href="/">badge builder</a>.</p>')
    return page_response(request, page(f"{owner}/{repo}: no test results", body), status=404)


def render(store: BadgeStore, request: Request, owner: str, repo: str) -> Response:
    only_platform = request.query.get("platform", "").lower()
    only_branch = request.query.get("branch", "").lower()
    cursor = request.query.get("cursor") or None
    branches = store.branches(owner, repo)
    if only_platform or only_branch:
        branches = [b for b in branches if b.platform == only_platform and b.branch == only_branch]
    if not branches:
        return not_found(request, owner, repo)
    sections = []
    for i, where in enumerate(branches):
        try:
            history = store.history(where, RUNS_PER_PAGE, cursor if len(branches) == 1 else None)
        except ValidationError:
            return page_response(request, page("Invalid cursor", "<h1>Invalid cursor</h1>"
                                               '<p>The "older runs" link was damaged; start again from the '
                                               "dashboard.</p>"), status=400)
        if history.items:
            sections.append(_section(where, history.items, history.cursor, i, own_page=bool(only_branch)))
    if not sections:
        return not_found(request, owner, repo)
    name = f"{branches[0].owner}/{branches[0].repo}"
    intro = "" if only_branch else (
        f"<h1>{esc(name)} test results</h1>"
        f'<p class="lede">{len(sections)} platform and branch combination{"s" if len(sections) != 1 else ""} '
        "with results, each with its latest run, badges and trend.</p>")
    back = f'<p><a href="/dashboard/{segment(branches[0].owner)}/{segment(branches[0].repo)}">All branches of ' \
        f"{esc(name)}</a></p>" if only_branch else ""
    return page_response(request, page(f"{name} test results", intro + back + "".join(sections)))
