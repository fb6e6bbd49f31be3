"""deploy/jq_layer.py and deploy/elf.py: the jq layer from Debian's arm64 packages would load on
provided.al2023 arm64 (AArch64, every library in the layer or AL2023's base, glibc <= 2.34), its
zip stores real files, and its jq runs (under qemu, against an older glibc than AL2023's).

The packages are downloaded once into .cache/debs/ and reused; a test needing them is skipped,
saying why, only when apt-get cannot reach Debian's archive."""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from deploy import jq_layer
from deploy.elf import ElfError, elf_machine, read_elf

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "deploy" / "build.py"
LAYER_FILES = ["bin/jq", "lib/libjq.so.1", "lib/libonig.so.5"]


def fetch(packages: dict[str, str | None], **kwargs) -> list[Path]:
    """jq_layer.fetch_debs, or a skip saying why Debian's packages cannot be had here."""
    try:
        return jq_layer.fetch_debs(packages, **kwargs)
    except jq_layer.PackagesUnavailable as e:
        pytest.skip(f"Debian's archive is unreachable from here: {e}")


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    fetch(jq_layer.PACKAGES)
    out = tmp_path_factory.mktemp("jq") / "jq-layer"
    jq_layer.build_layer(out)
    return out


@pytest.fixture(scope="module")
def layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    fetch(jq_layer.PACKAGES)
    spec = importlib.util.spec_from_file_location("deploy_build_jq", BUILD)
    b = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(b)
    out = tmp_path_factory.mktemp("jq-build")
    return b.build_shell(out)["zips"]["jq-layer"]


# ------------------------------------------------------------------ what the layer holds


def test_the_layer_holds_jq_and_its_libraries_as_real_files(layer: Path) -> None:
    assert sorted(p.relative_to(layer).as_posix() for p in layer.rglob("*") if not p.is_dir()) == LAYER_FILES
    assert not any(p.is_symlink() for p in layer.rglob("*"))
    assert stat.S_IMODE((layer / "bin/jq").stat().st_mode) == 0o755


def test_every_file_is_aarch64_and_finds_its_libraries_in_the_layer_or_al2023s_base(layer: Path) -> None:
    shipped = {p.name for p in (layer / "lib").iterdir()}
    for rel in LAYER_FILES:
        info = read_elf(layer / rel)
        assert info.machine == "aarch64", rel
        assert info.needed, rel  # dynamically linked: the check below is the point
        for soname in info.needed:
            assert soname in shipped or soname in jq_layer.AL2023_BASE, (rel, soname)
        if rel.startswith("lib/"):
            assert info.soname == Path(rel).name  # the name DT_NEEDED asks for
    assert read_elf(layer / "bin/jq").needed[0] == "libjq.so.1"
    assert "libonig.so.5" in read_elf(layer / "lib/libjq.so.1").needed


def test_no_glibc_version_newer_than_al2023s_2_34_is_required(layer: Path) -> None:
    required = sorted({v for rel in LAYER_FILES for v in read_elf(layer / rel).glibc_versions()})
    assert required and required[0] == (2, 17)  # aarch64's first glibc: the reader sees VERNEED
    assert required[-1] <= (2, 34), required[-1]
    check = jq_layer.check_layer(layer)
    assert check.problems == []
    assert check.glibc_max == required[-1]
    assert sorted(check.files) == LAYER_FILES
    assert check.files["bin/jq"]["size"] == (layer / "bin/jq").stat().st_size


def test_the_zip_stores_regular_files_and_an_executable_jq(layer_zip: Path, layer: Path) -> None:
    with zipfile.ZipFile(layer_zip) as zf:
        assert zf.namelist() == LAYER_FILES
        for info in zf.infolist():
            mode = info.external_attr >> 16
            assert stat.S_ISREG(mode), info.filename  # not S_IFLNK: a symlink entry would hold a path
            assert stat.S_IMODE(mode) == (0o755 if info.filename == "bin/jq" else 0o644), info.filename
            assert zf.read(info) == (layer / info.filename).read_bytes(), info.filename


def test_the_packages_are_reused_from_the_cache_without_apt(layer: Path, monkeypatch) -> None:
    first = jq_layer.fetch_debs()
    monkeypatch.setenv("PATH", "/nonexistent")  # no apt-get: only the cache can answer
    assert jq_layer.fetch_debs() == first
    assert [d.name for d in first] == ["jq_1.6-2.1_arm64.deb", "libjq1_1.6-2.1_arm64.deb",
                                       "libonig5_6.9.6-1.1_arm64.deb"]  # fmt: skip
    assert all(d.parent == jq_layer.CACHE / "bullseye" for d in first)


def test_without_apt_get_and_an_empty_cache_the_packages_are_unavailable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(jq_layer.PackagesUnavailable, match="apt-get is not installed"):
        jq_layer.fetch_debs(cache=tmp_path / "debs")


# ------------------------------------------------------------------ the check catches what would fail


def test_bookworms_libjq_fails_the_check_it_needs_glibc_2_36(layer: Path, tmp_path: Path) -> None:
    """Why the layer is bullseye's: Debian 12's libjq1 asks AL2023's glibc 2.34 for GLIBC_2.36."""
    debs = fetch({"libjq1": None}, suite="bookworm")
    root = jq_layer.extract(debs, tmp_path / "root")
    broken = tmp_path / "layer"
    shutil.copytree(layer, broken)
    shutil.copyfile(root / "usr/lib/aarch64-linux-gnu/libjq.so.1", broken / "lib/libjq.so.1")
    problems = jq_layer.check_layer(broken).problems
    assert len(problems) == 1 and problems[0].startswith("lib/libjq.so.1: requires ")
    assert "GLIBC_2.36" in problems[0] and "newer than AL2023's GLIBC_2.34" in problems[0]


def test_the_check_names_a_missing_library_a_symlink_and_a_wrong_machine(layer: Path, tmp_path: Path) -> None:
    broken = tmp_path / "layer"
    shutil.copytree(layer, broken)
    (broken / "lib/libonig.so.5").unlink()
    (broken / "lib/libextra.so.1").symlink_to("libjq.so.1")
    problems = jq_layer.check_layer(broken).problems
    assert "lib/libjq.so.1: needs libonig.so.5, neither in lib/ nor in AL2023's base" in problems
    assert "lib/libextra.so.1: a symlink (ship the real file under the soname)" in problems
    assert len(problems) == 2
    x86 = Path("/bin/true")
    if elf_machine(x86) == "x86-64":
        shutil.copyfile(x86, broken / "bin/jq")
        assert "bin/jq: built for x86-64, not aarch64" in jq_layer.check_layer(broken).problems


def test_the_elf_reader_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "script").write_text("#!/bin/sh\n")
    with pytest.raises(ElfError, match="not an ELF file"):
        read_elf(tmp_path / "script")
    (tmp_path / "cut").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(11) + (0xB7).to_bytes(2, "little"))
    assert elf_machine(tmp_path / "cut") == "aarch64"  # the header is enough for the machine
    with pytest.raises(ElfError, match="truncated or malformed"):
        read_elf(tmp_path / "cut")


# ------------------------------------------------------------------ and it runs


def _qemu(cache: Path) -> Path:
    """qemu-aarch64-static, unpacked alone from Debian's qemu-user-static into the cache."""
    binary = cache / "qemu-aarch64-static"
    if not binary.exists():
        host = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout
        deb, = fetch({"qemu-user-static": None}, suite="bookworm", arch=host.strip())
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(cache), "--strip-components=3", "./usr/bin/qemu-aarch64-static"],
                       input=tar, check=True)  # fmt: skip
    return binary


def test_jq_from_the_layer_runs_on_arm64_with_only_the_layers_libraries_and_glibc_2_31(layer: Path,
                                                                                       tmp_path: Path) -> None:
    """Under qemu, with a sysroot of bullseye's arm64 libc6 (glibc 2.31, older than AL2023's) and
    LD_LIBRARY_PATH=lib/ as Lambda sets it to /opt/lib: jq's libraries come from the layer only."""
    if shutil.which("dpkg") is None or shutil.which("tar") is None:
        pytest.skip("no dpkg/tar to unpack qemu-user-static")
    qemu = _qemu(jq_layer.CACHE)
    sysroot = jq_layer.extract(fetch({"libc6": None}), tmp_path / "sysroot")
    assert not list(sysroot.rglob("libjq*")) and not list(sysroot.rglob("libonig*"))
    env = dict(os.environ, LD_LIBRARY_PATH=str(layer / "lib"))
    done = subprocess.run([str(qemu), "-L", str(sysroot), str(layer / "bin/jq"), "-c",
                           '[.a[2].b, (.a | length), (.a[2].b | test("^x+$")), (.a | map(numbers) | add)]'],
                          input='{"a": [1, 2, {"b": "xx"}]}', capture_output=True, text=True, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == '["xx",3,true,3]\n'  # test() is oniguruma, from lib/libonig.so.5
    without = subprocess.run([str(qemu), "-L", str(sysroot), str(layer / "bin/jq"), "."], input="1",
                             capture_output=True, text=True, env=dict(os.environ, LD_LIBRARY_PATH=""))  # fmt: skip
    assert without.returncode != 0 and "libjq.so.1" in without.stderr  # the layer's lib/ is what makes it run
