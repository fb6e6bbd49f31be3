"""The documentation is the contract: README.md and docs/ link only inside the repository, and they
name every route of the HTTP systems and every variable the config classes read."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from lambdasmith.kit.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def prose(path: Path) -> str:
    """The file without fenced blocks (a `#` comment in a shell block is not a heading)."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def links(path: Path) -> list[str]:
    """Every Markdown link target outside code; inline code is kept out too."""
    return LINK.findall(INLINE_CODE.sub("", prose(path)))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(prose(path)):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)  # http:, https:, mailto:


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(doc: Path) -> None:
    broken = []
    for target in links(doc):
        if not relative(target):
            continue
        path_part, _, anchor = target.partition("#")
        dest = (doc.parent / unquote(path_part)).resolve() if path_part else doc
        if ROOT not in (dest, *dest.parents):
            broken.append(f"{target}: outside the repository")
        elif not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_points_at_the_old_shared_spec(doc: Path) -> None:
    assert "shared/spec" not in doc.read_text(encoding="utf-8")


def test_every_contract_is_there() -> None:
    for name in ("badges", "wardrobe", "items", "shell-runtime", "platform", "aws", "self-hosting"):
        assert (ROOT / "docs" / f"{name}.md").is_file(), name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("badges", "wardrobe", "items", "shell-runtime", "platform", "aws", "self-hosting"):
        assert f"docs/{name}.md" in readme, f"README.md does not link docs/{name}.md"


def _routes(module: str, service: str) -> list[tuple[str, str]]:
    mod = importlib.import_module(module)
    svc = object.__new__(getattr(mod, service))  # the router only takes bound methods of it
    return [(r.method, r.template) for r in mod.build_router(svc).routes]


@pytest.mark.parametrize(
    ("module", "service", "doc"),
    [
        ("lambdasmith.badges.app", "BadgesService", "badges.md"),
        ("lambdasmith.wardrobe.api", "WardrobeService", "wardrobe.md"),
    ],
)
def test_every_route_is_documented(module: str, service: str, doc: str) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("|")]
    missing = []
    for method, template in _routes(module, service):
        if not any(f"`{template}`" in row and method in row for row in rows):
            missing.append(f"{method} {template}")
    assert not missing, f"docs/{doc} has no table row for: {', '.join(missing)}"


def _config_classes() -> list[type[Settings]]:
    modules = [f"lambdasmith.{p.parent.name}.config" for p in sorted((ROOT / "lambdasmith").glob("*/config.py"))]
    modules.append("lambdasmith.local.serve_config")
    found = []
    for name in modules:
        mod = importlib.import_module(name)
        found += [v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, Settings) and v is not Settings
                  and v.__module__ == name]  # fmt: skip
    return found


def test_config_classes_are_found() -> None:
    names = {c.__name__ for c in _config_classes()}
    assert {"BadgesConfig", "WardrobeConfig", "ItemsConfig", "ServeConfig"} <= names


def test_every_config_variable_is_named_in_docs() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    missing = sorted({var for cls in _config_classes() for var in cls.variables() if f"`{var}`" not in text})
    assert not missing, f"not named in docs/: {', '.join(missing)}"
