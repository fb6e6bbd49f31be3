"""Build each service's Lambda code: `build/<service>/` (its template's CodeUri) and `build/<service>.zip`.

    python3 deploy/build.py [badges|wardrobe|items|shell|all] [--out DIR] [--jq PATH]   (default all; make build)

Ships our code only, and per service only what its handlers can import: the modules of the
`lambdasmith` package reachable from the handler modules of its manifest (lambdasmith/<service>/
service.py) through `import` statements (lazy ones inside functions and TYPE_CHECKING blocks
included), with the packages around them; no third-party packages, nothing from the dev tree's
__pycache__. A service's excluded modules (the local platform, the files its manifest marks
never-deployed such as CLIs, the other services) must never be reachable: the build refuses to
run if a shipped module imports one. Bytecode is compiled only by an interpreter of the runtime's version
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
PACKAGE = "lambdasmith"
# The services, their handlers and what they must not ship come from the service manifests
# (lambdasmith/<service>/service.py): pure data, standard library only, so a bare python3 reads them.
sys.path.insert(0, str(ROOT))
from deploy import jq_layer  # noqa: E402
from deploy.elf import elf_machine  # noqa: E402, F401  (build.elf_machine, as before)
from lambdasmith.services import SERVICES as MANIFESTS  # noqa: E402

# Never imported by a deployed function: the local platform and the CLI (checked below).
COMMON_EXCLUDED = (
    "lambdasmith/local/",
    "lambdasmith/cli.py",
    "lambdasmith/__main__.py",
)
NOTES = {"badges": "BadgeSmith's .NET package: ~6 MB"}  # printed after the zip's size


class Service:
    """One deployable Python service, from its manifest: its SAM template (the runtime comes from
    there), its handler modules, and the package paths its code must never reach — the local
    platform, its manifest's never-deployed files (CLIs, CI clients), the other services. A path
    ending in "/" stands for a whole package."""

    def __init__(self, manifest, others: tuple[str, ...]):
        self.name = manifest.name
        self.manifest = manifest
        self.template = ROOT / manifest.template
        self.excluded = COMMON_EXCLUDED + tuple(manifest.never_deployed) + others
        self.note = NOTES.get(manifest.name, "")

    @property
    def handler_modules(self) -> list[str]:
        return sorted({fn.module for fn in self.manifest.functions if fn.runtime == "python"})


def _services() -> dict[str, Service]:
    python = [m for m in MANIFESTS if m.package]
    return {m.name: Service(m, tuple(o.package for o in python if o is not m)) for m in python}


SERVICES = _services()
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say
TASK_ROOT = "/var/task"  # where Lambda unpacks the code: the path tracebacks should show


def runtime_version(template: Path) -> tuple[int, int]:
    """The python version of the template's functions (they must all use the same one)."""
    found = set(re.findall(r"^\s*Runtime:\s*python(\d+)\.(\d+)\s*$", template.read_text(encoding="utf-8"), re.M))
    if not found:
        raise SystemExit(f"build: no python Runtime in {template}")
    if len(found) > 1:
        raise SystemExit(f"build: {template} mixes runtimes " + ", ".join("python%s.%s" % v for v in sorted(found)))
    (major, minor), = found
    return int(major), int(minor)


def handler_modules(service: str) -> list[str]:
    """The modules of the service's handlers (its manifest), sorted."""
    return SERVICES[service].handler_modules


def is_excluded(rel: str, excluded: tuple[str, ...]) -> bool:
    return any(rel == e or (e.endswith("/") and rel.startswith(e)) for e in excluded)


def _package_files(src_root: Path) -> set[str]:
    return {p.relative_to(src_root).as_posix() for p in (src_root / PACKAGE).rglob("*.py")}


def _module_file(module: str, files: set[str]) -> str | None:
    base = module.replace(".", "/")
    for cand in (base + ".py", base + "/__init__.py"):
        if cand in files:
            return cand
    return None


def _imports(src_root: Path, rel: str) -> list[str]:
    """Every module name an import in `rel` may load (even lazy ones), absolute."""
    tree = ast.parse((src_root / rel).read_text(encoding="utf-8"), rel)
    package = rel[:-3].replace("/", ".").removesuffix(".__init__")
    if not rel.endswith("__init__.py"):
        package = package.rpartition(".")[0]
    targets: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            # `from a import b` may name module a.b or an attribute of a
            targets += [base] + [f"{base}.{a.name}" for a in node.names]
    return [t for t in targets if t.split(".")[0] == PACKAGE]


def _files_of(module: str, files: set[str]) -> list[str]:
    """The files importing `module` runs: each enclosing package's __init__.py, then its own."""
    parts = module.split(".")
    out = []
    for i in range(1, len(parts) + 1):
        f = _module_file(".".join(parts[:i]), files)
        if f is None:
            break  # the rest names attributes, not modules
        out.append(f)
    return out


def shipped_sources(src_root: Path, service: str) -> list[str]:
    """What the service's handlers can import, as sorted posix paths relative to src_root: the
    package modules reachable from the handler modules (an excluded one is not followed: see
    excluded_imports), and the data files sitting next to a shipped package's __init__.py."""
    svc = SERVICES[service]
    files = _package_files(src_root)
    todo = []
    for module in svc.handler_modules:
        if _module_file(module, files) is None:
            raise SystemExit(f"build: handler module {module} ({svc.manifest.name}'s manifest) is not in {src_root / PACKAGE}")
        todo.append(module)
    shipped: set[str] = set()
    while todo:
        for f in _files_of(todo.pop(), files):
            if f not in shipped and not is_excluded(f, svc.excluded):
                shipped.add(f)
                todo += _imports(src_root, f)
    for init in [f for f in shipped if f.endswith("/__init__.py")]:
        folder = src_root / init.rpartition("/")[0]
        for p in folder.iterdir():
            rel = p.relative_to(src_root).as_posix()
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".py", ".pyc", ".pyo")) \
                    and not is_excluded(rel, svc.excluded):
                shipped.add(rel)
    return sorted(shipped)


def excluded_imports(src_root: Path, shipped: list[str], excluded: tuple[str, ...]) -> list[str]:
    """`file: module` for every import in a shipped module of an excluded one (even lazy ones)."""
    everything = _package_files(src_root)
    problems = []
    for rel in shipped:
        if not rel.endswith(".py"):
            continue
        for t in _imports(src_root, rel):
            f = _module_file(t, everything)
            if f and is_excluded(f, excluded):
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


def write_zip(tree: Path, target: Path, executable: frozenset[str] = frozenset()) -> None:
    """Zip `tree` deterministically; the paths in `executable` get mode 0o755, the rest 0o644."""
    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for rel in files:
            info = zipfile.ZipInfo(rel, date_time=ZIP_TIME)
            info.create_system = 3  # unix, so the mode below is honoured
            info.external_attr = (0o100755 if rel in executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (tree / rel).read_bytes(), compresslevel=9)
    os.replace(tmp, target)


def build(out_root: Path, service: str, src_root: Path = ROOT, template: Path | None = None) -> dict:
    """Build one service into out_root/<service>/ and out_root/<service>.zip. `template` replaces
    the service's own for the runtime version only (handlers always come from the service's)."""
    svc = SERVICES[service]
    shipped = shipped_sources(src_root, service)
    problems = excluded_imports(src_root, shipped, svc.excluded)
    if problems:
        raise SystemExit(f"build: {service}: shipped modules import excluded ones:\n  " + "\n  ".join(problems))
    out = out_root / service
    if out.exists():
        shutil.rmtree(out)
    for rel in shipped:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src_root / rel, out / rel)
    version = runtime_version(template or svc.template)
    python = _interpreter_for(version)
    if python:
        compile_tree(python, out)
    zip_path = out_root / f"{service}.zip"
    write_zip(out, zip_path)
    return {"service": service, "dir": out, "zip": zip_path, "files": len(shipped), "runtime": version,
            "compiled_with": python}


# ------------------------------------------------------------------ the bash runtime (shell)
# Not a Python service: no import graph, no .pyc. Three artifacts for deploy/shell/template.yaml:
# the function's code (the example handlers and helpers.sh, at the zip's root), the bootstrap
# layer (`bootstrap` at the layer's root, so /opt/bootstrap, executable) and the jq layer
# (`bin/jq`, so /opt/bin/jq, on Lambda's PATH, and its libraries in `lib/`, so /opt/lib, on
# LD_LIBRARY_PATH: deploy/jq_layer.py).
SHELL = "shell"
SHELL_SRC = Path(PACKAGE) / "shell"
def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def build_shell(out_root: Path, src_root: Path = ROOT, jq: str | None = None) -> dict:
    """Build out_root/shell/{function,bootstrap-layer,jq-layer}/ and out_root/shell-*.zip. The jq
    layer comes from Debian's arm64 packages (deploy/jq_layer.py: fetched once into .cache/debs/,
    checked against provided.al2023 arm64; a failed check stops the build), unless `jq` names a
    binary to ship as bin/jq instead. Without one (apt unreachable, `jq` not a file) that layer is
    skipped, its zip removed, and "jq" in the result says why; "jq_check" lists what went in."""
    src = src_root / SHELL_SRC
    base = out_root / SHELL
    function = _fresh(base / "function")
    handlers = sorted(p for p in (src / "examples").glob("*.sh") if p.is_file())
    if not handlers:
        raise SystemExit(f"build: no handler in {src / 'examples'}")
    for p in [*handlers, src / "runtime" / "helpers.sh"]:
        shutil.copyfile(p, function / p.name)
    layer = _fresh(base / "bootstrap-layer")
    shutil.copyfile(src / "runtime" / "bootstrap", layer / "bootstrap")
    (layer / "bootstrap").chmod(0o755)
    zips = {"function": out_root / "shell-function.zip", "bootstrap-layer": out_root / "shell-bootstrap-layer.zip"}
    write_zip(function, zips["function"])
    write_zip(layer, zips["bootstrap-layer"], executable=frozenset({"bootstrap"}))
    result = {"service": SHELL, "dir": base, "zips": zips, "handlers": [p.stem for p in handlers],
              "bootstrap_size": (layer / "bootstrap").stat().st_size}
    jq_zip = out_root / "shell-jq-layer.zip"
    jq_layer_dir = base / "jq-layer"

    def skip(why: str) -> dict:
        for stale in (jq_zip, jq_layer_dir):
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
        result["jq"] = f"skipped: {why}; the jq layer is not built"
        return result

    if jq is None:  # the default: Debian's arm64 jq and its libraries
        try:
            check = jq_layer.build_layer(jq_layer_dir)
        except jq_layer.PackagesUnavailable as e:
            return skip(f"no Debian arm64 packages ({e})")
        if check.problems:
            raise SystemExit("build: the jq layer would not run on provided.al2023 arm64:\n  "
                             + "\n  ".join(check.lines()))
        result["jq"] = "bin/jq and lib/ from Debian's arm64 packages, checked for provided.al2023"
    else:
        if not jq or not Path(jq).is_file():
            return skip(f"no jq binary ({jq or 'none given'})")
        _fresh(jq_layer_dir / "bin")
        shutil.copyfile(jq, jq_layer_dir / "bin" / "jq")
        (jq_layer_dir / "bin" / "jq").chmod(0o755)
        check = jq_layer.check_layer(jq_layer_dir)
        arch = elf_machine(Path(jq))
        result["jq"] = f"bin/jq from {jq} ({arch})" + (
            "" if arch == "aarch64" else ": NOT arm64, it will not run on the function (deploy/shell/README.md)") + (
            f"; {len(check.problems)} problem(s) for provided.al2023, listed below" if check.problems else "")
    write_zip(jq_layer_dir, jq_zip, executable=frozenset({"bin/jq"}))
    zips["jq-layer"] = jq_zip
    result["jq_check"] = check
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service", nargs="?", default="all", choices=[*SERVICES, SHELL, "all"],
                        help="the service to build (default: all)")
    parser.add_argument("--out", default=str(ROOT / "build"), help="output directory (default build/)")
    parser.add_argument("--jq", default=None,
                        help="shell: a jq binary for the jq layer instead of Debian's arm64 jq and its libraries")
    args = parser.parse_args(argv)
    if args.service in (SHELL, "all"):
        r = build_shell(Path(args.out).resolve(), jq=args.jq)
        print(f"{r['dir']}: handlers {', '.join(r['handlers'])}; bootstrap {r['bootstrap_size'] / 1024:.1f} KB; "
              f"jq layer: {r['jq']}")
        if "jq_check" in r:
            print("\n".join("  " + line for line in r["jq_check"].lines()))
        for z in r["zips"].values():
            print(f"{z}: {z.stat().st_size / 1024:.1f} KB")
    for service in SERVICES if args.service == "all" else [s for s in [args.service] if s in SERVICES]:
        r = build(Path(args.out).resolve(), service)
        rt = "python%d.%d" % r["runtime"]
        if r["compiled_with"]:
            how = f"sources + .pyc compiled by {r['compiled_with']} for {rt}"
        else:
            here = "%d.%d" % sys.version_info[:2]
            how = f"sources only: no python{rt[6:]} here (this is {here}) and a .pyc of another version is ignored"
        print(f"{r['dir']}: {r['files']} source files, {how}")
        kb = r["zip"].stat().st_size / 1024
        note = SERVICES[service].note
        print(f"{r['zip']}: {kb:.1f} KB" + (f" ({note})" if note else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
