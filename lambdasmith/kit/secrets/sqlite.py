"""The embedded secret backend: a table in the data directory's SQLite file (mode 0600)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdasmith.kit.sqlite import Database

__all__ = ["SqliteSecrets"]


class SqliteSecrets:
    def __init__(self, db: Database):
        self.db = db
        db.ensure("CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get(self, name: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def put(self, name: str, value: str) -> bool:
        with self.db.write() as conn:
            row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
            if row and row[0] == value:
                return False
            conn.execute("INSERT OR REPLACE INTO secrets (name, value) VALUES (?, ?)", (name, value))
            return True

    def delete(self, name: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM secrets WHERE name = ?", (name,))
