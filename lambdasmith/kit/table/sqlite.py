"""The table port on the embedded SQLite file: what `lambdasmith serve` runs on a laptop.

Every logical table of a `Database` lives in the same two SQL tables, so a transaction over
several `SqliteTable`s is one SQL transaction. Items are stored as JSON (ints stay ints); the
key columns are TEXT under SQLite's default BINARY collation, which compares UTF-8 bytes — the
order DynamoDB uses for string keys. A GSI is a side table rewritten on each write of an item,
so reading one is an index range scan joined back to the item.

Requests arrive checked by the port's base class (`table.port.Table`). Conditions are
evaluated in Python with `table.port.evaluate`, inside `BEGIN IMMEDIATE`, so the
read-check-write is atomic against other threads and processes using the file.
"""

from __future__ import annotations

import json
import time

from lambdasmith.kit.sqlite import Database
from lambdasmith.kit.table.port import (
    Condition,
    ConditionFailed,
    Delete,
    Item,
    Page,
    Patch,
    Planned,
    Put,
    SortKey,
    Table,
    TableSpec,
    TransactionCanceled,
    Update,
    ValidationError,
    check_stored,
    evaluate,
)

TYPE_CHECKING = False  # typing costs a cold start milliseconds; only type checkers need these
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SqliteTable"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS table_items (
    tbl TEXT NOT NULL,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    body TEXT NOT NULL,
    expires REAL,
    PRIMARY KEY (tbl, pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS table_items_expires
    ON table_items (tbl, expires) WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS table_gsi (
    tbl TEXT NOT NULL,
    idx TEXT NOT NULL,
    gpk TEXT NOT NULL,
    gsk TEXT NOT NULL,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    PRIMARY KEY (tbl, idx, gpk, gsk, pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS table_gsi_item ON table_gsi (tbl, pk, sk);
"""

_LIVE = "(expires IS NULL OR expires > ?)"


class SqliteTable(Table):
    """One logical table (`name`, default `spec.name`) inside a shared `Database`.

    Requests arrive validated (`Table`); what is left here is SQL."""

    backend_scope = "one SQLite database"

    def __init__(self, db: Database, spec: TableSpec, name: str | None = None):
        self.db = db
        self.spec = spec
        self.name = name or spec.name
        db.ensure(_SCHEMA)

    def __repr__(self) -> str:
        return f"SqliteTable({self.name!r} in {self.db.path!r})"

    def _same_backend(self, other: Table) -> bool:
        return isinstance(other, SqliteTable) and other.db is self.db

    # ------------------------------------------------------------------------ single items

    def _get(self, pk: str, sk: str) -> Item | None:
        with self.db.read() as conn:
            return self._current(conn, pk, sk, time.time())

    def _put(self, item: Item, condition: Condition | None) -> None:
        pk, sk, body = item[self.spec.pk], item[self.spec.sk], _body(item)
        with self.db.write() as conn:
            if condition is not None:
                if not evaluate(condition, self._current(conn, pk, sk, time.time())):
                    raise ConditionFailed(f"put {pk!r}/{sk!r} in {self.name!r}")
            self._store(conn, pk, sk, item, body)

    def _update(self, pk: str, sk: str, update: Update, condition: Condition | None) -> Item:
        with self.db.write() as conn:
            current = self._current(conn, pk, sk, time.time())
            if not evaluate(condition, current):
                raise ConditionFailed(f"update {pk!r}/{sk!r} in {self.name!r}")
            new = update.apply(current, {self.spec.pk: pk, self.spec.sk: sk})
            body = self._prepare(new)
            self._store(conn, pk, sk, new, body)
        # What a later get returns (tuples become lists), sharing nothing with `update`.
        stored: Item = json.loads(body)
        return stored

    def _delete(self, pk: str, sk: str, condition: Condition | None) -> Item | None:
        with self.db.write() as conn:
            current = self._current(conn, pk, sk, time.time())
            if not evaluate(condition, current):
                raise ConditionFailed(f"delete {pk!r}/{sk!r} in {self.name!r}")
            self._remove(conn, pk, sk)
        return current

    # ------------------------------------------------------------------------ queries

    def _query(
        self,
        pk: str,
        sk: SortKey | None,
        index: str | None,
        limit: int,
        descending: bool,
        start: dict[str, str] | None,
    ) -> Page:
        ipk, isk = self.spec.index(index)
        if index is None:
            sql = "SELECT sk, body FROM table_items WHERE tbl = ? AND pk = ? AND " + _LIVE
            params: list[Any] = [self.name, pk, time.time()]
            column, order = "sk", ["sk"]
            after = None if start is None else [start[self.spec.sk]]
        else:
            # Ties on the index sort key are broken by the table key, so cursors stay exact.
            sql = (
                "SELECT g.gsk, g.pk, g.sk, i.body FROM table_gsi g JOIN table_items i"
                " ON i.tbl = g.tbl AND i.pk = g.pk AND i.sk = g.sk"
                " WHERE g.tbl = ? AND g.idx = ? AND g.gpk = ?"
                " AND (i.expires IS NULL OR i.expires > ?)"
            )
            params = [self.name, index, pk, time.time()]
            column, order = "g.gsk", ["g.gsk", "g.pk", "g.sk"]
            after = None
            if start is not None:
                after = [start[isk], start[self.spec.pk], start[self.spec.sk]]
        if sk is not None:
            clause, values = _sort_clause(sk, column)
            sql += " AND " + clause
            params += values
        if after is not None:
            # DynamoDB's exclusive start key: resume strictly past it in scan order.
            marks = ", ".join("?" * len(after))
            sql += f" AND ({', '.join(order)}) {'<' if descending else '>'} ({marks})"
            params += after
        direction = " DESC" if descending else ""
        sql += " ORDER BY " + ", ".join(c + direction for c in order) + " LIMIT ?"
        params.append(limit + 1)  # one extra row tells whether another page exists

        with self.db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        if len(rows) <= limit:
            return Page([json.loads(row[-1]) for row in rows], None)
        rows = rows[:limit]
        last = rows[-1]
        if index is None:
            at = {self.spec.pk: pk, self.spec.sk: last[0]}
        else:
            at = {self.spec.pk: last[1], self.spec.sk: last[2], ipk: pk, isk: last[0]}
        return Page([json.loads(row[-1]) for row in rows], self._cursor(at))

    def _batch_get(self, keys: list[tuple[str, str]]) -> list[Item]:
        now = time.time()
        found: list[Item] = []
        with self.db.read() as conn:
            for pk, sk in keys:
                item = self._current(conn, pk, sk, now)
                if item is not None:
                    found.append(item)
        return found

    def _batch_put(self, items: list[Item]) -> None:
        prepared = [(item[self.spec.pk], item[self.spec.sk], item, _body(item)) for item in items]
        with self.db.write() as conn:
            for pk, sk, item, body in prepared:
                self._store(conn, pk, sk, item, body)

    # ------------------------------------------------------------------------ transactions

    def _transact(self, plan: list[Planned], **options: Any) -> None:
        if options:
            raise TypeError(f"unexpected transaction options: {', '.join(options)}")
        bodies = [_body(p.op.item) if isinstance(p.op, Put) else None for p in plan]
        with self.db.write() as conn:
            now = time.time()
            reasons: list[str | None] = []
            results: list[tuple[Item, Any] | None] = []
            for p, body in zip(plan, bodies):
                table, op, pk, sk = p.table, p.op, p.pk, p.sk
                assert isinstance(table, SqliteTable)
                current = table._current(conn, pk, sk, now)
                outcome: tuple[Item, Any] | None = None
                reason: str | None = None
                if not evaluate(op.condition, current):
                    reason = "ConditionalCheckFailed"
                elif isinstance(op, Put):
                    outcome = (op.item, body)
                elif isinstance(op, Patch):
                    try:
                        new = op.update.apply(current, p.key())
                        outcome = (new, table._prepare(new))
                    except ValidationError:  # e.g. ADD to text, or grown past 400 KB
                        reason = "ValidationError"
                reasons.append(reason)
                results.append(outcome)
            if any(r is not None for r in reasons):
                raise TransactionCanceled(reasons)
            for p, outcome in zip(plan, results):
                table = p.table
                assert isinstance(table, SqliteTable)
                if outcome is not None:
                    table._store(conn, p.pk, p.sk, *outcome)
                elif isinstance(p.op, Delete):
                    table._remove(conn, p.pk, p.sk)

    # ------------------------------------------------------------------------ housekeeping

    def sweep(self, now: float | None = None) -> int:
        """Delete expired items (reads already hide them); return how many went."""
        cutoff = time.time() if now is None else now
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM table_gsi WHERE (tbl, pk, sk) IN (SELECT tbl, pk, sk"
                " FROM table_items WHERE tbl = ? AND expires <= ?)",
                (self.name, cutoff),
            )
            cur = conn.execute(
                "DELETE FROM table_items WHERE tbl = ? AND expires <= ?", (self.name, cutoff)
            )
            return cur.rowcount

    # ------------------------------------------------------------------------ internals

    def _prepare(self, item: Item) -> str:
        """An item computed here (an update's result), checked as a put's; its JSON body."""
        check_stored(self.spec, item)
        return _body(item)

    def _current(self, conn: Any, pk: str, sk: str, now: float) -> Item | None:
        """The unexpired item, or None: an expired row counts as absent everywhere."""
        row = conn.execute(
            "SELECT body, expires FROM table_items WHERE tbl = ? AND pk = ? AND sk = ?",
            (self.name, pk, sk),
        ).fetchone()
        if row is None or (row[1] is not None and row[1] <= now):
            return None
        item: Item = json.loads(row[0])
        return item

    def _store(self, conn: Any, pk: str, sk: str, item: Item, body: str) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO table_items (tbl, pk, sk, body, expires)"
            " VALUES (?, ?, ?, ?, ?)",
            (self.name, pk, sk, body, self._expires(item)),
        )
        if not self.spec.indexes:
            return
        conn.execute(
            "DELETE FROM table_gsi WHERE tbl = ? AND pk = ? AND sk = ?", (self.name, pk, sk)
        )
        entries = []
        for ix in self.spec.indexes:
            gpk, gsk = item.get(ix.pk), item.get(ix.sk)
            if isinstance(gpk, str) and isinstance(gsk, str):
                entries.append((self.name, ix.name, gpk, gsk, pk, sk))
        if entries:
            conn.executemany("INSERT INTO table_gsi VALUES (?, ?, ?, ?, ?, ?)", entries)

    def _remove(self, conn: Any, pk: str, sk: str) -> None:
        conn.execute(
            "DELETE FROM table_items WHERE tbl = ? AND pk = ? AND sk = ?", (self.name, pk, sk)
        )
        if self.spec.indexes:
            conn.execute(
                "DELETE FROM table_gsi WHERE tbl = ? AND pk = ? AND sk = ?", (self.name, pk, sk)
            )

    def _expires(self, item: Item) -> float | None:
        # Mirrors TableSpec.expired: only a number (not a bool) in the TTL attribute counts.
        if self.spec.ttl is None:
            return None
        exp = item.get(self.spec.ttl)
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            return None
        try:
            return float(exp)
        except OverflowError:
            return float("inf") if exp > 0 else float("-inf")


# ---------------------------------------------------------------------------- helpers


def _body(item: Item) -> str:
    """The stored JSON of a validated item (ints stay ints; NaN and infinity are refused)."""
    try:
        return json.dumps(item, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise ValidationError(f"unsupported attribute value: {e}") from None


def _sort_clause(cond: SortKey, col: str) -> tuple[str, list[str]]:
    """SQL for a (validated) sort-key condition; TEXT comparisons in SQLite are UTF-8 byte
    comparisons."""
    op, value = cond.op, cond.value
    if op == "begins_with":
        upper = _after_prefix(value)
        if upper is None:
            return f"{col} >= ?", [value]
        return f"{col} >= ? AND {col} < ?", [value, upper]
    if op == "between":
        return f"{col} BETWEEN ? AND ?", list(value)
    return f"{col} {op} ?", [value]


def _after_prefix(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (None: no bound).

    Code-point order equals UTF-8 byte order, so bumping the last code point is enough;
    surrogates cannot occur in stored text and are stepped over.
    """
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            bumped = 0xE000 if last + 1 == 0xD800 else last + 1
            return prefix[:-1] + chr(bumped)
        prefix = prefix[:-1]
    return None
