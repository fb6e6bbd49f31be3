"""Which local process is at the other end of a loopback TCP connection (Linux /proc only).

Why: the local Runtime API emulator listens on 127.0.0.1 for the bootstrap it starts, and any
process on the machine can connect to 127.0.0.1. Loopback TCP carries no credentials
(SO_PEERCRED is for Unix sockets), so the emulator asks the kernel's own tables instead:

1. /proc/net/tcp (or tcp6) lists every TCP socket with its addresses, state and inode; the peer's
   socket is the ESTABLISHED one whose local end is our peer address and whose remote end is our
   local address.
2. A process holding that socket has a descriptor linking to `socket:[inode]` in /proc/PID/fd.
   Only a few candidate PIDs are searched (the environment's process tree and our own process):
   the question is "is it one of these?", never "who is it?", which would take a /proc scan.

`available()` says whether the tables are there (not on macOS or Windows, nor without /proc);
callers decide what to do without them (the emulator admits every peer, warning once).

`process_tree` follows /proc/PID/task/TID/children; a kernel built without CONFIG_PROC_CHILDREN
has no such file, and there it falls back to reading every /proc/PID/stat for parent PIDs.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterable

__all__ = ["all_pids", "available", "cmdline", "holder", "peer_inode", "peer_pid", "process_tree"]

PROC = "/proc"
ESTABLISHED = "01"  # the `st` column: TCP_ESTABLISHED
CMDLINE_LIMIT = 300  # characters of a command line shown in a log line


def available() -> bool:
    """Whether this system has the /proc tables the peer lookup reads."""
    return os.path.exists(f"{PROC}/net/tcp")


def peer_pid(sock: socket.socket, candidates: Iterable[int]) -> int | None:
    """The PID among `candidates` holding the other end of the connected `sock`; None when
    none does (or the other end is gone)."""
    inode = peer_inode(sock)
    return None if inode is None else holder(inode, candidates)


def peer_inode(sock: socket.socket) -> int | None:
    """The inode of the socket at the other end of the connected loopback TCP socket `sock`."""
    try:
        peer, local = sock.getpeername(), sock.getsockname()
    except OSError:
        return None
    for table, peer_text, local_text in _encodings(peer[:2], local[:2]):
        line = _find_line(f"{PROC}/net/{table}", f" {peer_text} {local_text} {ESTABLISHED} ".encode())
        fields = line.split() if line is not None else []
        try:  # sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
            inode = int(fields[9])
        except (IndexError, ValueError):
            continue
        if inode:  # 0: an orphaned socket no process holds any more
            return inode
    return None


def _find_line(path: str, needle: bytes) -> bytes | None:
    """The first line of `path` containing `needle`. Read as far as that line only: each read of
    a /proc/net table walks the kernel's hash buckets on (a page of text at a time), and on a
    machine with much memory that walk, not the text, is the cost."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        rest = b""
        while True:
            chunk = os.read(fd, 65536)
            text = rest + chunk
            cut = len(text) if not chunk else text.rfind(b"\n") + 1  # whole lines; at the end, all
            at = text.find(needle, 0, cut)
            if at >= 0:
                start, end = text.rfind(b"\n", 0, at) + 1, text.find(b"\n", at)
                return text[start : end if end >= 0 else len(text)]
            if not chunk:
                return None
            rest = text[cut:]
    except OSError:
        return None
    finally:
        os.close(fd)


def holder(inode: int, pids: Iterable[int]) -> int | None:
    """The first of `pids` with a descriptor on the socket `inode` (processes we may not
    inspect, or that have gone, are skipped)."""
    target = f"socket:[{inode}]"
    for pid in pids:
        fd_dir = f"{PROC}/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") == target:
                    return pid
            except OSError:
                continue
    return None


def process_tree(root: int) -> set[int]:
    """`root` and its descendants (those alive now; empty when `root` is gone)."""
    if not os.path.isdir(f"{PROC}/{root}"):
        return set()
    if not os.path.exists(f"{PROC}/{root}/task/{root}/children"):
        return _tree_by_parent(root)  # no CONFIG_PROC_CHILDREN: one pass over every process
    tree, todo = {root}, [root]
    while todo:
        pid = todo.pop()
        try:
            tids = os.listdir(f"{PROC}/{pid}/task")
        except OSError:
            continue
        for tid in tids:  # a child is listed under the thread that started it
            try:
                with open(f"{PROC}/{pid}/task/{tid}/children", "rb") as f:
                    kids = [int(k) for k in f.read().split()]
            except (OSError, ValueError):
                continue
            for kid in kids:
                if kid not in tree:
                    tree.add(kid)
                    todo.append(kid)
    return tree


def _tree_by_parent(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        try:
            with open(f"{PROC}/{pid}/stat", "rb") as f:
                stat = f.read()
            parent = int(stat[stat.rindex(b")") + 2 :].split()[1])  # after "(comm)": state, ppid
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(pid)
    tree, todo = {root}, [root]
    while todo:
        for kid in children.get(todo.pop(), ()):
            if kid not in tree:
                tree.add(kid)
                todo.append(kid)
    return tree


def all_pids() -> list[int]:
    """Every process ID in /proc (a full scan: for diagnostics, not for every connection)."""
    try:
        return [int(name) for name in os.listdir(PROC) if name.isdigit()]
    except OSError:
        return []


def cmdline(pid: int) -> str | None:
    """The command line of `pid`, arguments joined by spaces, control characters escaped (fit
    for one log line); None when it cannot be read."""
    try:
        with open(f"{PROC}/{pid}/cmdline", "rb") as f:
            raw = f.read(4 * CMDLINE_LIMIT)
    except OSError:
        return None
    text = " ".join(raw.rstrip(b"\0").decode("utf-8", "replace").split("\0"))
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= CMDLINE_LIMIT else text[:CMDLINE_LIMIT] + "…"


def _encodings(peer: tuple[str, int], local: tuple[str, int]) -> list[tuple[str, str, str]]:
    """(table, peer, local) as that /proc/net table prints addresses: an IPv4 pair in `tcp`,
    and as IPv4-mapped IPv6 in `tcp6` (a dual-stack client's socket)."""
    a, b = ipaddress.ip_address(peer[0].split("%")[0]), ipaddress.ip_address(local[0].split("%")[0])
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    if isinstance(b, ipaddress.IPv6Address) and b.ipv4_mapped is not None:
        b = b.ipv4_mapped
    out = []
    if a.version == b.version == 4:
        out.append(("tcp", _hex(a.packed, peer[1]), _hex(b.packed, local[1])))
    a6 = a.packed if a.version == 6 else b"\0" * 10 + b"\xff\xff" + a.packed
    b6 = b.packed if b.version == 6 else b"\0" * 10 + b"\xff\xff" + b.packed
    out.append(("tcp6", _hex(a6, peer[1]), _hex(b6, local[1])))
    return out


def _hex(packed: bytes, port: int) -> str:
    # The kernel prints the address as 32-bit words in host byte order, the port as a number.
    words = "".join(f"{int.from_bytes(packed[i : i + 4], sys.byteorder):08X}" for i in range(0, len(packed), 4))
    return f"{words}:{port:04X}"
