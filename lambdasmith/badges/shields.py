"""Badge content: the shields.io endpoint JSON and the same badge as an SVG image."""

from __future__ import annotations

from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping


class Badge(Record):
    __slots__ = ("label", "message", "color", "named_logo", "is_error")
    _defaults = {"named_logo": None, "is_error": False}

    label: str
    message: str
    color: str
    named_logo: str | None
    is_error: bool

    def endpoint(self, cache_seconds: int | None = None) -> dict[str, Any]:
        """shields.io endpoint schema, null fields omitted."""
        body: dict[str, Any] = {"schemaVersion": 1, "label": self.label, "message": self.message, "color": self.color}
        if self.named_logo:
            body["namedLogo"] = self.named_logo
        if self.is_error:
            body["isError"] = True
        if cache_seconds is not None:
            body["cacheSeconds"] = cache_seconds
        return body


TEST_FORMATS = ("", "percent", "full")


def test_badge(passed: int, failed: int, skipped: int = 0, fmt: str = "") -> Badge:
    """The test badge: BadgeSmith's messages by default; `percent` and `full` on request (NEW).

    A run that executed nothing reads `no tests` in grey (BadgeSmith: `0 passed`, green).
    """
    if passed + failed == 0:
        return Badge("tests", "no tests" + (f", {skipped} skipped" if skipped else ""), "lightgrey")
    if fmt == "percent":
        from lambdasmith.badges.trend import pass_rate, percent, rate_color

        rate = pass_rate({"passed": passed, "failed": failed})
        return Badge("tests", percent(rate) + (f", {skipped} skipped" if skipped else ""), rate_color(rate))
    color = "brightgreen" if failed == 0 else "red" if failed > passed else "yellow"
    if fmt == "full":
        return Badge("tests", f"{passed} passed, {failed} failed, {skipped} skipped", color)
    if failed == 0:
        return Badge("tests", f"{passed} passed", color)
    if failed > passed:
        return Badge("tests", f"{failed} failed", color)
    return Badge("tests", f"{passed} passed, {failed} failed", color)


# What an error badge says, by the error's code (else by its status): short, as shields words them.
ERROR_MESSAGES = {
    "PACKAGE_NOT_FOUND": "not found",
    "VERSION_NOT_FOUND": "no matching version",
    "TEST_RESULTS_NOT_FOUND": "no results",
    "ORG_TOKEN_MISSING": "no token",
    "UPSTREAM_AUTH": "token rejected",
    "UPSTREAM_UNAVAILABLE": "upstream unavailable",
    "PACKAGE_RANGE_INVALID": "invalid range",
}
_BY_STATUS = {404: "not found", 401: "unauthorized", 502: "upstream unavailable"}


def error_badge(label: str, status: int, code: str | None = None) -> Badge:
    """An error drawn with the badge's own label: `nuget | not found`, `tests | no results`."""
    message = ERROR_MESSAGES.get(code or "") or _BY_STATUS.get(status, "invalid")
    return Badge(label, message, "lightgrey" if status == 404 else "red", is_error=True)


def render_svg(badge: Badge, query: Mapping[str, str]) -> str:
    """The badge as an image, with the `label`, `color`, `labelColor`, `style`, `logo` and
    `logoColor` query overrides.

    The badge's own named logo is drawn unless `logo` names another (`logo=` with no name: none);
    only built-in names draw (`logos.NAMES`), and custom logos given as a data: URI
    (`logos.custom_logo`). An unknown style or color falls back to the default, and an unknown
    logo to none, rather than breaking a README's image.
    """
    from lambdasmith.badges import logos, svg

    style = query.get("style", "flat").lower()
    if style not in svg.STYLES:
        style = "flat"
    label = query["label"] if "label" in query else badge.label
    color = svg.normalize_color(query.get("color")) or svg.normalize_color(badge.color) or "#9f9f9f"
    label_color = svg.normalize_color(query.get("labelColor") or query.get("labelcolor"))
    logo_name = query["logo"] if "logo" in query else badge.named_logo
    logo_color = query.get("logoColor") or query.get("logocolor")
    if logo_name and logo_name[:5].lower() == "data:":
        logo = logos.custom_logo(logo_name)  # drawn as given: logoColor does not recolor it
    else:
        logo = logos.logo_data_uri(logo_name, logo_color, style=style)
    return svg.render(label, badge.message, color, style=style, label_color=label_color, logo=logo)
