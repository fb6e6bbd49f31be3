"""Just enough of an ELF reader to tell whether a binary can run on Lambda's arm64 image.

Three facts decide it, and the dynamic loader reads them from the file before any code runs: the
machine (e_machine: an x86-64 jq does not start on Graviton), the libraries it asks for
(DT_NEEDED: each must be found on the loader's path, or the process dies at exec with "cannot open
shared object file") and the symbol versions it requires of them (the .gnu.version_r section,
VERNEED: a `GLIBC_2.36` there means "not found" on a glibc 2.34 image, again before main). Standard
library only, like deploy/build.py, so any python3 can run the build.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

ELF_MACHINES = {0x3E: "x86-64", 0xB7: "aarch64"}  # e_machine values; the function runs on arm64
SHT_DYNAMIC = 6
SHT_GNU_VERNEED = 0x6FFFFFFE
DT_NULL, DT_NEEDED, DT_SONAME = 0, 1, 14


class ElfError(ValueError):
    """The file is not an ELF object this reader understands (or is cut short)."""


def _machine(head: bytes) -> str:
    if head[:4] != b"\x7fELF":
        return "not ELF"
    code = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return ELF_MACHINES.get(code, f"e_machine {code:#x}")


def elf_machine(path: Path) -> str:
    """The architecture an ELF binary is built for ("aarch64", "x86-64"...), or "not ELF".
    Reads the header only, so it names the machine of a file too short to read further."""
    with open(path, "rb") as f:
        return _machine(f.read(20))


@dataclass(frozen=True)
class ElfInfo:
    """What the dynamic loader checks before it runs the file. `versions` maps each library named
    in VERNEED to the version names required of it (e.g. "libc.so.6": ("GLIBC_2.17",))."""

    machine: str
    soname: str | None
    needed: tuple[str, ...]
    versions: dict[str, tuple[str, ...]]

    def glibc_versions(self) -> list[tuple[int, ...]]:
        """Every GLIBC_x.y[.z] required, of any library, as sorted unique number tuples."""
        found = {_glibc(name) for names in self.versions.values() for name in names}
        return sorted(v for v in found if v is not None)


def _glibc(name: str) -> tuple[int, ...] | None:
    """(2, 34) for "GLIBC_2.34"; None for other names (GLIBC_PRIVATE, GCC_3.0...)."""
    head, _, number = name.partition("_")
    if head != "GLIBC" or not number or not all(p.isdigit() for p in number.split(".")):
        return None
    return tuple(int(p) for p in number.split("."))


def read_elf(path: Path) -> ElfInfo:
    """Machine, SONAME, DT_NEEDED (in file order) and VERNEED of the ELF file at `path`.
    Uses the section headers (.dynamic, .gnu.version_r and the string tables they link to), which
    every distribution's shared objects and executables keep even when stripped."""
    data = path.read_bytes()
    machine = _machine(data[:20])
    if machine == "not ELF":
        raise ElfError(f"{path}: not an ELF file")
    try:
        return _parse(data, machine)
    except (struct.error, IndexError, UnicodeDecodeError) as e:
        raise ElfError(f"{path}: truncated or malformed ELF ({e})") from e


def _parse(data: bytes, machine: str) -> ElfInfo:
    wide = data[4] == 2  # ELFCLASS64
    end = "<" if data[5] == 1 else ">"
    if wide:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
        section = end + "IIQQQQIIQQ"  # name type flags addr offset size link info addralign entsize
        dyn = end + "qQ"
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
        section = end + "IIIIIIIIII"
        dyn = end + "iI"
    if shoff == 0 or shnum == 0:
        raise ElfError("no section headers")
    sections = [struct.unpack_from(section, data, shoff + i * shentsize) for i in range(shnum)]

    def strings(index: int) -> bytes:
        s = sections[index]
        return data[s[4]: s[4] + s[5]]

    def cstr(table: bytes, at: int) -> str:
        return table[at: table.index(b"\0", at)].decode("ascii")

    needed: list[str] = []
    soname = None
    versions: dict[str, tuple[str, ...]] = {}
    for s in sections:
        kind, offset, size, link = s[1], s[4], s[5], s[6]
        if kind == SHT_DYNAMIC:
            table = strings(link)
            step = struct.calcsize(dyn)
            for at in range(offset, offset + size, step):
                tag, value = struct.unpack_from(dyn, data, at)
                if tag == DT_NULL:
                    break
                if tag == DT_NEEDED:
                    needed.append(cstr(table, value))
                elif tag == DT_SONAME:
                    soname = cstr(table, value)
        elif kind == SHT_GNU_VERNEED:
            table = strings(link)
            at = offset
            while True:  # Elf_Verneed: version, cnt, file, aux, next (same layout in 32 and 64 bits)
                _, count, file, aux, following = struct.unpack_from(end + "HHIII", data, at)
                names = []
                entry = at + aux
                for _ in range(count):  # Elf_Vernaux: hash, flags, other, name, next
                    _, _, _, name, after = struct.unpack_from(end + "IHHII", data, entry)
                    names.append(cstr(table, name))
                    entry += after
                versions[cstr(table, file)] = tuple(names)
                if not following:
                    break
                at += following
    return ElfInfo(machine=machine, soname=soname, needed=tuple(needed), versions=versions)
