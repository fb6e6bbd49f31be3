"""The embedded secret backend encrypts at rest: no plaintext in the SQLite file or its WAL, the key
in its own file (0600, refused when open to others or malformed, made once even by racing
processes), values bound to their names, old plaintext rows encrypted on open."""

from __future__ import annotations

import base64
import multiprocessing
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from lambdasmith.kit.backends import open_secrets, prepare_secrets
from lambdasmith.kit.secrets.port import SecretDecryptError, SecretKeyError
from lambdasmith.kit.secrets.sqlite import SqliteSecrets, load_or_create_key
from lambdasmith.kit.sqlite import Database

SECRET = "hmac-key-Zq8v2WcL5sT1xN9pR4yB"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("LAMBDASMITH_SECRETS_KEY_FILE", raising=False)
    d = tmp_path / "data"
    yield d
    Database.open(d / "lambdasmith.db").close()


def raw_bytes(data_dir: Path) -> bytes:
    """The database file and whatever its WAL holds, as they are on disk."""
    return b"".join(p.read_bytes() for p in data_dir.glob("lambdasmith.db*") if p.is_file())


def stored(data_dir: Path, name: str) -> str:
    with sqlite3.connect(data_dir / "lambdasmith.db") as conn:
        return conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0]


def write_raw(data_dir: Path, name: str, value: str) -> None:
    conn = sqlite3.connect(data_dir / "lambdasmith.db", isolation_level=None)
    try:
        conn.execute("INSERT OR REPLACE INTO secrets (name, value) VALUES (?, ?)", (name, value))
    finally:
        conn.close()


def test_the_database_and_its_wal_hold_no_plaintext(data_dir: Path):
    store = open_secrets(data_dir=str(data_dir))
    store.put("badges/acme/testdata", SECRET)
    store.put("badges/acme/testdata", SECRET + "-rotated")
    assert store.get("badges/acme/testdata") == SECRET + "-rotated"
    assert (data_dir / "lambdasmith.db-wal").exists()  # still open: the commits are in the WAL
    raw = raw_bytes(data_dir)
    assert SECRET.encode() not in raw
    assert base64.b64encode(SECRET.encode())[:16] not in raw
    value = stored(data_dir, "badges/acme/testdata")
    assert value.startswith("v1:")
    blob = base64.b64decode(value[3:])
    assert len(blob) == 12 + len(SECRET + "-rotated") + 16  # nonce || ciphertext || tag


def test_the_same_value_is_sealed_with_a_fresh_nonce_and_put_stays_idempotent(data_dir: Path):
    store = open_secrets(data_dir=str(data_dir))
    assert store.put("a", SECRET) is True
    first = stored(data_dir, "a")
    assert store.put("a", SECRET) is False  # compared decrypted
    assert stored(data_dir, "a") == first
    store.put("b", SECRET)
    assert stored(data_dir, "b") != first


def test_the_key_file_is_made_beside_the_database_owner_only(data_dir: Path):
    open_secrets(data_dir=str(data_dir)).put("a", SECRET)
    key = data_dir / "secrets.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = key.read_bytes()
    assert text.endswith(b"\n") and len(base64.urlsafe_b64decode(text.strip())) == 32
    assert [p.name for p in data_dir.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    assert text.strip() not in raw_bytes(data_dir)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_a_key_file_open_to_others_is_refused(data_dir: Path, mode: int):
    open_secrets(data_dir=str(data_dir)).put("a", SECRET)
    key = data_dir / "secrets.key"
    key.chmod(mode)
    Database.open(data_dir / "lambdasmith.db").close()
    with pytest.raises(SecretKeyError, match=f"{key}.*chmod 600"):
        prepare_secrets(data_dir=str(data_dir))
    with pytest.raises(SecretKeyError, match=f"{key}.*chmod 600"):
        open_secrets(data_dir=str(data_dir)).get("a")
    key.chmod(0o600)
    assert open_secrets(data_dir=str(data_dir)).get("a") == SECRET


def test_a_read_only_key_file_is_fine(data_dir: Path):
    open_secrets(data_dir=str(data_dir)).put("a", SECRET)
    (data_dir / "secrets.key").chmod(0o400)
    assert open_secrets(data_dir=str(data_dir)).get("a") == SECRET


@pytest.mark.parametrize("content", [b"", b"\n", b"not base64 at all!\n", base64.urlsafe_b64encode(b"k" * 16) + b"\n",
                                     base64.urlsafe_b64encode(b"k" * 33) + b"\n", b"k" * 32])  # fmt: skip
def test_a_malformed_key_file_is_refused(tmp_path: Path, content: bytes):
    key = tmp_path / "secrets.key"
    fd = os.open(key, os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(SecretKeyError, match=f"{key} is malformed"):
        load_or_create_key(str(key))
    assert key.read_bytes() == content  # never replaced


def test_a_raw_key_without_newline_is_read(tmp_path: Path):
    key = tmp_path / "secrets.key"
    made = load_or_create_key(str(key))
    key.write_bytes(key.read_bytes().strip())
    assert load_or_create_key(str(key)) == made


def test_another_key_fails_with_an_error_naming_the_key_file(data_dir: Path):
    open_secrets(data_dir=str(data_dir)).put("badges/acme/testdata", SECRET)
    key = data_dir / "secrets.key"
    key.unlink()  # lost: a new one is made, which cannot open what the old one sealed
    with pytest.raises(SecretDecryptError, match=f"{key}") as raised:
        open_secrets(data_dir=str(data_dir)).get("badges/acme/testdata")
    assert SECRET not in str(raised.value)
    store = open_secrets(data_dir=str(data_dir))
    assert store.put("badges/acme/testdata", SECRET) is True  # re-registering recovers
    assert store.get("badges/acme/testdata") == SECRET


def test_a_value_moved_to_another_name_does_not_open(data_dir: Path):
    store = open_secrets(data_dir=str(data_dir))
    store.put("badges/acme/testdata", SECRET)
    store.put("badges/evil/testdata", "attacker-known")
    write_raw(data_dir, "badges/evil/testdata", stored(data_dir, "badges/acme/testdata"))
    with pytest.raises(SecretDecryptError, match="badges/evil/testdata"):
        store.get("badges/evil/testdata")


@pytest.mark.parametrize("tamper", [
    lambda v: v[:-4] + ("AAAA" if v[-4:] != "AAAA" else "BBBB"),  # the tag
    lambda v: "v1:" + base64.b64encode(b"\x00" * 40).decode(),  # a well-formed stranger
    lambda v: "v1:!!not base64!!",
    lambda v: "v1:" + base64.b64encode(b"short").decode(),
    lambda v: "plain text written behind its back",
], ids=["tag", "stranger", "not-base64", "short", "unsealed"])  # fmt: skip
def test_a_tampered_value_raises_never_returns_garbage(data_dir: Path, tamper):
    store = open_secrets(data_dir=str(data_dir))
    store.put("a", SECRET)
    write_raw(data_dir, "a", tamper(stored(data_dir, "a")))
    with pytest.raises(SecretDecryptError):
        store.get("a")


def test_plaintext_rows_of_an_older_version_are_encrypted_on_open(data_dir: Path):
    data_dir.mkdir()
    old = [("badges/acme/testdata", SECRET), ("badges/zeta/package", "ghp_" + "x" * 36), ("empty", "")]
    with sqlite3.connect(data_dir / "lambdasmith.db") as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.executemany("INSERT INTO secrets VALUES (?, ?)", old)
    conn.close()
    assert SECRET.encode() in raw_bytes(data_dir)
    prepare_secrets(data_dir=str(data_dir))  # what `serve` does at start (else: the first use)
    store = open_secrets(data_dir=str(data_dir))
    for name, value in old:
        assert stored(data_dir, name).startswith("v1:")
        assert store.get(name) == value
    raw = raw_bytes(data_dir)
    assert SECRET.encode() not in raw and b"ghp_xxxx" not in raw  # neither in live nor in freed pages or the WAL
    sealed = {name: stored(data_dir, name) for name, _ in old}
    Database.open(data_dir / "lambdasmith.db").close()
    prepare_secrets(data_dir=str(data_dir))  # idempotent: nothing left to migrate
    again = open_secrets(data_dir=str(data_dir))
    assert {name: stored(data_dir, name) for name, _ in old} == sealed
    assert again.put("badges/acme/testdata", SECRET) is False


def test_the_environment_variable_moves_the_key_file(data_dir: Path, tmp_path: Path, monkeypatch):
    key = tmp_path / "elsewhere" / "lambdasmith.key"
    monkeypatch.setenv("LAMBDASMITH_SECRETS_KEY_FILE", str(key))
    store = open_secrets(data_dir=str(data_dir))
    assert isinstance(store, SqliteSecrets) and store.key_file == str(key)
    store.put("a", SECRET)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not (data_dir / "secrets.key").exists()
    assert open_secrets(data_dir=str(data_dir)).get("a") == SECRET
    monkeypatch.delenv("LAMBDASMITH_SECRETS_KEY_FILE")
    with pytest.raises(SecretDecryptError, match=str(data_dir / "secrets.key")):
        open_secrets(data_dir=str(data_dir)).get("a")  # without it: another key, beside the database


def _race(path: str, data_dir: str, name: str, start, out) -> None:
    start.wait()
    key = load_or_create_key(path)
    store = SqliteSecrets(Database.open(os.path.join(data_dir, "lambdasmith.db")), path)
    store.put(name, f"value-of-{name}")
    out.put(key)


def test_processes_racing_to_create_the_key_end_with_one_key_both_use(tmp_path: Path):
    ctx = multiprocessing.get_context("spawn")
    for attempt in range(5):
        data_dir, key = tmp_path / f"d{attempt}", tmp_path / f"d{attempt}" / "secrets.key"
        data_dir.mkdir()
        start, out = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_race, args=(str(key), str(data_dir), f"p{i}", start, out)) for i in range(4)]
        for p in procs:
            p.start()
        start.set()
        keys = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        assert len(set(keys)) == 1 and load_or_create_key(str(key)) == keys[0]
        store = SqliteSecrets(Database.open(data_dir / "lambdasmith.db"), str(key))
        assert [store.get(f"p{i}") for i in range(4)] == [f"value-of-p{i}" for i in range(4)]
        Database.open(data_dir / "lambdasmith.db").close()
        assert sorted(p.name for p in data_dir.iterdir() if "key" in p.name) == ["secrets.key"]


def test_a_store_never_used_reads_no_key_and_loads_no_cipher(data_dir: Path):
    import subprocess
    import sys

    code = ("import sys; from lambdasmith.kit.backends import open_secrets; open_secrets(data_dir=sys.argv[1]); "
            "print(any(m.startswith('cryptography') for m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # a Lambda handler building its store at cold start
    assert not (data_dir / "secrets.key").exists()
    open_secrets(data_dir=str(data_dir)).get("a")
    assert (data_dir / "secrets.key").exists()


def test_prepare_secrets_makes_the_key_at_start_and_ignores_the_aws_backends(data_dir: Path):
    prepare_secrets(backend="secretsmanager", data_dir=str(data_dir))
    assert not (data_dir / "secrets.key").exists()
    prepare_secrets(data_dir=str(data_dir))
    assert stat.S_IMODE((data_dir / "secrets.key").stat().st_mode) == 0o600
