"""`GET /`: the badge builder. A form for every badge this service draws (a NuGet or GitHub
package version, a repository's test results, their trend), a preview of the badge, and the
Markdown, HTML and shields.io endpoint URL to paste.

The server renders the form, the preview and the snippets from the query string, so the page
works without JavaScript (the form submits to itself); `builder.js` redraws them as you type
and shows the API's message under the preview when the badge is an error. The two build the
same URLs: tests/badges/test_pages.py holds the server's, the browser test the script's.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from lambdasmith.badges.pages.html import esc, page, page_response, segment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping

    from lambdasmith.badges.store import BadgeStore
    from lambdasmith.kit.http.events import Request
    from lambdasmith.kit.http.responses import Response

__all__ = ["FIELDS", "badge_urls", "render"]

KINDS = (("package", "Package version"), ("tests", "Test results"), ("trend", "Test trend"))
PROVIDERS = (("nuget", "NuGet"), ("github", "GitHub Packages"))
STYLES = ("flat", "flat-square", "plastic", "for-the-badge", "social")
FORMATS = (("", "Counts (as BadgeSmith)"), ("percent", "Pass rate"), ("full", "Passed, failed and skipped"))
# name: (label, placeholder, kinds it belongs to)
FIELDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "org": ("Organisation (GitHub)", "your-org", ("package",)),
    "package": ("Package ID", "Newtonsoft.Json", ("package",)),
    "version": ("Version range (NuGet syntax)", "[1.0,2.0)", ("package",)),
    "platform": ("Platform", "linux", ("tests", "trend")),
    "owner": ("Repository owner", "your-org", ("tests", "trend")),
    "repo": ("Repository", "your-repo", ("tests", "trend")),
    "branch": ("Branch", "main", ("tests", "trend")),
    "label": ("Label (optional)", "", ("package", "tests", "trend")),
    "color": ("Color (optional)", "blue or #007ec6", ("package", "tests", "trend")),
    "labelColor": ("Label color (optional)", "#555", ("package", "tests", "trend")),
    "logo": ("Logo (optional: nuget, github, dotnet… or a data: URI)", "", ("package", "tests")),
}
STYLING = ("style", "label", "color", "labelColor", "logo")


def badge_urls(values: Mapping[str, str], origin: str) -> dict[str, str] | None:
    """The badge's image URL, JSON URL, link target and snippets; None while a part is missing."""
    kind = values.get("kind", "package")
    if kind == "package":
        provider = values.get("provider", "nuget")
        package = values.get("package", "").strip()
        org = values.get("org", "").strip()
        if not package or (provider == "github" and not org):
            return None
        parts = ["badges", "packages", provider] + ([org] if provider == "github" else []) + [package]
        target = (f"https://www.nuget.org/packages/{segment(package)}" if provider == "nuget"
                  else f"https://github.com/orgs/{segment(org)}/packages")
        alt = f"{provider} {package}"
        query = {k: values[k] for k in ("version",) if values.get(k, "").strip()}
        if values.get("prerelease") in ("true", "on"):
            query["prerelease"] = "true"
    else:
        names = ("platform", "owner", "repo", "branch")
        repo = [values.get(n, "").strip() for n in names]
        if not all(repo):
            return None
        parts = ["badges", "tests", *repo]
        target = f"{origin}/redirect/test-results/" + "/".join(segment(v) for v in repo)
        alt = f"tests {repo[1]}/{repo[2]} {repo[3]}"
        query = {"format": values["format"]} if kind == "tests" and values.get("format") else {}
    style = {k: values[k] for k in STYLING if values.get(k, "").strip() and not (k == "style" and values[k] == "flat")
             and not (k == "logo" and kind == "trend")}  # the sparkline has no logo
    path = "/" + "/".join(segment(p) for p in parts)
    image = f"{origin}{path}{'/trend.svg' if kind == 'trend' else '.svg'}"
    json_url = f"{origin}{path}" + (f"?{urlencode(query)}" if query else "")
    qs = urlencode({**query, **style})
    image += f"?{qs}" if qs else ""
    urls = {"image": image, "json": json_url, "target": target, "alt": alt}
    urls["markdown"] = f"[![{alt}]({image})]({target})"
    urls["html"] = f'<a href="{esc(target)}"><img src="{esc(image)}" alt="{esc(alt)}"></a>'
    urls["shields"] = "" if kind == "trend" else "https://img.shields.io/endpoint?" + urlencode(
        {"url": json_url, **style}, quote_via=quote)
    return urls


def _origin(request: Request) -> str:
    host = request.header("host") or "127.0.0.1"
    proto = (request.header("x-forwarded-proto") or "").split(",")[0].strip()
    if proto not in ("http", "https"):
        proto = "http" if host.startswith(("127.0.0.1", "localhost", "[::1]")) else "https"
    return f"{proto}://{host}"


def _select(name: str, label: str, options: tuple[tuple[str, str], ...], chosen: str) -> str:
    opts = "".join(f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(t)}</option>'
                   for v, t in options)
    return f'<label for="f-{name}">{esc(label)}</label><select id="f-{name}" name="{name}">{opts}</select>'


def _form(values: Mapping[str, str]) -> str:
    kind = values.get("kind", "package")
    provider = values.get("provider", "nuget")
    rows = [
        f'<div class="field">{_select("kind", "Badge", KINDS, kind)}</div>',
        f'<div class="field" data-kinds="package">{_select("provider", "Provider", PROVIDERS, provider)}</div>',
    ]
    for name, (label, placeholder, kinds) in FIELDS.items():
        hidden = kind not in kinds or (name == "org" and provider != "github")
        extra = ' data-provider="github"' if name == "org" else ""
        rows.append(
            f'<div class="field" data-kinds="{" ".join(kinds)}"{extra}{" hidden" if hidden else ""}>'
            f'<label for="f-{name}">{esc(label)}</label><input id="f-{name}" name="{name}" '
            f'value="{esc(values.get(name, ""))}" placeholder="{esc(placeholder)}" autocomplete="off" '
            'spellcheck="false"></div>'
        )
    checked = " checked" if values.get("prerelease") in ("true", "on") else ""
    rows.append(f'<div class="field check" data-kinds="package"{" hidden" if kind != "package" else ""}>'
                f'<input type="checkbox" id="f-prerelease" name="prerelease" value="true"{checked}>'
                '<label for="f-prerelease">Include prereleases</label></div>')
    rows.append(f'<div class="field" data-kinds="tests"{" hidden" if kind != "tests" else ""}>'
                f'{_select("format", "Message", FORMATS, values.get("format", ""))}</div>')
    rows.append(f'<div class="field">{_select("style", "Style", tuple((s, s) for s in STYLES), values.get("style", "flat"))}</div>')
    return ('<form id="builder" method="get" action="/" class="builder">' + "".join(rows)
            + '<div class="field"><button type="submit" class="js-hidden">Show badge</button></div></form>')


def _result(urls: dict[str, str] | None) -> str:
    if urls is None:
        image = '<img id="preview" alt="badge preview" hidden>'
        note = "Fill in the form to see your badge."
    else:
        image = f'<img id="preview" alt="badge preview: {esc(urls["alt"])}" src="{esc(urls["image"])}">'
        note = ""
    snippets = []
    for key, label in (("markdown", "Markdown"), ("html", "HTML"), ("shields", "shields.io endpoint URL")):
        value = urls.get(key, "") if urls else ""
        snippets.append(
            f'<div class="snippet" data-snippet="{key}"><label for="out-{key}">{label}</label>'
            f'<textarea id="out-{key}" readonly rows="3">{esc(value)}</textarea>'
            f'<button type="button" class="copy" data-copy="out-{key}" hidden>Copy {label}</button></div>'
        )
    return (f'<section class="result" aria-labelledby="result-h"><h2 id="result-h">Preview</h2>'
            f'<div class="preview">{image}</div><p id="preview-message" role="status" aria-live="polite">'
            f'{esc(note)}</p>{"".join(snippets)}</section>')


def _repositories(store: BadgeStore) -> str:
    repos = store.repositories()
    if not repos:
        return ('<section aria-labelledby="repos-h"><h2 id="repos-h">Test results</h2><p>No repository has '
                "posted results yet. CI posts them with <code>lambdasmith badges push</code>.</p></section>")
    items = "".join(f'<li><a href="/dashboard/{segment(o)}/{segment(r)}">{esc(o)}/{esc(r)}</a></li>' for o, r in repos)
    return (f'<section aria-labelledby="repos-h"><h2 id="repos-h">Test results</h2>'
            f'<p>Dashboards of the repositories that have posted results:</p><ul class="repos">{items}</ul></section>')


def render(store: BadgeStore, request: Request, public_url: str = "") -> Response:
    values = {k: v for k, v in request.query.items() if len(v) <= 512}
    urls = badge_urls(values, public_url or _origin(request))
    body = (
        "<h1>Badge builder</h1>"
        '<p class="lede">Pick a badge, see it drawn, copy it into your README.</p>'
        f'<div class="builder-grid">{_form(values)}{_result(urls)}</div>{_repositories(store)}'
    )
    return page_response(request, page("Badge builder · lambdasmith badges", body, scripts=("builder.js",)))
