"""deploy/build.py's shell artifacts: function zip, bootstrap layer, jq layer (Debian's arm64 packages, cached in
.cache/debs/, or a given binary); deterministic, modes kept."""

from __future__ import annotations

import importlib.util
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.templates import example_handlers

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "deploy" / "build.py"


def load_build_module():
    spec = importlib.util.spec_from_file_location("deploy_build_shell", BUILD)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------ the build


def snapshot(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "lambdasmith" / "shell", src / "lambdasmith" / "shell",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return src


def fake_elf(path: Path, machine: int) -> Path:
    """A file with an ELF header for `machine` (0xB7 aarch64, 0x3E x86-64), little-endian."""
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(11) + machine.to_bytes(2, "little") + b"rest of jq")
    return path


def mode(zf: zipfile.ZipFile, name: str) -> int:
    return zf.getinfo(name).external_attr >> 16


def test_build_makes_three_deterministic_zips(tmp_path: Path) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    jq = fake_elf(tmp_path / "jq", 0xB7)
    first = b.build_shell(tmp_path / "one", src_root=src, jq=str(jq))
    second = b.build_shell(tmp_path / "two", src_root=src, jq=str(jq))
    assert sorted(first["zips"]) == ["bootstrap-layer", "function", "jq-layer"]
    for kind, path in first["zips"].items():
        assert path.read_bytes() == second["zips"][kind].read_bytes(), kind
    assert first["zips"]["function"].name == "shell-function.zip"
    assert first["zips"]["bootstrap-layer"].name == "shell-bootstrap-layer.zip"
    assert first["zips"]["jq-layer"].name == "shell-jq-layer.zip"
    assert "aarch64" in first["jq"] and "NOT" not in first["jq"]


def test_the_bootstrap_layer_holds_the_executable_bootstrap_at_its_root(tmp_path: Path) -> None:
    r = load_build_module().build_shell(tmp_path, src_root=snapshot(tmp_path), jq="")
    with zipfile.ZipFile(r["zips"]["bootstrap-layer"]) as zf:
        assert zf.namelist() == ["bootstrap"]
        assert stat.S_ISREG(mode(zf, "bootstrap")) and stat.S_IMODE(mode(zf, "bootstrap")) == 0o755
        assert zf.read("bootstrap") == (ROOT / "lambdasmith/shell/runtime/bootstrap").read_bytes()
    assert r["bootstrap_size"] == (ROOT / "lambdasmith/shell/runtime/bootstrap").stat().st_size
    assert r["bootstrap_size"] < 64 * 1024


def test_the_function_zip_holds_the_handlers_and_helpers_at_its_root_and_nothing_else(tmp_path: Path) -> None:
    src = snapshot(tmp_path)
    (src / "lambdasmith/shell/examples/notes.txt").write_text("not a handler")
    r = load_build_module().build_shell(tmp_path, src_root=src, jq="")
    with zipfile.ZipFile(r["zips"]["function"]) as zf:
        names = zf.namelist()
        assert names == sorted([f"{h}.sh" for h in example_handlers()] + ["helpers.sh"])
        assert all(stat.S_IMODE(mode(zf, n)) == 0o644 for n in names)
        assert zf.read("helpers.sh") == (ROOT / "lambdasmith/shell/runtime/helpers.sh").read_bytes()
    on_disk = sorted(p.relative_to(r["dir"] / "function").as_posix() for p in (r["dir"] / "function").rglob("*"))
    assert on_disk == names  # the CodeUri directory is the zip


def test_the_jq_layer_puts_an_executable_jq_in_bin_and_flags_a_wrong_architecture(tmp_path: Path) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    r = b.build_shell(tmp_path / "out", src_root=src, jq=str(fake_elf(tmp_path / "jq", 0x3E)))
    with zipfile.ZipFile(r["zips"]["jq-layer"]) as zf:
        assert zf.namelist() == ["bin/jq"]
        assert stat.S_IMODE(mode(zf, "bin/jq")) == 0o755
        assert zf.read("bin/jq") == (tmp_path / "jq").read_bytes()
    assert "x86-64" in r["jq"] and "NOT arm64" in r["jq"]
    assert b.elf_machine(tmp_path / "jq") == "x86-64"
    assert b.elf_machine(BUILD) == "not ELF"


def test_without_jq_the_jq_layer_is_skipped_and_a_stale_one_removed(tmp_path: Path) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    b.build_shell(tmp_path, src_root=src, jq=str(fake_elf(tmp_path / "jq", 0xB7)))
    assert (tmp_path / "shell-jq-layer.zip").is_file()
    r = b.build_shell(tmp_path, src_root=src, jq=str(tmp_path / "missing-jq"))
    assert sorted(r["zips"]) == ["bootstrap-layer", "function"]
    assert "skipped" in r["jq"]
    assert not (tmp_path / "shell-jq-layer.zip").exists() and not (tmp_path / "shell" / "jq-layer").exists()


def test_the_command_builds_shell_prints_sizes_and_skips_a_missing_jq(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BUILD), "shell", "--out", str(tmp_path / "out"),
                           "--jq", str(tmp_path / "missing-jq")], capture_output=True, text=True, check=True)  # fmt: skip
    out = done.stdout
    assert re.search(r"bootstrap \d+\.\d KB", out)
    assert re.search(r"shell-function\.zip: \d+\.\d KB", out)
    assert re.search(r"shell-bootstrap-layer\.zip: \d+\.\d KB", out)
    assert "jq layer: skipped: no jq binary" in out and "shell-jq-layer.zip" not in out
    assert not (tmp_path / "out" / "badges.zip").exists()  # only the shell


def test_without_debian_packages_the_default_jq_layer_is_skipped_with_the_reason(tmp_path: Path, monkeypatch) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    b.build_shell(tmp_path, src_root=src, jq=str(fake_elf(tmp_path / "jq", 0xB7)))

    def unavailable(*args, **kwargs):
        raise b.jq_layer.PackagesUnavailable("apt-get is not installed")

    monkeypatch.setattr(b.jq_layer, "fetch_debs", unavailable)
    r = b.build_shell(tmp_path, src_root=src)
    assert r["jq"] == "skipped: no Debian arm64 packages (apt-get is not installed); the jq layer is not built"
    assert sorted(r["zips"]) == ["bootstrap-layer", "function"]
    assert not (tmp_path / "shell-jq-layer.zip").exists() and not (tmp_path / "shell" / "jq-layer").exists()


def test_a_default_jq_layer_that_fails_the_al2023_check_stops_the_build(tmp_path: Path, monkeypatch) -> None:
    b = load_build_module()
    failed = b.jq_layer.LayerCheck(problems=["lib/libjq.so.1: requires GLIBC_2.36, newer than AL2023's GLIBC_2.34"])
    monkeypatch.setattr(b.jq_layer, "build_layer", lambda layer: failed)
    with pytest.raises(SystemExit, match="would not run on provided.al2023 arm64:(.|\n)*GLIBC_2.36"):
        b.build_shell(tmp_path, src_root=snapshot(tmp_path))
    assert not (tmp_path / "shell-jq-layer.zip").exists()


def test_all_builds_the_shell_with_debians_arm64_jq_and_keeps_the_others_modes(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BUILD), "all", "--out", str(tmp_path)],
                          capture_output=True, text=True)  # fmt: skip
    if "jq layer: skipped: no Debian arm64 packages" in done.stdout:
        pytest.skip("Debian's archive is unreachable: " + done.stdout.split("jq layer: ")[1].splitlines()[0])
    assert done.returncode == 0, done.stderr
    for name in ("shell-function", "shell-bootstrap-layer", "shell-jq-layer", "badges", "items", "wardrobe"):
        assert (tmp_path / f"{name}.zip").is_file() and f"{name}.zip: " in done.stdout, name
    with zipfile.ZipFile(tmp_path / "shell-jq-layer.zip") as zf:
        assert zf.namelist() == ["bin/jq", "lib/libjq.so.1", "lib/libonig.so.5"]
        assert zf.read("bin/jq")[:4] == b"\x7fELF"
    # what went in, with sizes, and the glibc it needs
    for rel in ("bin/jq", "lib/libjq.so.1", "lib/libonig.so.5"):
        assert re.search(rf"^  {re.escape(rel)}: \d+\.\d KB, aarch64, needs ", done.stdout, re.M), rel
    assert "highest glibc symbol version: GLIBC_2.29 (AL2023 has GLIBC_2.34)" in done.stdout
    assert "PROBLEM" not in done.stdout
    for name in ("badges", "items", "wardrobe"):  # the Python services' zips are as before: 0o644 only
        with zipfile.ZipFile(tmp_path / f"{name}.zip") as zf:
            assert {i.external_attr >> 16 for i in zf.infolist()} == {0o100644}, name
