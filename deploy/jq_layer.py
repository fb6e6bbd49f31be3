"""The jq Lambda layer, from Debian's arm64 packages: `bin/jq` and the libraries it loads in `lib/`.

    python3 deploy/jq_layer.py [LAYER_DIR]   (build it, default build/shell/jq-layer; print the check)

Shell functions run on `provided.al2023`, arm64, whose image has glibc 2.34 and nothing of jq.
Lambda unpacks a layer in /opt, puts /opt/bin on PATH and /opt/lib on LD_LIBRARY_PATH, so the
layer holds `bin/jq` and, under `lib/`, each library of jq's that AL2023's base lacks, named by
the soname DT_NEEDED asks for, as a real file (a zip's symlink is not a symlink once unpacked).

Why Debian 11 (bullseye): Debian 12's arm64 libjq1 requires GLIBC_2.35 (hypot) and GLIBC_2.36
(arc4random) of AL2023's 2.34, so it fails to load there; bullseye's requires GLIBC_2.29 at most.
The versions are pinned: the layer is the same bytes on every builder, and bumping one is a
reviewed change that the check below (`check_layer`) must pass again.

Fetching is explicit and cached (`fetch_debs`): .deb files go to .cache/debs/<suite>/, reused when
present; only a missing one runs apt-get, with a private state directory (its own sources.list,
lists and an empty dpkg status under the cache), so the build needs neither root nor a change to
the machine's apt configuration (no `dpkg --add-architecture`), only apt-get, dpkg-deb and
Debian's archive keyring. Standard library only, like deploy/build.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: deploy/ is on sys.path, the repository is not
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deploy.elf import ElfError, read_elf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "debs"
MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
SUITE = "bullseye"  # glibc 2.31: everything it builds asks for no more than AL2023's 2.34
ARCH = "arm64"
# jq and the packages of the libraries it needs, at bullseye's release versions. bullseye-security's
# 1.6-2.1+deb11u3 (CVE fixes) is in the indexes but its pool answers 404 from here
# (deploy/shell/README.md, "what the jq layer is"); take it where it downloads.
PACKAGES: dict[str, str | None] = {"jq": "1.6-2.1", "libjq1": "1.6-2.1", "libonig5": "6.9.6-1.1"}
# What every provided.al2023 image has: glibc 2.34's libraries (AL2023's glibc package), so the
# layer must not ship them (a second libc would clash with the loader's) and may need them.
AL2023_BASE = frozenset({"libc.so.6", "libm.so.6", "ld-linux-aarch64.so.1", "libpthread.so.0", "libdl.so.2",
                         "librt.so.1"})
AL2023_GLIBC = (2, 34)
LIB_DIRS = ("usr/lib/aarch64-linux-gnu", "lib/aarch64-linux-gnu", "usr/lib", "lib")  # where a .deb puts them


class PackagesUnavailable(RuntimeError):
    """Debian's packages cannot be had here: apt-get or dpkg-deb is missing, or the archive does not
    answer apt-get update. (A package the archive lacks is a plain error: the pins are wrong.)"""


def _deb_name(package: str, version: str | None, arch: str) -> str:
    """apt-get download's file name (an epoch's ':' is written %3a); '*' for any version."""
    return f"{package}_{version.replace(':', '%3a') if version else '*'}_{arch}.deb"


def _apt(state: Path, suite: str, arch: str) -> list[str]:
    """apt-get with a private state directory that knows one suite of one architecture only."""
    (state / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "parts").mkdir(exist_ok=True)
    (state / "status").touch()
    sources = state / "sources.list"
    sources.write_text(f"deb [arch={arch} signed-by={KEYRING}] {MIRROR} {suite} main\n", encoding="utf-8")
    options = {
        "Dir::Etc::SourceList": sources, "Dir::Etc::SourceParts": state / "parts",
        "Dir::State::Lists": state / "lists", "Dir::State::status": state / "status",
        "Dir::Cache": state / "cache", "Dir::Etc::Preferences": state / "preferences",
        "Dir::Etc::PreferencesParts": state / "parts", "APT::Architecture": arch, "APT::Architectures": arch,
    }
    if os.geteuid() == 0:  # _apt may not write into a root-owned cache: download as root, quietly
        options["APT::Sandbox::User"] = "root"
    return ["apt-get", "-qq", *[a for k, v in options.items() for a in ("-o", f"{k}={v}")]]


def fetch_debs(packages: Mapping[str, str | None] = PACKAGES, cache: Path = CACHE, suite: str = SUITE,
               arch: str = ARCH) -> list[Path]:
    """The .deb of each package (a None version: the suite's candidate), from cache/<suite>/ when
    there, else downloaded into it with apt-get (one `update` of the private state, then `download`).
    Raises PackagesUnavailable when apt-get is missing or the archive does not answer the update."""
    state = cache / f"apt-{suite}-{arch}"
    cache = cache / suite  # a candidate of one suite is not another's
    cache.mkdir(parents=True, exist_ok=True)

    def cached(package: str) -> Path | None:
        found = sorted(cache.glob(_deb_name(package, packages[package], arch)))
        return found[-1] if found else None

    missing = [p for p in packages if cached(p) is None]
    if missing:
        apt = _apt(state, suite, arch)
        try:
            update = subprocess.run([*apt, "update"], capture_output=True, text=True)
        except FileNotFoundError as e:
            raise PackagesUnavailable("apt-get is not installed (a Debian or Ubuntu builder is needed)") from e
        if update.returncode != 0:
            raise PackagesUnavailable(f"apt-get update of {MIRROR} {suite} ({arch}) failed: {update.stderr.strip()}")
        wanted = [f"{p}={packages[p]}" if packages[p] else p for p in missing]
        with tempfile.TemporaryDirectory(dir=cache) as tmp:  # a failed download leaves no partial .deb
            got = subprocess.run([*apt, "download", *wanted], cwd=tmp, capture_output=True, text=True)
            if got.returncode != 0:
                raise RuntimeError(f"apt-get download {' '.join(wanted)} failed: {got.stderr.strip()}")
            for deb in Path(tmp).glob("*.deb"):
                os.replace(deb, cache / deb.name)
    return [p for p in map(cached, packages) if p is not None]


def extract(debs: list[Path], root: Path) -> Path:
    """Unpack the packages' files (not their scripts) into `root` with dpkg-deb -x."""
    root.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        try:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        except FileNotFoundError as e:
            raise PackagesUnavailable("dpkg-deb is not installed (a Debian or Ubuntu builder is needed)") from e
    return root


def _find_lib(root: Path, soname: str) -> Path | None:
    for d in LIB_DIRS:
        if (root / d / soname).exists():
            return (root / d / soname).resolve()  # the real file behind the soname's symlink
    return None


def assemble(root: Path, layer: Path) -> None:
    """layer/bin/jq (0755) from root/usr/bin/jq, and in layer/lib/ every library it needs,
    transitively, that AL2023's base lacks: the real file, under the name DT_NEEDED uses."""
    if layer.exists():
        shutil.rmtree(layer)
    (layer / "bin").mkdir(parents=True)
    (layer / "lib").mkdir()
    shutil.copyfile(root / "usr" / "bin" / "jq", layer / "bin" / "jq")
    (layer / "bin" / "jq").chmod(0o755)
    todo, seen = [layer / "bin" / "jq"], set()
    while todo:
        for soname in read_elf(todo.pop()).needed:
            if soname in AL2023_BASE or soname in seen:
                continue
            seen.add(soname)
            found = _find_lib(root, soname)
            if found is None:
                continue  # check_layer names it: a package is missing from PACKAGES
            shutil.copyfile(found, layer / "lib" / soname)
            todo.append(layer / "lib" / soname)


def _version(v: tuple[int, ...]) -> str:
    return "GLIBC_" + ".".join(map(str, v))


@dataclass
class LayerCheck:
    """What check_layer found: each ELF file's size, machine, DT_NEEDED and highest GLIBC_ version,
    and the problems (empty: the layer loads on provided.al2023 arm64)."""

    files: dict[str, dict] = field(default_factory=dict)
    packages: list[str] = field(default_factory=list)  # the .deb files it was assembled from
    glibc_max: tuple[int, ...] = ()
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"from {', '.join(self.packages)}"] if self.packages else []
        out += [f"{rel}: {f['size'] / 1024:.1f} KB, {f['machine']}, needs {', '.join(f['needed']) or 'nothing'}; "
               f"up to {f['glibc_max']}" for rel, f in self.files.items()]
        out.append(f"highest glibc symbol version: {_version(self.glibc_max) if self.glibc_max else 'none'} "
                   f"(AL2023 has {_version(AL2023_GLIBC)})")
        return out + [f"PROBLEM: {p}" for p in self.problems]


def check_layer(layer: Path, base: frozenset[str] = AL2023_BASE, glibc: tuple[int, ...] = AL2023_GLIBC) -> LayerCheck:
    """Would the layer's jq start on provided.al2023 arm64? Every file is a regular file (no
    symlink), bin/jq is there, each ELF file is AArch64, each DT_NEEDED is in lib/ or in `base`,
    and no GLIBC_ version required is newer than `glibc`."""
    result = LayerCheck()
    jq = layer / "bin" / "jq"
    if not jq.is_file() or jq.is_symlink():
        result.problems.append("bin/jq: missing or not a regular file")
    shipped = {p.name for p in (layer / "lib").iterdir()} if (layer / "lib").is_dir() else set()
    for path in sorted(p for p in layer.rglob("*") if not p.is_dir()):
        rel = path.relative_to(layer).as_posix()
        if path.is_symlink():
            result.problems.append(f"{rel}: a symlink (ship the real file under the soname)")
            continue
        if rel != "bin/jq" and not rel.startswith("lib/"):
            continue
        try:
            info = read_elf(path)
        except ElfError as e:
            result.problems.append(str(e))
            continue
        versions = info.glibc_versions()
        top = versions[-1] if versions else ()
        result.glibc_max = max(result.glibc_max, top)
        result.files[rel] = {"size": path.stat().st_size, "machine": info.machine, "needed": list(info.needed),
                             "glibc_max": _version(top) if top else "no GLIBC_ version"}
        if info.machine != "aarch64":
            result.problems.append(f"{rel}: built for {info.machine}, not aarch64")
        if rel.startswith("lib/") and info.soname and info.soname != path.name:
            result.problems.append(f"{rel}: its SONAME is {info.soname}")
        for soname in info.needed:
            if soname not in shipped and soname not in base:
                result.problems.append(f"{rel}: needs {soname}, neither in lib/ nor in AL2023's base")
        newer = [_version(v) for v in versions if v > glibc]
        if newer:
            result.problems.append(f"{rel}: requires {', '.join(newer)}, newer than AL2023's {_version(glibc)}")
    return result


def build_layer(layer: Path, cache: Path = CACHE) -> LayerCheck:
    """Fetch (cached), extract and assemble the layer in `layer`, then check it (the caller decides
    what a problem means; deploy/build.py refuses to zip a layer with one)."""
    debs = fetch_debs(cache=cache)
    with tempfile.TemporaryDirectory() as tmp:
        assemble(extract(debs, Path(tmp) / "root"), layer)
    result = check_layer(layer)
    result.packages = [d.name for d in debs]
    return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    layer = Path(args[0]) if args else ROOT / "build" / "shell" / "jq-layer"
    result = build_layer(layer)
    print("\n".join([f"{layer}:", *("  " + line for line in result.lines())]))
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
