"""Build each service's Lambda code: `build/<service>/` (its template's CodeUri) and `build/<service>.zip`.

    python3 deploy/build.py [badges|wardrobe|all] [--out DIR]        (default all; make build)

Ships our code only, and per service only what its handlers can import: the modules of the
`lambdasmith` package reachable from the handler modules through `import` statements (lazy ones
inside functions and TYPE_CHECKING blocks included), with the packages around them; no
third-party packages, nothing from the dev tree's __pycache__. A service's EXCLUDED modules (the
local platform, CLIs, the other services) must never be reachable: the build refuses to run if a
shipped module imports one. Bytecode is compiled only by an interpreter of the runtime's version
(the template's `Runtime`): Lambda's /var/task is read-only, so sources alone are compiled again
on every cold start, while a .pyc of another version is ignored. The zip is deterministic: sorted
entries, fixed times and modes. Standard library only, so any python3 can run it.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "badges" / "template.yaml"
PACKAGE = "lambdasmith"
# Local platform, CLI and the CI client: never imported by the handler or a request (checked below).
EXCLUDED = (
    "lambdasmith/local/",
    "lambdasmith/cli.py",
    "lambdasmith/__main__.py",
    "lambdasmith/badges/cli.py",
    "lambdasmith/badges/push.py",
    "lambdasmith/badges/reports.py",
)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say
TASK_ROOT = "/var/task"  # where Lambda unpacks the code: the path tracebacks should show
BADGESMITH_ZIP_MB = 6


def runtime_version(template: Path = TEMPLATE) -> tuple[int, int]:
    m = re.search(r"^\s*Runtime:\s*python(\d+)\.(\d+)\s*$", template.read_text(encoding="utf-8"), re.M)
    if not m:
        raise SystemExit(f"build: no python Runtime in {template}")
    return int(m.group(1)), int(m.group(2))


def is_excluded(rel: str) -> bool:
    return any(rel == e or (e.endswith("/") and rel.startswith(e)) for e in EXCLUDED)


def shipped_sources(src_root: Path = ROOT) -> list[str]:
    """Package files to ship, as sorted posix paths relative to src_root."""
    out = []
    for dirpath, dirnames, filenames in os.walk(src_root / PACKAGE):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
        for name in filenames:
            if name.endswith((".pyc", ".pyo")) or name.startswith("."):
                continue
            rel = Path(dirpath, name).relative_to(src_root).as_posix()
            if not is_excluded(rel):
                out.append(rel)
    return sorted(out)


def _module_file(module: str, files: set[str]) -> str | None:
    base = module.replace(".", "/")
    for cand in (base + ".py", base + "/__init__.py"):
        if cand in files:
            return cand
    return None


def excluded_imports(src_root: Path, shipped: list[str]) -> list[str]:
    """`file: module` for every import in a shipped module of an excluded one (even lazy ones)."""
    everything = {p.relative_to(src_root).as_posix() for p in (src_root / PACKAGE).rglob("*.py")}
    problems = []
    for rel in shipped:
        if not rel.endswith(".py"):
            continue
        tree = ast.parse((src_root / rel).read_text(encoding="utf-8"), rel)
        package = rel[:-3].replace("/", ".").removesuffix(".__init__")
        if not rel.endswith("__init__.py"):
            package = package.rpartition(".")[0]
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                # `from a import b` may name module a.b or an attribute of a
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                if t.split(".")[0] != PACKAGE:
                    continue
                f = _module_file(t, everything)
                if f and is_excluded(f):
                    problems.append(f"{rel}: {t}")
    return problems


def _interpreter_for(version: tuple[int, int]) -> str | None:
    """This Python if it is the runtime's version, else a `pythonX.Y` on PATH that really is."""
    if sys.version_info[:2] == version:
        return sys.executable
    found = shutil.which("python%d.%d" % version)
    if not found:
        return None
    probe = subprocess.run([found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True)  # a pyenv shim may exist without the version
    return found if probe.returncode == 0 and probe.stdout.strip() == "%d.%d" % version else None


def compile_tree(python: str, out: Path) -> None:
    # unchecked-hash: no source mtime in the .pyc (reproducible), no source check at import (fast);
    # a fixed hash seed orders frozenset constants alike every build; -s/-p record /var/task paths,
    # not this machine's build dir.
    env = dict(os.environ, PYTHONHASHSEED="0")
    subprocess.run([python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                    "-s", str(out), "-p", TASK_ROOT, str(out / PACKAGE)], check=True, env=env)


def write_zip(tree: Path, target: Path) -> None:
    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for rel in files:
            info = zipfile.ZipInfo(rel, date_time=ZIP_TIME)
            info.create_system = 3  # unix, so the mode below is honoured
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (tree / rel).read_bytes(), compresslevel=9)
    os.replace(tmp, target)


def build(out_root: Path, src_root: Path = ROOT, template: Path = TEMPLATE) -> dict:
    shipped = shipped_sources(src_root)
    problems = excluded_imports(src_root, shipped)
    if problems:
        raise SystemExit("build: shipped modules import excluded ones:\n  " + "\n  ".join(problems))
    out = out_root / "badges"
    if out.exists():
        shutil.rmtree(out)
    for rel in shipped:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src_root / rel, out / rel)
    version = runtime_version(template)
    python = _interpreter_for(version)
    if python:
        compile_tree(python, out)
    zip_path = out_root / "badges.zip"
    write_zip(out, zip_path)
    return {"dir": out, "zip": zip_path, "files": len(shipped), "runtime": version, "compiled_with": python}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "build"), help="output directory (default build/)")
    args = parser.parse_args(argv)
    r = build(Path(args.out).resolve())
    rt = "python%d.%d" % r["runtime"]
    if r["compiled_with"]:
        how = f"sources + .pyc compiled by {r['compiled_with']} for {rt}"
    else:
        here = "%d.%d" % sys.version_info[:2]
        how = f"sources only: no python{rt[6:]} here (this is {here}) and a .pyc of another version is ignored"
    print(f"{r['dir']}: {r['files']} source files, {how}")
    kb = r["zip"].stat().st_size / 1024
    print(f"{r['zip']}: {kb:.1f} KB (BadgeSmith's .NET package: ~{BADGESMITH_ZIP_MB} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
