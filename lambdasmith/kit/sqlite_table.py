"""The table port on the embedded SQLite file: what `lambdasmith serve` runs on a laptop.

Every logical table of a `Database` lives in the same two SQL tables, so a transaction over
several `SqliteTable`s is one SQL transaction. Items are stored as JSON (ints stay ints); the
key columns are TEXT under SQLite's default BINARY collation, which compares UTF-8 bytes — the
order DynamoDB uses for string keys. A GSI is a side table rewritten on each write of an item,
so reading one is an index range scan joined back to the item.

Conditions are evaluated in Python with `table.evaluate`, inside `BEGIN IMMEDIATE`, so the
read-check-write is atomic against other threads and processes using the file.
"""

from __future__ import annotations

import json
import time

from lambdasmith.kit.sqlite import Database
from lambdasmith.kit.table import (
    MAX_TRANSACTION_ITEMS,
    Check,
    Condition,
    ConditionFailed,
    Delete,
    Item,
    Page,
    Patch,
    Put,
    SortKey,
    TableSpec,
    TransactionCanceled,
    Update,
    ValidationError,
    Write,
    check_item,
    decode_cursor,
    encode_cursor,
    evaluate,
    key_of,
)

TYPE_CHECKING = False  # typing costs a cold start milliseconds; only type checkers need these
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

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
_COMPARISONS = {"=", "<", "<=", ">", ">="}


class SqliteTable:
    """One logical table (`name`, default `spec.name`) inside a shared `Database`."""

    def __init__(self, db: Database, spec: TableSpec, name: str | None = None):
        self.db = db
        self.spec = spec
        self.name = name or spec.name
        db.ensure(_SCHEMA)

    def __repr__(self) -> str:
        return f"SqliteTable({self.name!r} in {self.db.path!r})"

    # ------------------------------------------------------------------------ single items

    def get(self, key: Item) -> Item | None:
        pk, sk = self._key(key)
        with self.db.read() as conn:
            return self._current(conn, pk, sk, time.time())

    def put(self, item: Item, condition: Condition | None = None) -> None:
        pk, sk, body = self._prepare(item)
        with self.db.write() as conn:
            if condition is not None:
                if not evaluate(condition, self._current(conn, pk, sk, time.time())):
                    raise ConditionFailed(f"put {pk!r}/{sk!r} in {self.name!r}")
            self._store(conn, pk, sk, item, body)

    def update(self, key: Item, update: Update, condition: Condition | None = None) -> Item:
        pk, sk = self._key(key)
        self._check_update(update)
        with self.db.write() as conn:
            current = self._current(conn, pk, sk, time.time())
            if not evaluate(condition, current):
                raise ConditionFailed(f"update {pk!r}/{sk!r} in {self.name!r}")
            new = update.apply(current, {self.spec.pk: pk, self.spec.sk: sk})
            _, _, body = self._prepare(new)
            self._store(conn, pk, sk, new, body)
        # What a later get returns (tuples become lists), sharing nothing with `update`.
        stored: Item = json.loads(body)
        return stored

    def delete(self, key: Item, condition: Condition | None = None) -> Item | None:
        pk, sk = self._key(key)
        with self.db.write() as conn:
            current = self._current(conn, pk, sk, time.time())
            if not evaluate(condition, current):
                raise ConditionFailed(f"delete {pk!r}/{sk!r} in {self.name!r}")
            self._remove(conn, pk, sk)
        return current

    # ------------------------------------------------------------------------ queries

    def query(
        self,
        pk: str,
        sk: SortKey | None = None,
        *,
        index: str | None = None,
        limit: int = 100,
        descending: bool = False,
        cursor: str | None = None,
    ) -> Page:
        _check_text(pk, "partition key")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValidationError("limit must be an integer >= 1")
        try:
            ipk, isk = self.spec.index(index)
        except KeyError as e:
            raise ValidationError(str(e)) from None
        start = _decode_cursor(cursor, self._cursor_names(index), ipk, pk)

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
        return Page([json.loads(row[-1]) for row in rows], encode_cursor(at))

    def batch_get(self, keys: Iterable[Item]) -> list[Item]:
        wanted = dict.fromkeys(self._key(k) for k in keys)
        now = time.time()
        found: list[Item] = []
        with self.db.read() as conn:
            for pk, sk in wanted:
                item = self._current(conn, pk, sk, now)
                if item is not None:
                    found.append(item)
        return found

    def batch_put(self, items: Iterable[Item]) -> None:
        # Validate everything before writing anything; a repeated key keeps its last item.
        prepared: dict[tuple[str, str], tuple[Item, str]] = {}
        for item in items:
            pk, sk, body = self._prepare(item)
            prepared[(pk, sk)] = (item, body)
        if not prepared:
            return
        with self.db.write() as conn:
            for (pk, sk), (item, body) in prepared.items():
                self._store(conn, pk, sk, item, body)

    # ------------------------------------------------------------------------ transactions

    def transact(self, writes: Sequence[Write]) -> None:
        writes = list(writes)
        if not writes:
            return
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise ValidationError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} writes")
        plan = [self._plan(w) for w in writes]
        seen: set[tuple[str, str, str]] = set()
        for table, _, pk, sk, _ in plan:
            ident = (table.name, pk, sk)
            if ident in seen:
                raise ValidationError("a transaction may touch each item only once")
            seen.add(ident)

        with self.db.write() as conn:
            now = time.time()
            reasons: list[str | None] = []
            results: list[tuple[Item, Any] | None] = []
            for table, op, pk, sk, body in plan:
                current = table._current(conn, pk, sk, now)
                outcome: tuple[Item, Any] | None = None
                reason: str | None = None
                if not evaluate(op.condition, current):
                    reason = "ConditionalCheckFailed"
                elif isinstance(op, Put):
                    outcome = (op.item, body)
                elif isinstance(op, Patch):
                    try:
                        new = op.update.apply(current, {table.spec.pk: pk, table.spec.sk: sk})
                        outcome = (new, table._prepare(new)[2])
                    except ValidationError:  # e.g. ADD to text, or grown past 400 KB
                        reason = "ValidationError"
                reasons.append(reason)
                results.append(outcome)
            if any(r is not None for r in reasons):
                raise TransactionCanceled(reasons)
            for (table, op, pk, sk, _), outcome in zip(plan, results):
                if outcome is not None:
                    table._store(conn, pk, sk, *outcome)
                elif isinstance(op, Delete):
                    table._remove(conn, pk, sk)

    def _plan(self, write: Write) -> tuple["SqliteTable", Any, str, str, str | None]:
        """Validate one transaction write up front, as DynamoDB does before touching items."""
        table, op = write.table, write.op
        if not isinstance(table, SqliteTable) or table.db is not self.db:
            raise ValidationError("a transaction must stay within one SQLite database")
        if isinstance(op, Put):
            pk, sk, body = table._prepare(op.item)
            return table, op, pk, sk, body
        if isinstance(op, Patch):
            table._check_update(op.update)
        elif isinstance(op, Check) and op.condition is None:
            raise ValidationError("a Check needs a condition")
        elif not isinstance(op, (Delete, Check)):
            raise ValidationError(f"not a transaction operation: {op!r}")
        pk, sk = table._key(op.key)
        return table, op, pk, sk, None

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

    def _key(self, key: Item) -> tuple[str, str]:
        if not isinstance(key, dict):
            raise ValidationError("a key must be a dict")
        k = key_of(self.spec, key)
        if len(key) != len(k):
            raise ValidationError(f"a key holds only {self.spec.pk!r} and {self.spec.sk!r}")
        pk, sk = k[self.spec.pk], k[self.spec.sk]
        _check_text(pk, self.spec.pk)
        _check_text(sk, self.spec.sk)
        return pk, sk

    def _prepare(self, item: Item) -> tuple[str, str, str]:
        """Validate an item to be stored; its key and JSON body."""
        if not isinstance(item, dict) or not all(isinstance(k, str) for k in item):
            raise ValidationError("an item must be a dict with string attribute names")
        try:
            check_item(self.spec, item)
            body = json.dumps(item, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as e:
            raise ValidationError(f"unsupported attribute value: {e}") from None
        return item[self.spec.pk], item[self.spec.sk], body

    def _check_update(self, update: Update) -> None:
        if not isinstance(update, Update):
            raise ValidationError(f"not an Update: {update!r}")
        if isinstance(update.remove, str):
            raise ValidationError("Update.remove is a sequence of attribute names")
        clauses = (update.set, update.set_if_absent, update.add, update.remove)
        named = [a for clause in clauses for a in clause]
        if len(named) != len(set(named)):
            raise ValidationError("an attribute may appear in one update clause only")
        for a in (self.spec.pk, self.spec.sk):
            if a in named:
                raise ValidationError(f"cannot update key attribute {a!r}")
        for a, v in update.add.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ValidationError(f"ADD needs a number for {a!r}")

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

    def _cursor_names(self, index: str | None) -> set[str]:
        names = {self.spec.pk, self.spec.sk}
        if index is not None:
            names.update(self.spec.index(index))
        return names


# ---------------------------------------------------------------------------- helpers


def _check_text(value: Any, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} must be a non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{what} is not valid Unicode text") from None


def _sort_clause(cond: SortKey, col: str) -> tuple[str, list[str]]:
    """SQL for a sort-key condition; TEXT comparisons in SQLite are UTF-8 byte comparisons."""
    if not isinstance(cond, SortKey):
        raise ValidationError(f"not a SortKey: {cond!r}")
    op, value = cond.op, cond.value
    if op in _COMPARISONS:
        _check_text(value, "sort-key value")
        return f"{col} {op} ?", [value]
    if op == "begins_with":
        if not isinstance(value, str):
            raise ValidationError("begins_with needs a string prefix")
        if value:
            _check_text(value, "sort-key prefix")
        upper = _after_prefix(value)
        if upper is None:
            return f"{col} >= ?", [value]
        return f"{col} >= ? AND {col} < ?", [value, upper]
    if op == "between":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ValidationError("between needs a (low, high) pair")
        low, high = value
        _check_text(low, "sort-key low bound")
        _check_text(high, "sort-key high bound")
        if low.encode() > high.encode():
            raise ValidationError("between needs low <= high")
        return f"{col} BETWEEN ? AND ?", [low, high]
    raise ValidationError(f"unknown sort-key operator {op!r}")


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


def _decode_cursor(
    cursor: str | None, names: set[str], pk_name: str, pk: str
) -> dict[str, str] | None:
    """The exclusive start key inside a cursor, checked against the query it resumes."""
    if cursor is None:
        return None
    key = decode_cursor(cursor, names)
    if not all(isinstance(v, str) and v for v in key.values()):
        raise ValidationError("malformed cursor")
    if key[pk_name] != pk:
        raise ValidationError("cursor belongs to another partition")
    return key
