"""The table port: a small model of DynamoDB that every backend implements the same way.

Services describe a table once (`TableSpec`) and talk to it through `Table`. The embedded
SQLite backend and the DynamoDB backend both pass `tests/conformance`, so a handler behaves the
same on a laptop and on AWS.

Model (the DynamoDB semantics we keep):
- an item is a JSON-like dict; key attributes (partition + sort, and each GSI's pair) are strings;
- reads are strongly consistent on the table; GSIs are queried by their own key pair;
- a TTL attribute (epoch seconds) makes an item invisible to reads, and *absent* to conditions,
  once it is in the past — even before any sweep deletes it;
- conditional writes fail atomically with `ConditionFailed`; transactions (up to 100 writes) are
  all-or-nothing and fail with `TransactionCanceled` carrying one reason per operation;
- an item may not exceed 400 KB (`ItemTooLarge`).
"""

from __future__ import annotations

import time

from lambdasmith.kit.values import Record

TYPE_CHECKING = False  # typing costs a cold start ~10 ms; only type checkers read these imports
if TYPE_CHECKING:
    from typing import Any, Iterable, Protocol, Sequence

MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_ITEMS = 100

Item = dict  # a JSON-like dict: str, int, float, bool, None, list, dict values


# ---------------------------------------------------------------------------- description


class Index(Record):
    """A global secondary index: items that carry both attributes appear in it."""

    __slots__ = ('name', 'pk', 'sk')
    __match_args__ = ('name', 'pk', 'sk')

    name: str
    pk: str
    sk: str


class TableSpec(Record):
    """What a service declares about one logical table; the physical name comes from config."""

    __slots__ = ('name', 'pk', 'sk', 'indexes', 'ttl')
    __match_args__ = ('name', 'pk', 'sk', 'indexes', 'ttl')
    _defaults = {'pk': "PK", 'sk': "SK", 'indexes': (), 'ttl': None}

    name: str
    pk: str
    sk: str
    indexes: tuple[Index, ...]
    ttl: str | None

    def index(self, name: str | None) -> tuple[str, str]:
        """Key attribute pair of the table (name None) or of a GSI."""
        if name is None:
            return self.pk, self.sk
        for ix in self.indexes:
            if ix.name == name:
                return ix.pk, ix.sk
        raise KeyError(f"table {self.name!r} has no index {name!r}")

    def expired(self, item: Item, now: float | None = None) -> bool:
        if self.ttl is None:
            return False
        exp = item.get(self.ttl)
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            return False
        return exp <= (time.time() if now is None else now)


# ---------------------------------------------------------------------------- conditions


class Absent(Record):
    """The item does not exist (an expired item counts as absent)."""

    __slots__ = ()


class Exists(Record):
    """The item exists and has not expired."""

    __slots__ = ()


class AttrEquals(Record):
    """The item exists and `attr` equals `value`."""

    __slots__ = ('attr', 'value')
    __match_args__ = ('attr', 'value')

    attr: str
    value: Any


class AttrAbsent(Record):
    """The attribute is missing (true when the item itself is missing)."""

    __slots__ = ('attr',)
    __match_args__ = ('attr',)

    attr: str


class AllOf(Record):
    __slots__ = ('conditions',)
    __match_args__ = ('conditions',)
    conditions: tuple["Condition", ...]


Condition = Absent | Exists | AttrEquals | AttrAbsent | AllOf


def evaluate(condition: Condition | None, current: Item | None) -> bool:
    """Reference semantics of a condition against the current (unexpired) item or None.

    Backends that evaluate conditions in Python use this; backends that compile conditions
    (DynamoDB) must agree with it, which the conformance suite checks.
    """
    match condition:
        case None:
            return True
        case Absent():
            return current is None
        case Exists():
            return current is not None
        case AttrEquals(attr, value):
            return current is not None and attr in current and _same(current[attr], value)
        case AttrAbsent(attr):
            return current is None or attr not in current
        case AllOf(conditions):
            return all(evaluate(c, current) for c in conditions)
    raise TypeError(f"not a condition: {condition!r}")


def _same(a: Any, b: Any) -> bool:
    # DynamoDB never equates a BOOL with a number, though Python says True == 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


# ---------------------------------------------------------------------------- sort-key conditions


class SortKey(Record):
    """A condition on the sort key of a query: `op` is one of
    `=`, `<`, `<=`, `>`, `>=`, `begins_with`, `between` (inclusive; `value` is then a pair)."""

    __slots__ = ('op', 'value')
    __match_args__ = ('op', 'value')

    op: str
    value: Any

    @staticmethod
    def eq(v: str) -> "SortKey":
        return SortKey("=", v)

    @staticmethod
    def lt(v: str) -> "SortKey":
        return SortKey("<", v)

    @staticmethod
    def le(v: str) -> "SortKey":
        return SortKey("<=", v)

    @staticmethod
    def gt(v: str) -> "SortKey":
        return SortKey(">", v)

    @staticmethod
    def ge(v: str) -> "SortKey":
        return SortKey(">=", v)

    @staticmethod
    def begins_with(prefix: str) -> "SortKey":
        return SortKey("begins_with", prefix)

    @staticmethod
    def between(low: str, high: str) -> "SortKey":
        return SortKey("between", (low, high))

    def matches(self, sk: str) -> bool:
        v = self.value
        match self.op:
            case "=":
                return sk == v
            case "<":
                return _b(sk) < _b(v)
            case "<=":
                return _b(sk) <= _b(v)
            case ">":
                return _b(sk) > _b(v)
            case ">=":
                return _b(sk) >= _b(v)
            case "begins_with":
                return sk.startswith(v)
            case "between":
                return _b(v[0]) <= _b(sk) <= _b(v[1])
        raise ValueError(f"unknown sort-key operator {self.op!r}")


def _b(s: str) -> bytes:
    # DynamoDB orders string keys by their UTF-8 bytes.
    return s.encode("utf-8")


# ---------------------------------------------------------------------------- updates and writes


class Update(Record):
    """An update of one item, created if missing (DynamoDB UpdateItem semantics).

    `set` assigns, `set_if_absent` assigns only where the attribute is missing
    (`SET a = if_not_exists(a, v)`), `add` adds numbers atomically (a missing attribute counts
    as 0), `remove` deletes attributes. An attribute may appear in one clause only.
    """

    __slots__ = ('set', 'set_if_absent', 'add', 'remove')
    __match_args__ = ('set', 'set_if_absent', 'add', 'remove')
    _defaults = {'set': dict, 'set_if_absent': dict, 'add': dict, 'remove': ()}

    set: dict[str, Any]
    set_if_absent: dict[str, Any]
    add: dict[str, int | float]
    remove: tuple[str, ...]

    def apply(self, current: Item | None, key: Item) -> Item:
        item = dict(current) if current is not None else dict(key)
        item.update(self.set)
        for k, v in self.set_if_absent.items():
            item.setdefault(k, v)
        for k, v in self.add.items():
            base = item.get(k, 0)
            if not isinstance(base, (int, float)) or isinstance(base, bool):
                raise ValidationError(f"cannot ADD to non-number attribute {k!r}")
            item[k] = base + v
        for k in self.remove:
            item.pop(k, None)
        return item


class Put(Record):
    __slots__ = ('item', 'condition')
    __match_args__ = ('item', 'condition')
    _defaults = {'condition': None}
    item: Item
    condition: Condition | None


class Patch(Record):
    __slots__ = ('key', 'update', 'condition')
    __match_args__ = ('key', 'update', 'condition')
    _defaults = {'condition': None}
    key: Item
    update: Update
    condition: Condition | None


class Delete(Record):
    __slots__ = ('key', 'condition')
    __match_args__ = ('key', 'condition')
    _defaults = {'condition': None}
    key: Item
    condition: Condition | None


class Check(Record):
    __slots__ = ('key', 'condition')
    __match_args__ = ('key', 'condition')
    key: Item
    condition: Condition


class Write(Record):
    """One operation of a transaction, on a named table."""

    __slots__ = ('table', 'op')
    __match_args__ = ('table', 'op')

    table: "Table"
    op: Put | Patch | Delete | Check


class Page(Record):
    __slots__ = ('items', 'cursor')
    __match_args__ = ('items', 'cursor')
    items: list[Item]
    cursor: str | None  # opaque; pass back to continue, None when there is nothing more


# ---------------------------------------------------------------------------- errors


class TableError(Exception):
    """Base of every table-port error."""


class ValidationError(TableError):
    """The request itself is invalid (bad key, bad cursor, wrong types)."""


class ItemTooLarge(ValidationError):
    pass


class ConditionFailed(TableError):
    pass


class TransactionCanceled(TableError):
    """`reasons[i]` is None for operations that would have succeeded, else a code such as
    'ConditionalCheckFailed' (DynamoDB's CancellationReasons codes)."""

    def __init__(self, reasons: Sequence[str | None]):
        self.reasons = list(reasons)
        super().__init__(f"transaction canceled: {self.reasons}")


class Throttled(TableError):
    pass


class ResourceNotFound(TableError):
    pass


# ---------------------------------------------------------------------------- the port


if TYPE_CHECKING:

    class Table(Protocol):
        spec: TableSpec

        def get(self, key: Item) -> Item | None:
            """The item with this key, or None (also when expired)."""
            ...

        def put(self, item: Item, condition: Condition | None = None) -> None: ...

        def update(self, key: Item, update: Update, condition: Condition | None = None) -> Item:
            """Apply `update` (creating the item if missing) and return the new item."""
            ...

        def delete(self, key: Item, condition: Condition | None = None) -> Item | None:
            """Remove the item; return what was there (None if nothing)."""
            ...

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
            """Items of one partition (of the table or a GSI) in sort-key order.

            At most `limit` items; `Page.cursor` is set when more may follow. Expired items are
            left out (so a page may hold fewer than `limit` even when more follow).
            """
            ...

        def batch_get(self, keys: Iterable[Item]) -> list[Item]:
            """The items that exist among `keys` (any order)."""
            ...

        def batch_put(self, items: Iterable[Item]) -> None:
            """Unconditional puts; retries what the backend leaves unprocessed."""
            ...

        def transact(self, writes: Sequence[Write]) -> None:
            """All or nothing; the tables must share one backend."""
            ...

else:

    class Table:
        """At run time only a name: the port is the Protocol above, read by type checkers."""


def item_size(item: Item) -> int:
    """DynamoDB's item size, close enough for the 400 KB rule: names + values in UTF-8."""
    return sum(len(k.encode()) + _value_size(v) for k, v in item.items())


def _value_size(v: Any) -> int:
    if isinstance(v, str):
        return len(v.encode())
    if isinstance(v, bool) or v is None:
        return 1
    if isinstance(v, (int, float)):
        return len(repr(v)) // 2 + 1
    if isinstance(v, bytes):
        return len(v)
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            raise ValidationError("map attribute names must be strings")
        return 3 + sum(len(k.encode()) + _value_size(x) + 1 for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return 3 + sum(_value_size(x) + 1 for x in v)
    raise ValidationError(f"unsupported attribute value type {type(v).__name__}")


def key_of(spec: TableSpec, item: Item) -> Item:
    """The primary key of an item, validated."""
    try:
        key = {spec.pk: item[spec.pk], spec.sk: item[spec.sk]}
    except KeyError as e:
        raise ValidationError(f"item lacks key attribute {e.args[0]!r}") from None
    for k, v in key.items():
        if not isinstance(v, str) or not v:
            raise ValidationError(f"key attribute {k!r} must be a non-empty string")
    return key


def check_item(spec: TableSpec, item: Item) -> None:
    key_of(spec, item)
    for ix in spec.indexes:
        for a in (ix.pk, ix.sk):
            if a in item and (not isinstance(item[a], str) or not item[a]):
                raise ValidationError(f"index key attribute {a!r} must be a non-empty string")
    if item_size(item) > MAX_ITEM_BYTES:
        raise ItemTooLarge(f"item exceeds {MAX_ITEM_BYTES} bytes")


# ---------------------------------------------------------------------------- cursors

def encode_cursor(key: dict[str, Any]) -> str:
    """A backend's resume key (JSON) as an opaque, URL-safe, unpadded base64 string."""
    import json

    from lambdasmith.kit import b64url

    return b64url.encode(json.dumps(key, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())


def decode_cursor(cursor: str, names: set[str]) -> dict[str, Any]:
    """The key inside a cursor, with exactly `names` as attributes; ValidationError otherwise.
    Each backend then checks the values are its own (and of the partition being queried)."""
    import json

    from lambdasmith.kit import b64url

    if not isinstance(cursor, str) or not cursor:
        raise ValidationError("malformed cursor")
    try:
        key = json.loads(b64url.decode(cursor).decode())
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors too
        raise ValidationError("malformed cursor") from None
    if not isinstance(key, dict) or set(key) != names:
        raise ValidationError("malformed cursor")
    return key
