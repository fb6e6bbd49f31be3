"""No import circles in lambdasmith/: the graph of every import a module runs — at module level
or lazily inside a function, but not the ones under `if TYPE_CHECKING:`, which never run — read
with ast, has no cycle. (A lazy import counts: it is how a circle hides until the first call.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def modules(src_root: Path, package: str = "lambdasmith") -> dict[str, Path]:
    out = {}
    for path in (src_root / package).rglob("*.py"):
        parts = path.relative_to(src_root).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Name)
        and test.id == "TYPE_CHECKING"
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(tree: ast.AST):
    """The import nodes of `tree`, skipping `if TYPE_CHECKING:` bodies (their `else:` runs)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and _type_checking(node):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def graph(src_root: Path, package: str = "lambdasmith") -> dict[str, set[str]]:
    """module → the package's modules it imports."""
    known = modules(src_root, package)
    edges: dict[str, set[str]] = {}
    for module, path in known.items():
        base_package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = base_package.split(".")[: len(base_package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                # `from a import b`: module a.b if there is one, else an attribute of a
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            targets.update(n for n in names if n in known and n != module)
        edges[module] = targets
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_lambdasmith_has_no_import_circle() -> None:
    edges = graph(ROOT)
    assert "lambdasmith.local.endpoints" in edges["lambdasmith.local.serve"]
    assert cycles(edges) == []


def test_the_walk_finds_a_circle_even_through_a_lazy_import(tmp_path: Path) -> None:
    files = {
        "lambdasmith/__init__.py": "",
        "lambdasmith/a.py": "from lambdasmith import b\n",
        "lambdasmith/b.py": "def f():\n    from .c import x\n",
        "lambdasmith/c.py": "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from lambdasmith.d import y\n"
                            "import lambdasmith.a\n",
        "lambdasmith/d.py": "from lambdasmith import c\n",  # c → d only for type checkers: no circle
    }  # fmt: skip
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert cycles(graph(tmp_path)) == [["lambdasmith.a", "lambdasmith.b", "lambdasmith.c"]]
