"""deploy/build.py, checked offline: what each service's zip holds (its handlers' imports, nothing
else), determinism, the import check, bytecode, and the built code serving requests on its own.
The shell's artifacts are test_build_shell.py's."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import cfnlint.decode
import pytest

from tests.support.templates import ROOT, event, load_build_module, probe, run_build

TEMPLATE = ROOT / "deploy" / "badges" / "template.yaml"
WARDROBE_TEMPLATE = ROOT / "deploy" / "wardrobe" / "template.yaml"


# ------------------------------------------------------------------ build


def test_build_without_a_service_builds_every_service(tmp_path: Path) -> None:
    """`make build` runs deploy/build.py without arguments: every template's CodeUri is made."""
    stdout = run_build(tmp_path)
    for name in ("badges", "wardrobe", "items"):
        assert (tmp_path / f"{name}.zip").is_file() and (tmp_path / name / "lambdasmith").is_dir()
        assert f"{name}.zip" in stdout
    assert sorted(load_build_module().SERVICES) == ["badges", "items", "wardrobe"]


def test_each_service_builds_from_its_own_templates_handlers() -> None:
    b = load_build_module()
    assert b.handler_modules("badges") == ["lambdasmith.badges.app"]
    assert b.handler_modules("wardrobe") == ["lambdasmith.wardrobe.api", "lambdasmith.wardrobe.worker"]
    for svc in b.SERVICES.values():
        fns = [r["Properties"] for r in cfnlint.decode.decode(str(svc.template))[0]["Resources"].values()
               if r["Type"] == "AWS::Serverless::Function"]
        assert (svc.template.parent / fns[0]["CodeUri"]).resolve() == ROOT / "build" / svc.name
        assert {f["CodeUri"] for f in fns} == {fns[0]["CodeUri"]}


def test_build_prints_what_it_shipped_and_the_zip_size(built: tuple[Path, str]) -> None:
    out, stdout = built
    assert "KB" in stdout and "6 MB" in stdout
    assert ("sources only" in stdout) or (".pyc compiled" in stdout)
    assert (out / "badges" / "lambdasmith" / "badges" / "app.py").is_file()


def test_zip_holds_our_code_only(built: tuple[Path, str]) -> None:
    out, _ = built
    with zipfile.ZipFile(out / "badges.zip") as zf:
        names = zf.namelist()
    on_disk = sorted(p.relative_to(out / "badges").as_posix() for p in (out / "badges").rglob("*") if p.is_file())
    assert names == on_disk  # sorted, and exactly the CodeUri directory
    assert all(n.startswith("lambdasmith/") for n in names)
    assert not [n for n in names if "tests/" in n or "site-packages" in n or n.endswith(".dist-info")]
    tag = "." + ("cpython-%d%d" % load_build_module().runtime_version(TEMPLATE)) + ".pyc"
    assert all(n.endswith(tag) for n in names if n.endswith(".pyc")), "only the runtime's bytecode"
    for rel in load_build_module().SERVICES["badges"].excluded:
        assert not [n for n in names if n == rel or n.startswith(rel)], rel
    # Only what the handler can import: the wardrobe and its kit modules stay out. (The table
    # port's cursors, kit/table/cursors.py, ship: every table backend encodes its pages there;
    # OIDC ingestion's token verifier, kit/auth/{jwt,oidc,rsa}.py, ships, imported on a Bearer post only.)
    assert not [n for n in names if n.startswith("lambdasmith/wardrobe/")]
    assert "lambdasmith/kit/table/cursors.py" in names
    assert {"lambdasmith/kit/auth/oidc.py", "lambdasmith/kit/auth/rsa.py", "lambdasmith/kit/auth/jwt.py"} <= set(names)


def snapshot(tmp_path: Path) -> Path:
    """A frozen copy of the package, so edits to the working tree mid-test don't look like drift."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "lambdasmith", src / "lambdasmith", ignore=shutil.ignore_patterns("__pycache__"))
    return src


@pytest.mark.parametrize("service", ["badges", "wardrobe"])
def test_build_is_deterministic(tmp_path: Path, service: str) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    first = b.build(tmp_path / "one", service, src_root=src)
    second = b.build(tmp_path / "two", service, src_root=src)
    assert first["zip"].read_bytes() == second["zip"].read_bytes()


def test_the_real_tree_ships_nothing_that_imports_an_excluded_module() -> None:
    b = load_build_module()
    assert b.excluded_imports(ROOT, b.shipped_sources(ROOT, "badges"), b.SERVICES["badges"].excluded) == []


def test_the_import_check_catches_an_excluded_import(tmp_path: Path) -> None:
    b = load_build_module()
    for rel, text in {
        "lambdasmith/__init__.py": "",
        "lambdasmith/badges/__init__.py": "",
        "lambdasmith/badges/app.py": "from . import store\n"
                                     "def handler(e, c):\n    from lambdasmith.badges import push\n",
        "lambdasmith/badges/store.py": "from . import reports\n",
        "lambdasmith/badges/push.py": "",
        "lambdasmith/badges/reports.py": "",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    problems = b.excluded_imports(tmp_path, b.shipped_sources(tmp_path, "badges"), b.SERVICES["badges"].excluded)
    assert problems == ["lambdasmith/badges/app.py: lambdasmith.badges.push",
                        "lambdasmith/badges/store.py: lambdasmith.badges.reports"]


def test_the_built_code_serves_requests_on_its_own(built: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = built
    code = out / "badges"
    result = probe(code, [
        ("health", event("GET", "/health")),
        ("range", event("GET", "/badges/packages/nuget/x", "version=%5B1.0")),
        ("range_svg", event("GET", "/badges/packages/nuget/x.svg", "version=%5B1.0")),
        ("preflight", event("OPTIONS", "/tests/results/github/o/r/main", headers={
            "origin": "https://example.com", "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-signature, x-evil"})),
    ], {"LAMBDASMITH_DATA_DIR": str(tmp_path)})
    r = result["responses"]
    assert r["health"]["status"] == 200 and json.loads(r["health"]["body"])["status"] == "Healthy"
    assert r["range"]["status"] == 400
    assert json.loads(r["range"]["body"])["error_details"][0]["error_code"] == "PACKAGE_RANGE_INVALID"
    assert r["range_svg"]["status"] == 400 and r["range_svg"]["headers"]["content-type"].startswith("image/svg+xml")
    pre = r["preflight"]
    assert pre["status"] == 204
    assert pre["headers"]["access-control-allow-origin"] == "*"
    assert pre["headers"]["access-control-max-age"] == "3600"
    assert "POST" in pre["headers"]["access-control-allow-methods"]
    assert "x-evil" not in pre["headers"].get("access-control-allow-headers", "")
    # It really ran the built tree, and the excluded modules are really gone.
    assert result["files"] and all(f.startswith(str(code)) for f in result["files"])
    assert result["site"] == []
    assert sorted(result["missing"]) == ["lambdasmith.badges.push", "lambdasmith.badges.reports",
                                         "lambdasmith.cli", "lambdasmith.local"]


def test_bytecode_is_shipped_and_used_when_built_by_the_runtime_version(tmp_path: Path) -> None:
    # Pretend the runtime is this interpreter's version, so this machine compiles.
    b = load_build_module()
    here = "python%d.%d" % sys.version_info[:2]
    tpl = tmp_path / "template.yaml"
    tpl.write_text(TEMPLATE.read_text(encoding="utf-8").replace(
        "Runtime: python%d.%d" % b.runtime_version(TEMPLATE), f"Runtime: {here}"), encoding="utf-8")
    src = snapshot(tmp_path)
    first = b.build(tmp_path / "one", "badges", src_root=src, template=tpl)
    second = b.build(tmp_path / "two", "badges", src_root=src, template=tpl)
    assert first["compiled_with"] and first["runtime"] == sys.version_info[:2]
    assert first["zip"].read_bytes() == second["zip"].read_bytes()
    code = first["dir"]
    sources = list(code.rglob("*.py"))
    pycs = list(code.rglob(f"*.{sys.implementation.cache_tag}.pyc"))
    assert sources and len(pycs) == len(sources)
    result = probe(code, [("health", event("GET", "/health"))], {"LAMBDASMITH_DATA_DIR": str(tmp_path / "data")})
    assert result["responses"]["health"]["status"] == 200
    assert result["compiled"] == [], "the handler path compiled sources despite shipped bytecode"


def test_sources_only_when_no_interpreter_matches_the_runtime(tmp_path: Path) -> None:
    b = load_build_module()
    tpl = tmp_path / "template.yaml"
    tpl.write_text(TEMPLATE.read_text(encoding="utf-8").replace(
        "Runtime: python%d.%d" % b.runtime_version(TEMPLATE), "Runtime: python3.99"), encoding="utf-8")
    r = b.build(tmp_path / "out", "badges", template=tpl)
    assert r["compiled_with"] is None
    assert not list(r["dir"].rglob("*.pyc"))


# ================================================================== wardrobe


# ------------------------------------------------------------------ wardrobe: build


def test_wardrobe_zip_holds_only_what_its_handlers_import(built_wardrobe: tuple[Path, str]) -> None:
    out, stdout = built_wardrobe
    assert "wardrobe.zip" in stdout and "badges.zip" not in stdout
    with zipfile.ZipFile(out / "wardrobe.zip") as zf:
        names = zf.namelist()
    code = out / "wardrobe"
    assert names == sorted(p.relative_to(code).as_posix() for p in code.rglob("*") if p.is_file())
    assert {"lambdasmith/wardrobe/api.py", "lambdasmith/wardrobe/worker.py", "lambdasmith/wardrobe/store.py",
            "lambdasmith/kit/auth/jwt.py", "lambdasmith/kit/table/dynamodb/table.py", "lambdasmith/kit/queue/sqs.py",
            "lambdasmith/kit/secrets/aws.py"} <= set(names)
    assert not [n for n in names if n.startswith(("lambdasmith/badges/", "lambdasmith/local/"))]
    assert not {"lambdasmith/wardrobe/cli.py", "lambdasmith/cli.py", "lambdasmith/__main__.py"} & set(names)
    assert not [n for n in names if "site-packages" in n or n.endswith(".dist-info")]


def test_the_real_tree_ships_no_excluded_module_in_any_service() -> None:
    b = load_build_module()
    for name, svc in b.SERVICES.items():
        assert b.excluded_imports(ROOT, b.shipped_sources(ROOT, name), svc.excluded) == [], name


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_a_service_ships_what_its_handlers_can_import_and_nothing_else(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "lambdasmith/__init__.py": "",
        "lambdasmith/kit/__init__.py": "",
        "lambdasmith/kit/used.py": "",
        "lambdasmith/kit/lazy.py": "from .deep import thing\n",
        "lambdasmith/kit/deep.py": "",
        "lambdasmith/kit/typing_only.py": "",
        "lambdasmith/kit/unused.py": "",
        "lambdasmith/badges/__init__.py": "",
        "lambdasmith/badges/widths.json": "{}",
        "lambdasmith/badges/app.py": "from lambdasmith.kit import used\nTYPE_CHECKING = False\nif TYPE_CHECKING:\n"
                                     "    from lambdasmith.kit.typing_only import T\n"
                                     "def handler(e, c):\n    from ..kit.lazy import f\n",
        "lambdasmith/wardrobe/__init__.py": "",
        "lambdasmith/wardrobe/api.py": "",
    })  # fmt: skip
    assert load_build_module().shipped_sources(tmp_path, "badges") == [
        "lambdasmith/__init__.py", "lambdasmith/badges/__init__.py", "lambdasmith/badges/app.py",
        "lambdasmith/badges/widths.json", "lambdasmith/kit/__init__.py", "lambdasmith/kit/deep.py",
        "lambdasmith/kit/lazy.py", "lambdasmith/kit/typing_only.py", "lambdasmith/kit/used.py"]


def test_the_wardrobe_build_refuses_to_ship_badges_code_or_a_missing_handler(tmp_path: Path) -> None:
    b = load_build_module()
    write_tree(tmp_path, {
        "lambdasmith/__init__.py": "",
        "lambdasmith/badges/__init__.py": "",
        "lambdasmith/badges/app.py": "",
        "lambdasmith/wardrobe/__init__.py": "",
        "lambdasmith/wardrobe/api.py": "def handler(e, c):\n    from lambdasmith.badges import app\n",
    })  # fmt: skip
    with pytest.raises(SystemExit, match="lambdasmith.wardrobe.worker"):
        b.shipped_sources(tmp_path, "wardrobe")
    (tmp_path / "lambdasmith/wardrobe/worker.py").write_text("from .api import handler as _\n")
    problems = b.excluded_imports(tmp_path, b.shipped_sources(tmp_path, "wardrobe"), b.SERVICES["wardrobe"].excluded)
    assert problems == ["lambdasmith/wardrobe/api.py: lambdasmith.badges",
                        "lambdasmith/wardrobe/api.py: lambdasmith.badges.app"]
    with pytest.raises(SystemExit, match="import excluded"):
        b.build(tmp_path / "out", "wardrobe", src_root=tmp_path)
