"""Where running `lambdasmith serve` processes say which data directory they use.

A CLI command that writes to a data directory (a wardrobe token's secret, an org's secret) run
from another directory silently writes to a second store that the server never reads; the
server then refuses what the command made with no hint why. So `serve` records itself
(pid, data dir, host, ports) in a small JSON file at a per-user location, removes it on exit,
and those commands warn when no live server uses their data dir but one uses another.

The location: $LAMBDASMITH_RUNTIME_DIR, else $XDG_RUNTIME_DIR/lambdasmith, else
~/.cache/lambdasmith; one file `serve-<pid>.json` per server. An entry whose pid is gone (a
killed server) is ignored and removed when next read.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["entries", "record", "registry_dir", "remove", "warn_if_elsewhere"]


def registry_dir() -> Path:
    if os.environ.get("LAMBDASMITH_RUNTIME_DIR"):
        return Path(os.environ["LAMBDASMITH_RUNTIME_DIR"])
    if os.environ.get("XDG_RUNTIME_DIR"):
        return Path(os.environ["XDG_RUNTIME_DIR"]) / "lambdasmith"
    return Path.home() / ".cache" / "lambdasmith"


def _path(pid: int) -> Path:
    return registry_dir() / f"serve-{pid}.json"


def record(data_dir: str, host: str, ports: dict[str, int]) -> Path | None:
    """Write this process's entry; None when the location is not writable (never fatal)."""
    path = _path(os.getpid())
    entry = {"pid": os.getpid(), "data_dir": os.path.abspath(data_dir), "host": host, "ports": ports}
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        return None
    return path


def remove() -> None:
    try:
        _path(os.getpid()).unlink()
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process with that pid: not ours, but alive
        return True
    return True


def entries() -> list[dict[str, Any]]:
    """The live servers' entries; stale files are removed."""
    out = []
    try:
        paths = sorted(registry_dir().glob("serve-*.json"))
    except OSError:
        return []
    for path in paths:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            pid = int(entry["pid"])
            str(entry["data_dir"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _alive(pid):
            out.append(entry)
        else:
            try:
                path.unlink()
            except OSError:
                pass
    return out


def warn_if_elsewhere(data_dir: str, prog: str) -> bool:
    """One line on stderr when running servers use only other data dirs; whether it warned."""
    mine = os.path.abspath(data_dir)
    live = entries()
    others = [e for e in live if os.path.abspath(e["data_dir"]) != mine]
    if not others or len(others) < len(live):  # none running, or one uses this data dir
        return False
    theirs = others[0]
    print(f"{prog}: warning: writing to {mine}, but the running `lambdasmith serve` (pid {theirs['pid']}) "
          f"uses {theirs['data_dir']}; pass --data-dir {theirs['data_dir']} for it to see this",
          file=sys.stderr)  # fmt: skip
    return True
