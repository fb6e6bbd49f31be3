"""`lambdasmith backup FILE` and `lambdasmith restore FILE`: the embedded data of one machine
(every table, queue and secret lives in `<data dir>/lambdasmith.db`) copied while it is in use.

Both go through SQLite's online backup API, page by page under SQLite's own locking, so a
backup taken while `lambdasmith serve` answers requests is a consistent snapshot of committed
transactions (never a torn copy, as `cp` of a WAL database can be). A backup is written beside
its target and renamed into place only after `PRAGMA integrity_check` passes, owner-only. The
secrets in it are encrypted with the key file (`<data dir>/secrets.key` or
$LAMBDASMITH_SECRETS_KEY_FILE), which is not in the database: back it up too, or they are lost. A restore checks the backup the same way first, and refuses
to overwrite data unless told to (`--force`): restoring replaces everything in the data dir.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from typing import Any

from lambdasmith.kit.backends import DB_FILE
from lambdasmith.kit.sqlite import BUSY_TIMEOUT_S

__all__ = ["BackupError", "add_parsers", "backup", "restore"]


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


def _check(conn: sqlite3.Connection, what: str) -> None:
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as e:  # not a database at all
        raise BackupError(f"{what} is not a lambdasmith database: {e}") from None
    if rows != [("ok",)]:
        raise BackupError(f"{what} failed SQLite's integrity check: {rows[:3]}")


def _has_data(conn: sqlite3.Connection) -> bool:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return any(conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() for t in tables)


def _open(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def backup(data_dir: str, dest: str) -> int:
    """Copy the data dir's database to `dest`; its size in bytes."""
    source = os.path.join(data_dir, DB_FILE)
    if not os.path.isfile(source):
        raise BackupError(f"no embedded data at {source} (is --data-dir right?)")
    dest = os.path.abspath(dest)
    if os.path.isdir(dest):
        raise BackupError(f"{dest} is a directory: name the backup file")
    partial = dest + ".partial"
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        src, out = _open(source), _open(partial)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            _check(out, "the new backup")
        finally:
            out.close()
            src.close()
        os.replace(partial, dest)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
    return os.path.getsize(dest)


def restore(data_dir: str, src_file: str, *, force: bool = False) -> None:
    """Replace the data dir's database with the backup `src_file` (online, under SQLite's lock)."""
    if not os.path.isfile(src_file):
        raise BackupError(f"no backup at {src_file}")
    os.makedirs(data_dir, exist_ok=True)
    target = os.path.join(data_dir, DB_FILE)
    src = sqlite3.connect(f"file:{os.path.abspath(src_file)}?mode=ro", uri=True, isolation_level=None)
    try:
        _check(src, src_file)
        if not src.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchone():
            raise BackupError(f"{src_file} holds no lambdasmith data (an empty database)")
        existed = os.path.exists(target)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
        out = _open(target)
        try:
            if existed and not force and _has_data(out):
                raise BackupError(f"{target} holds data; restoring replaces all of it (add --force)")
            src.backup(out)
            _check(out, target)
        finally:
            out.close()
    finally:
        src.close()


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("backup", parents=[common], help="copy the embedded data (tables, queues, secrets) to FILE")
    p.add_argument("file", metavar="FILE", help="the backup to write (owner-only; holds secrets)")
    p.set_defaults(func=_run_backup)
    r = sub.add_parser("restore", parents=[common], help="replace the embedded data with the backup FILE")
    r.add_argument("file", metavar="FILE", help="a file written by `lambdasmith backup`")
    r.add_argument("--force", action="store_true", help="replace a data dir that holds data")
    r.set_defaults(func=_run_restore)


def _run_backup(args: argparse.Namespace) -> int:
    try:
        size = backup(args.data_dir, args.file)
    except (BackupError, OSError, sqlite3.Error) as e:
        print(f"lambdasmith backup: {e}", file=sys.stderr)
        return 1
    print(f"backed up {os.path.join(args.data_dir, DB_FILE)} to {args.file} ({size} bytes)")
    return 0


def _run_restore(args: argparse.Namespace) -> int:
    try:
        restore(args.data_dir, args.file, force=args.force)
    except (BackupError, OSError, sqlite3.Error) as e:
        print(f"lambdasmith restore: {e}", file=sys.stderr)
        return 1
    print(f"restored {args.file} into {os.path.join(args.data_dir, DB_FILE)}")
    return 0
