"""Every Lambda function of the project, by the name the local platform knows it by.

The Invoke API (BASE+3), `lambdasmith invoke` and the release pipeline's smoke tests use these
names; each maps to the handler that runs on Lambda.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

FUNCTIONS: dict[str, str] = {
    "items": "lambdasmith.items.app:handler",
    "badges": "lambdasmith.badges.app:handler",
    "wardrobe-api": "lambdasmith.wardrobe.api:handler",
    "wardrobe-worker": "lambdasmith.wardrobe.worker:handler",
}


def function_name(name_or_arn: str) -> str:
    """`items`, `items:live` or `arn:aws:lambda:region:account:function:items[:qualifier]` → `items`."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else ""
    return name_or_arn.split(":", 1)[0]


def load(ref: str) -> Callable[[dict[str, Any], Any], Any]:
    module, _, attr = ref.partition(":")
    return getattr(__import__(module, fromlist=[attr]), attr)
