"""Rewrite the kit's old flat module paths to the package layout of issue 9.

    python3 tools/rewrite_imports.py [--check] PATH...

Each PATH is a file or a directory (searched for *.py, *.md, *.yaml, *.yml, *.toml, *.txt,
*.cfg, *.sh, Makefile). Rewritten:

- `from lambdasmith.kit.OLD import a, b as c` (one line or parenthesised over several lines):
  each name goes to the module that now holds it, so an import from a module that was split
  (`table`, `dynamodb_table`, `secrets`) becomes one statement per new module;
- `from lambdasmith.kit import OLD [as x]` → `from lambdasmith.kit.PKG import NEW as OLD`
  (the local name stays, so the code below keeps working);
- `import lambdasmith.kit.OLD` → the new module (for a split module: where most of it went;
  a warning names the file, as `lambdasmith.kit.OLD.attr` uses are then rewritten per name);
- any other `lambdasmith.kit.OLD` / `lambdasmith.kit.OLD.Name` / `kit.OLD` text (strings,
  docstrings, mock targets) and `lambdasmith/kit/OLD.py` / `kit/OLD.py` paths.

Idempotent: new paths are never matched again (`lambdasmith.kit.table` followed by one of the
table package's own submodules is already new). Standard library only. `--check` changes
nothing and exits 1 when some file would change.
"""

from __future__ import annotations

import os
import re
import sys

__all__ = ["MODULES", "SPLIT", "new_module", "rewrite_text", "rewrite_file", "main"]

K = "lambdasmith.kit."

# Old module (under lambdasmith.kit) → new module, for modules that moved whole; for a split
# module, where a name not listed in SPLIT (and an `import` of the whole module) goes.
MODULES = {
    "table": "table.port",
    "sqlite_table": "table.sqlite",
    "dynamodb_table": "table.dynamodb.table",
    "cursors": "table.cursors",
    "queue": "queue.port",
    "sqlite_queue": "queue.sqlite",
    "sqs_queue": "queue.sqs",
    "secrets": "secrets.port",
    "aws_secrets": "secrets.aws",
    "events": "http.events",
    "routing": "http.routing",
    "responses": "http.responses",
    "httpwire": "http.wire",
    "upstream": "http.upstream",
    "jwt": "auth.jwt",
    "logs": "observability.logs",
    "metrics": "observability.metrics",
}

# The table port's public names (what `dynamodb_table` and `sqlite_table` used to import from
# `table`, and so also held): imported from either old backend, they come from the port.
_PORT_NAMES = (
    "MAX_ITEM_BYTES MAX_TRANSACTION_ITEMS Item Index TableSpec Absent Exists AttrEquals "
    "AttrAbsent AllOf Condition evaluate SortKey Update Put Patch Delete Check Write Page "
    "TableError ValidationError ItemTooLarge ConditionFailed TransactionCanceled Throttled "
    "ResourceNotFound Table item_size key_of check_item check_key check_update check_condition "
    "check_sort_key check_text"
).split()

_CURSOR_NAMES = ("encode_cursor", "decode_cursor")

# (old module, name) → new module, for the modules that were split.
SPLIT: dict[str, dict[str, str]] = {
    "table": {**{n: "table.cursors" for n in _CURSOR_NAMES}},
    "dynamodb_table": {
        **{n: "table.port" for n in _PORT_NAMES},
        **{n: "table.cursors" for n in _CURSOR_NAMES},
        "default_client": "table.dynamodb.client",
        **{
            n: "table.dynamodb.marshal"
            for n in ("marshal", "unmarshal", "marshal_item", "unmarshal_item", "number")
        },
        **{
            n: "table.dynamodb.expressions"
            for n in (
                "Expression",
                "expired_expr",
                "unexpired_expr",
                "compile_condition",
                "compile_update",
                "sort_key_expr",
            )
        },
        **{n: "table.dynamodb.admin" for n in ("create_table", "delete_table")},
    },
    "sqlite_table": {n: "table.port" for n in _PORT_NAMES},
    "secrets": {"SqliteSecrets": "secrets.sqlite"},
}

# Submodules of the new packages that share a name with an old module: `lambdasmith.kit.table`
# followed by one of these is already the new layout.
_PACKAGES = {
    "table": {"port", "sqlite", "cursors", "dynamodb"},
    "queue": {"port", "sqlite", "sqs"},
    "secrets": {"port", "sqlite", "aws"},
}

_OLD = "|".join(sorted(MODULES, key=len, reverse=True))
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def new_module(old: str, name: str | None = None) -> str:
    """The new dotted module (without `lambdasmith.kit.`) holding `name` of old module `old`."""
    if name is not None and name in SPLIT.get(old, {}):
        return SPLIT[old][name]
    return MODULES[old]


def _already_new(old: str, rest: str) -> bool:
    return old in _PACKAGES and rest in _PACKAGES[old]


# ---------------------------------------------------------------------------- from-imports

_FROM = re.compile(
    r"^(?P<indent>[ \t]*)from[ \t]+lambdasmith\.kit\.(?P<old>" + _OLD + r")[ \t]+import[ \t]+"
    r"(?:\((?P<paren>[^)]*)\)|(?P<plain>[^\n#]*?))(?P<comment>[ \t]*#[^\n]*)?$",
    re.M,
)
_FROM_KIT = re.compile(
    r"^(?P<indent>[ \t]*)from[ \t]+lambdasmith\.kit[ \t]+import[ \t]+"
    r"(?:\((?P<paren>[^)]*)\)|(?P<plain>[^\n#]*?))(?P<comment>[ \t]*#[^\n]*)?$",
    re.M,
)
_IMPORT = re.compile(
    r"^(?P<indent>[ \t]*)import[ \t]+lambdasmith\.kit\.(?P<old>" + _OLD + r")(?![\w.])"
    r"(?P<alias>[ \t]+as[ \t]+" + _IDENT + r")?",
    re.M,
)


def _names(text: str) -> list[tuple[str, str | None]]:
    out = []
    for part in re.sub(r"#[^\n]*", "", text).replace("\\\n", " ").split(","):
        part = part.strip()
        if not part:
            continue
        bits = part.split()
        if len(bits) == 3 and bits[1] == "as":
            out.append((bits[0], bits[2]))
        elif len(bits) == 1:
            out.append((bits[0], None))
        else:
            raise ValueError(f"cannot parse imported name {part!r}")
    return out


def _spell(name: str, alias: str | None) -> str:
    return name if alias is None or alias == name else f"{name} as {alias}"


def _statement(indent: str, module: str, names: list[str], multiline: bool, comment: str) -> str:
    if multiline and (len(names) > 1 or comment):
        body = "".join(f"{indent}    {n},\n" for n in names)
        return f"{indent}from {module} import ({comment}\n{body}{indent})"
    return f"{indent}from {module} import {', '.join(names)}{comment}"


def _rewrite_from(m: re.Match[str]) -> str:
    old, indent = m.group("old"), m.group("indent")
    multiline = m.group("paren") is not None
    names = _names(m.group("paren") if multiline else m.group("plain"))
    comment = m.group("comment") or ""
    if old in _PACKAGES and all(n in _PACKAGES[old] for n, _ in names):
        return m.group(0)  # `from lambdasmith.kit.table import port`: already new
    groups: dict[str, list[str]] = {}
    for name, alias in names:
        if old in _PACKAGES and name in _PACKAGES[old]:
            groups.setdefault(old, []).append(_spell(name, alias))
        else:
            groups.setdefault(new_module(old, name), []).append(_spell(name, alias))
    statements = []
    for i, (module, spelled) in enumerate(sorted(groups.items())):
        statements.append(_statement(indent, K + module, spelled, multiline, comment if i == 0 else ""))
    return "\n".join(statements)


def _rewrite_from_kit(m: re.Match[str]) -> str:
    multiline = m.group("paren") is not None
    names = _names(m.group("paren") if multiline else m.group("plain"))
    if not any(n in MODULES and n not in _PACKAGES for n, _ in names):
        return m.group(0)  # nothing moved (or `from lambdasmith.kit import table`: a package now)
    indent, comment = m.group("indent"), m.group("comment") or ""
    groups: dict[str, list[str]] = {}
    for name, alias in names:
        if name in MODULES and name not in _PACKAGES:
            package, _, leaf = MODULES[name].rpartition(".")
            groups.setdefault(K + package, []).append(_spell(leaf, alias or name))
        else:
            groups.setdefault("lambdasmith.kit", []).append(_spell(name, alias))
    statements = []
    for i, (module, spelled) in enumerate(sorted(groups.items())):
        statements.append(_statement(indent, module, spelled, multiline, comment if i == 0 else ""))
    return "\n".join(statements)


# ---------------------------------------------------------------------------- other text

_DOTTED = re.compile(
    r"(?<![\w.])(?P<pre>(?:lambdasmith\.)?kit\.)(?P<old>" + _OLD + r")(?:\.(?P<rest>" + _IDENT + r")(?!\w)|(?!\w|\.\w))(?![ \t]+import[ \t])"
)
_PATH = re.compile(r"(?<![\w.])(?P<pre>(?:lambdasmith/)?kit/)(?P<old>" + _OLD + r")\.py(?!\w)")


def _rewrite_dotted(m: re.Match[str]) -> str:
    old, rest = m.group("old"), m.group("rest")
    if rest is not None and _already_new(old, rest):
        return m.group(0)
    pre = m.group("pre")
    if rest is None:
        return pre + MODULES[old]
    return f"{pre}{new_module(old, rest)}.{rest}"


def _rewrite_path(m: re.Match[str]) -> str:
    return m.group("pre") + MODULES[m.group("old")].replace(".", "/") + ".py"


def rewrite_text(text: str, *, python: bool = True, warn: list[str] | None = None) -> str:
    """`text` with every old kit path rewritten; `python` also rewrites import statements."""
    if python:
        text = _FROM.sub(_rewrite_from, text)
        text = _FROM_KIT.sub(_rewrite_from_kit, text)

        def imp(m: re.Match[str]) -> str:
            old = m.group("old")
            if old in SPLIT and warn is not None:
                warn.append(f"`import lambdasmith.kit.{old}` now imports {K}{MODULES[old]}; check its uses")
            return f"{m.group('indent')}import {K}{MODULES[old]}{m.group('alias') or ''}"

        text = _IMPORT.sub(imp, text)
        text = _sort_runs(text)
    text = _DOTTED.sub(_rewrite_dotted, text)
    return _PATH.sub(_rewrite_path, text)


_ONE_LINE = re.compile(r"([ \t]*)from (lambdasmith(?:\.\w+)*) import [^()\n]+")


def _sort_runs(text: str) -> str:
    """Put each run of one-line `from lambdasmith… import …` statements (same indent) in module
    order again, as isort would, since a moved module may now sort elsewhere."""
    lines = text.split("\n")
    out: list[str] = []
    run: list[tuple[str, str]] = []
    indent = None
    for line in lines + [""]:
        m = _ONE_LINE.fullmatch(line)
        if m and (indent is None or m.group(1) == indent):
            run.append((m.group(2), line))
            indent = m.group(1)
            continue
        out.extend(line for _, line in sorted(run, key=lambda r: r[0]))
        run, indent = [], None
        m = _ONE_LINE.fullmatch(line)
        if m:
            run, indent = [(m.group(2), line)], m.group(1)
        else:
            out.append(line)
    return "\n".join(out[:-1])


# ---------------------------------------------------------------------------- files

_SUFFIXES = (".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".sh", ".json")
_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".cache", ".tools", "build"}
_SELF = os.path.abspath(__file__)


def _files(paths: list[str]):
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                for f in sorted(files):
                    if f.endswith(_SUFFIXES) or f == "Makefile":
                        yield os.path.join(root, f)
        else:
            yield path


def rewrite_file(path: str, *, write: bool = True, warn: list[str] | None = None) -> bool:
    """Rewrite one file in place; True when it changed (or would, with write=False)."""
    if os.path.abspath(path) == _SELF:
        return False  # this file spells the old paths on purpose
    with open(path, encoding="utf-8") as f:
        before = f.read()
    notes: list[str] = []
    after = rewrite_text(before, python=path.endswith(".py"), warn=notes)
    if warn is not None:
        warn.extend(f"{path}: {n}" for n in notes)
    if after == before:
        return False
    if write:
        with open(path, "w", encoding="utf-8") as f:
            f.write(after)
    return True


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    if not args:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    changed, warnings = [], []
    for path in _files(args):
        if rewrite_file(path, write=not check, warn=warnings):
            changed.append(path)
    for w in warnings:
        print("warning:", w, file=sys.stderr)
    for path in changed:
        print(("would rewrite " if check else "rewrote ") + path)
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
