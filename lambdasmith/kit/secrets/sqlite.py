"""The embedded secret backend: a table in the data directory's SQLite file, encrypted at rest.

Every value is sealed with AES-256-GCM (`cryptography`'s AESGCM) under a key that lives in its
own file, outside the database, so the database file, its WAL and its backups hold no secret in
plain text. A stored value is `v1:` + base64(nonce (12 random bytes) || ciphertext || tag), and
the secret's name is the associated data: a value copied into another name's row fails to open.

The key file: by default `secrets.key` beside the database (the data dir), elsewhere when the
caller says so (`lambdasmith.kit.backends.open_secrets` reads `LAMBDASMITH_SECRETS_KEY_FILE`).
It holds the 32-byte key as base64url text and a newline. It is created on first use, complete
or not at all: written and fsynced under a unique temporary name opened with O_CREAT|O_EXCL and
mode 0600, then hard-linked into place, which fails if the file exists, so of two processes
racing to create it the loser reads the winner's key. A key file readable or writable by group
or others is refused (`chmod 600` it), so is one that does not hold a 32-byte key.

Rows written before values were encrypted (no `v1:` prefix) are encrypted when the store is
unlocked (its first use, or `unlock()`: `serve` does it at start through `prepare_secrets`), in one transaction, with SQLite's secure_delete so the old pages are zeroed; the WAL is
then checkpointed and truncated. `get` refuses a value that is not sealed rather than trusting
it. Lose the key and the secrets are gone: it is backed up with the data dir, never inside it.

`cryptography` is imported when the store is unlocked: only this backend (one machine, never a
Lambda handler) needs it.
"""

from __future__ import annotations

import base64
import binascii
import errno
import os
import threading

from lambdasmith.kit.secrets.port import SecretDecryptError, SecretKeyError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from lambdasmith.kit.sqlite import Database

__all__ = ["KEY_FILE", "SqliteSecrets", "load_or_create_key"]

KEY_FILE = "secrets.key"  # beside the database unless the caller names another file
KEY_BYTES = 32
NONCE_BYTES = 12
PREFIX = "v1:"
_FIX_MODE = "chmod 600 it (and keep it owned by the user lambdasmith runs as)"


def _read_key(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o077:
            raise SecretKeyError(f"secret key file {path} has mode {mode & 0o777:04o}, open to group or others: "
                                 f"{_FIX_MODE}")  # fmt: skip
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    text = raw.strip()
    try:
        key = base64.urlsafe_b64decode(text) if text else b""
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES or base64.urlsafe_b64encode(key) != text:
        raise SecretKeyError(f"secret key file {path} is malformed: expected {KEY_BYTES} bytes as base64url text "
                             "(restore it from your backup)")  # fmt: skip
    return key


def _create_key(path: str) -> bool:
    """Write a fresh key to `path` unless a key file is there already; True when this call made it."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o700, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        try:
            os.write(fd, base64.urlsafe_b64encode(os.urandom(KEY_BYTES)) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic and never replaces: the first of racing creators wins
        except FileExistsError:
            return False
    finally:
        os.unlink(tmp)
    try:  # the key must outlive a power cut before any secret is sealed with it
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return True
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
    return True


def load_or_create_key(path: str) -> bytes:
    """The key in `path`, made there first if the file does not exist."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise SecretKeyError(f"cannot read secret key file {path}: {e.strerror or e}") from None
    try:
        _create_key(path)
    except OSError as e:
        if e.errno != errno.EEXIST:
            raise SecretKeyError(f"cannot create secret key file {path}: {e.strerror or e}") from None
    try:
        return _read_key(path)  # ours, or the one a racing process linked first
    except OSError as e:
        raise SecretKeyError(f"cannot read secret key file {path}: {e.strerror or e}") from None


def _aead_class() -> type[AESGCM]:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise SecretKeyError("the embedded secret backend needs the `cryptography` package (pip install cryptography); "
                             "on AWS Lambda use LAMBDASMITH_SECRET_BACKEND=secretsmanager or ssm") from None  # fmt: skip
    return AESGCM


def _seal_with(aead: AESGCM, name: str, value: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = aead.encrypt(nonce, value.encode("utf-8"), name.encode("utf-8"))
    return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


class SqliteSecrets:
    """Unlocked on first use (or by `unlock()`): the key read or made, old plaintext rows encrypted.

    Until then nothing is imported or read, so code that builds a store it never uses (a Lambda
    handler whose secrets are elsewhere, a health check) needs neither the key nor `cryptography`.
    """

    def __init__(self, db: Database, key_file: str | None = None):
        self.db = db
        self.key_file = os.path.abspath(key_file or os.path.join(os.path.dirname(db.path), KEY_FILE))
        db.ensure("CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._aead: AESGCM | None = None
        self._unlock_lock = threading.Lock()

    def unlock(self) -> None:
        """Read (or make) the key and encrypt rows left in plain text; errors name the key file."""
        if self._aead is not None:
            return
        with self._unlock_lock:
            if self._aead is None:
                aead = _aead_class()(load_or_create_key(self.key_file))
                self._encrypt_plaintext_rows(aead)
                self._aead = aead

    def _cipher(self) -> AESGCM:
        self.unlock()
        assert self._aead is not None
        return self._aead

    # ------------------------------------------------------------------ sealing

    def _seal(self, name: str, value: str) -> str:
        return _seal_with(self._cipher(), name, value)

    def _open(self, name: str, stored: str) -> str:
        from cryptography.exceptions import InvalidTag

        if not stored.startswith(PREFIX):
            raise SecretDecryptError(f"secret {name!r} is stored unencrypted (written by an older lambdasmith while "
                                     "this one ran?); it is encrypted the next time the store is opened")  # fmt: skip
        try:
            blob = base64.b64decode(stored[len(PREFIX):], validate=True)
            if len(blob) < NONCE_BYTES + 16:
                raise ValueError("too short")
            return self._cipher().decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], name.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError):  # binascii.Error and UnicodeDecodeError are ValueErrors
            raise SecretDecryptError(
                f"secret {name!r} does not decrypt with the key in {self.key_file}: the key file was replaced "
                "or is not the one this data was written with (see LAMBDASMITH_SECRETS_KEY_FILE), or the "
                "stored value was altered. Restore the key file from the backup of this data dir; if it is "
                "lost, the secret is too: store it again (an org's: `lambdasmith badges register-org … --force`)") from None  # fmt: skip

    def _encrypt_plaintext_rows(self, aead: AESGCM) -> None:
        unsealed = "SELECT name, value FROM secrets WHERE substr(value, 1, 3) != 'v1:'"
        with self.db.read() as conn:
            if conn.execute(unsealed + " LIMIT 1").fetchone() is None:
                return
        with self.db.write() as conn:
            was = conn.execute("PRAGMA secure_delete").fetchone()[0]
            conn.execute("PRAGMA secure_delete = ON")  # the plaintext's old bytes are zeroed, not freed
            try:
                for name, value in conn.execute(unsealed).fetchall():  # again: under the write lock
                    conn.execute("UPDATE secrets SET value = ? WHERE name = ?", (_seal_with(aead, name, value), name))
            finally:
                conn.execute(f"PRAGMA secure_delete = {int(was)}")
        with self.db.read() as conn:  # the WAL still holds the old pages until a checkpoint
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ------------------------------------------------------------------ the port

    def get(self, name: str) -> str | None:
        self.unlock()
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return self._open(name, row[0]) if row else None

    def put(self, name: str, value: str) -> bool:
        self.unlock()  # before the write lock: unlocking may take it
        with self.db.write() as conn:
            row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
            if row:
                try:
                    if self._open(name, row[0]) == value:
                        return False
                except SecretDecryptError:
                    pass  # unreadable with this key: storing it again is how a lost key is recovered from
            conn.execute("INSERT OR REPLACE INTO secrets (name, value) VALUES (?, ?)", (name, self._seal(name, value)))
            return True

    def delete(self, name: str) -> None:
        self.unlock()
        with self.db.write() as conn:
            conn.execute("DELETE FROM secrets WHERE name = ?", (name,))
