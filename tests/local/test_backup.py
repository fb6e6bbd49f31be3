"""`lambdasmith backup` / `restore`: an online, consistent copy of the embedded data, restored
as it was; refusals are clear, exit 1, and change nothing."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading

import pytest

from lambdasmith.kit.backends import DB_FILE, open_queue, open_secrets, open_table
from lambdasmith.kit.table.port import TableSpec
from lambdasmith.local.backup import BackupError, backup, restore

SPEC = TableSpec("things")


def seed(data_dir: str, n: int = 20) -> None:
    table = open_table(SPEC, "things", data_dir=data_dir)
    for i in range(n):
        table.put({"PK": "p", "SK": f"{i:05d}", "n": i})
    open_secrets(data_dir=data_dir).put("badges/acme", "s3cret-value-1234567890")
    open_queue("shares", backend="sqlite", data_dir=data_dir).send("hello")


def items(data_dir: str) -> list[int]:
    return [it["n"] for it in open_table(SPEC, "things", data_dir=data_dir).query("p", limit=1000).items]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lambdasmith", *args], capture_output=True, text=True, timeout=60)


def test_backup_then_restore_brings_back_tables_secrets_and_queues(tmp_path):
    live, fresh, file = str(tmp_path / "live"), str(tmp_path / "fresh"), str(tmp_path / "b.db")
    seed(live)
    assert backup(live, file) > 0
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600  # it holds secrets
    assert not os.path.exists(file + "-wal") and not os.path.exists(file + ".partial")
    restore(fresh, file)
    assert items(fresh) == list(range(20))
    # The secrets in a backup are encrypted with the key file, which is backed up beside it.
    shutil.copy2(os.path.join(live, "secrets.key"), os.path.join(fresh, "secrets.key"))
    assert open_secrets(data_dir=fresh).get("badges/acme") == "s3cret-value-1234567890"
    [msg] = open_queue("shares", backend="sqlite", data_dir=fresh).receive(10, 30)
    assert msg.body == "hello"


def test_a_backup_taken_during_writes_is_a_consistent_prefix(tmp_path):
    live = str(tmp_path / "live")
    seed(live, 1)
    table = open_table(SPEC, "things", data_dir=live)
    stop = threading.Event()

    def writer() -> None:  # one transaction per item: a backup holds items 0..k, no gaps
        i = 1
        while not stop.is_set() and i < 5000:
            table.put({"PK": "p", "SK": f"{i:05d}", "n": i})
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        backups = []
        for k in range(3):
            backup(live, str(tmp_path / f"b{k}.db"))
            backups.append(str(tmp_path / f"b{k}.db"))
    finally:
        stop.set()
        t.join(30)
    for k, b in enumerate(backups):
        restored = str(tmp_path / f"r{k}")
        restore(restored, b)
        got = items(restored)
        assert got == list(range(len(got))) and got, f"backup {k} is not a prefix of the writes"


def test_restore_refuses_to_overwrite_data_without_force(tmp_path):
    a, b, file = str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "a.db")
    seed(a, 3)
    seed(b, 7)
    backup(a, file)
    with pytest.raises(BackupError, match="--force"):
        restore(b, file)
    assert items(b) == list(range(7))  # untouched
    restore(b, file, force=True)
    assert items(b) == list(range(3))


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_a_file_that_is_not_a_backup_is_refused(tmp_path, content):
    data, file = str(tmp_path / "d"), tmp_path / "junk.db"
    seed(data, 2)
    file.write_bytes(content)
    r = cli("restore", str(file), "--force", "--data-dir", data)
    assert r.returncode == 1 and "lambdasmith restore:" in r.stderr and "Traceback" not in r.stderr
    assert items(data) == [0, 1]


def test_the_commands_from_the_shell(tmp_path):
    live, fresh, file = str(tmp_path / "live"), str(tmp_path / "fresh"), str(tmp_path / "b.db")
    seed(live, 4)
    r = cli("backup", file, "--data-dir", live)
    assert r.returncode == 0, r.stderr
    assert "bytes" in r.stdout
    r = cli("restore", file, "--data-dir", fresh)
    assert r.returncode == 0, r.stderr
    assert items(fresh) == [0, 1, 2, 3]
    with sqlite3.connect(os.path.join(fresh, DB_FILE)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("args", [["backup", "{tmp}/x.db", "--data-dir", "{tmp}/nothing-here"],
                                  ["restore", "{tmp}/missing.db", "--data-dir", "{tmp}/d"],
                                  ["backup", "{tmp}", "--data-dir", "{tmp}/live"]])
def test_refusals_say_why_and_exit_1(tmp_path, args):
    seed(str(tmp_path / "live"), 1)
    r = cli(*[a.format(tmp=tmp_path) for a in args])
    assert r.returncode == 1 and r.stderr.startswith(f"lambdasmith {args[0]}:") and "Traceback" not in r.stderr
