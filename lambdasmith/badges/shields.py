"""Badge content: the shields.io endpoint JSON and the same badge as an SVG image."""

from __future__ import annotations

from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping


class Badge(Record):
    __slots__ = ("label", "message", "color", "named_logo")
    _defaults = {"named_logo": None}

    label: str
    message: str
    color: str
    named_logo: str | None

    def endpoint(self) -> dict[str, Any]:
        """shields.io endpoint schema, null fields omitted."""
        body: dict[str, Any] = {"schemaVersion": 1, "label": self.label, "message": self.message, "color": self.color}
        if self.named_logo:
            body["namedLogo"] = self.named_logo
        return body


def test_badge(passed: int, failed: int) -> Badge:
    if failed == 0:
        return Badge("tests", f"{passed} passed", "brightgreen")
    if failed > passed:
        return Badge("tests", f"{failed} failed", "red")
    return Badge("tests", f"{passed} passed, {failed} failed", "yellow")


def error_badge(status: int, message: str) -> Badge:
    short = {404: "not found", 401: "unauthorized", 502: "upstream unavailable"}.get(status, "invalid")
    return Badge("badge", short, "lightgrey" if status == 404 else "red")


def render_svg(badge: Badge, query: Mapping[str, str]) -> str:
    """The badge as an image, with the `label`, `color`, `labelColor`, `style`, `logo` and
    `logoColor` query overrides.

    The badge's own named logo is drawn unless `logo` names another (`logo=` with no name: none);
    only built-in names draw (`logos.NAMES`). An unknown style or color falls back to the
    default, and an unknown logo to none, rather than breaking a README's image.
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
    logo = logos.logo_data_uri(logo_name, logo_color, style=style)
    return svg.render(label, badge.message, color, style=style, label_color=label_color, logo=logo)
