"""The table port: a small model of DynamoDB that every backend implements the same way.

Services describe a table once (`TableSpec`) and talk to it through `Table`, the base class of
every backend: its public methods check each request once, with the shared checks below, and
only then call the backend (`_get`, `_put`, …), so every backend refuses the same requests. The
embedded SQLite backend (`table.sqlite`) and the DynamoDB backend (`table.dynamodb.table`) both
pass `tests/conformance`, so a handler behaves the same on a laptop and on AWS.

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
    from typing import Any, Iterable, Sequence

__all__ = [
    "MAX_ITEM_BYTES",
    "MAX_TRANSACTION_ITEMS",
    "Item",
    "Index",
    "TableSpec",
    "Absent",
    "Exists",
    "AttrEquals",
    "AttrAbsent",
    "AllOf",
    "Condition",
    "evaluate",
    "SortKey",
    "Update",
    "Put",
    "Patch",
    "Delete",
    "Check",
    "Write",
    "Page",
    "TableError",
    "ValidationError",
    "ItemTooLarge",
    "ConditionFailed",
    "TransactionCanceled",
    "Throttled",
    "ResourceNotFound",
    "item_size",
    "key_of",
    "check_item",
    "check_text",
    "check_value",
    "check_stored",
    "check_key",
    "check_update",
    "check_condition",
    "check_sort_key",
    "Planned",
    "Table",
]

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


# ---------------------------------------------------------------------------- shared checks
# Every rule a request must meet before a backend sees it, written once: `Table` applies them,
# so the SQLite and DynamoDB backends refuse exactly the same requests.

_COMPARISONS = frozenset({"=", "<", "<=", ">", ">="})


def check_text(value: Any, what: str) -> None:
    """A key value: a non-empty string of valid Unicode (no lone surrogates)."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} must be a non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{what} is not valid Unicode text") from None


def check_value(value: Any) -> None:
    """A value in a request (an update, a condition): representable, valid Unicode throughout."""
    try:
        item_size({"v": value})
    except (TypeError, ValueError) as e:  # UnicodeEncodeError is a ValueError
        raise ValidationError(f"unsupported attribute value: {e}") from None


def check_stored(spec: TableSpec, item: Any) -> None:
    """An item about to be stored: string attribute names, keys, index keys, 400 KB."""
    if not isinstance(item, dict) or not all(isinstance(k, str) for k in item):
        raise ValidationError("an item must be a dict with string attribute names")
    try:
        check_item(spec, item)
    except (TypeError, ValueError) as e:  # e.g. text that is not valid Unicode
        raise ValidationError(f"unsupported attribute value: {e}") from None


def check_key(spec: TableSpec, key: Any) -> tuple[str, str]:
    """A primary key (exactly the two key attributes); its (partition, sort) pair."""
    if not isinstance(key, dict):
        raise ValidationError("a key must be a dict")
    k = key_of(spec, key)
    if len(key) != len(k):
        raise ValidationError(f"a key holds only {spec.pk!r} and {spec.sk!r}")
    pk, sk = k[spec.pk], k[spec.sk]
    check_text(pk, spec.pk)
    check_text(sk, spec.sk)
    return pk, sk


def check_update(spec: TableSpec, update: Any) -> None:
    """An update that can apply to any item of the table, whatever the item holds now."""
    if not isinstance(update, Update):
        raise ValidationError(f"not an Update: {update!r}")
    remove: object = update.remove  # typed a tuple, but callers' input is checked here
    if isinstance(remove, str):
        raise ValidationError("Update.remove is a sequence of attribute names")
    clauses = (update.set, update.set_if_absent, update.add, update.remove)
    named = [a for clause in clauses for a in clause]
    if len(named) != len(set(named)):
        raise ValidationError("an attribute may appear in one update clause only")
    if not all(isinstance(a, str) and a for a in named):
        raise ValidationError("attribute names must be non-empty strings")
    for a in (spec.pk, spec.sk):
        if a in named:
            raise ValidationError(f"cannot update key attribute {a!r}")
    for a, v in update.add.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ValidationError(f"ADD needs a number for {a!r}")
    # Index keys are strings: judged on the update itself, not on what the item holds today.
    index_keys = {a for ix in spec.indexes for a in (ix.pk, ix.sk)}
    for a in index_keys.intersection(update.add):
        raise ValidationError(f"index key attribute {a!r} must be a non-empty string")
    for clause in (update.set, update.set_if_absent):
        for a in index_keys.intersection(clause):
            if not isinstance(clause[a], str) or not clause[a]:
                raise ValidationError(f"index key attribute {a!r} must be a non-empty string")
    # Every value must be storable, even one `set_if_absent` will not write this time.
    for clause in (update.set, update.set_if_absent, update.add):
        for v in clause.values():
            check_value(v)
    if item_size({spec.pk: "", spec.sk: "", **update.set, **update.add}) > MAX_ITEM_BYTES:
        raise ItemTooLarge(f"item exceeds {MAX_ITEM_BYTES} bytes")  # too big in any case


def check_condition(condition: Any) -> None:
    """A condition the port knows: TypeError for anything else; attribute names non-empty
    strings and compared values storable (ValidationError), as DynamoDB requires."""
    match condition:
        case None | Absent() | Exists():
            return
        case AttrEquals(attr, value):
            _check_attr_name(attr)
            check_value(value)
        case AttrAbsent(attr):
            _check_attr_name(attr)
        case AllOf(conditions):
            for c in conditions:  # None inside AllOf holds, as in `evaluate`
                check_condition(c)
        case _:
            raise TypeError(f"not a condition: {condition!r}")


def _check_attr_name(attr: Any) -> None:
    if not isinstance(attr, str) or not attr:
        raise ValidationError(f"attribute names must be non-empty strings: {attr!r}")


def check_sort_key(cond: Any) -> None:
    """A sort-key condition of a query: a known operator on valid key text."""
    if not isinstance(cond, SortKey):
        raise ValidationError(f"not a SortKey: {cond!r}")
    op, value = cond.op, cond.value
    if op in _COMPARISONS:
        check_text(value, "sort-key value")
    elif op == "begins_with":
        if not isinstance(value, str):
            raise ValidationError("begins_with needs a string prefix")
        if value:  # every string begins with ""
            check_text(value, "sort-key prefix")
    elif op == "between":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ValidationError("between needs a (low, high) pair")
        low, high = value
        check_text(low, "sort-key low bound")
        check_text(high, "sort-key high bound")
        if low.encode() > high.encode():
            raise ValidationError("between needs low <= high")
    else:
        raise ValidationError(f"unknown sort-key operator {op!r}")


# ---------------------------------------------------------------------------- the port


class Planned(Record):
    """One transaction write, validated: its table, operation and primary key."""

    __slots__ = ("table", "op", "pk", "sk")
    __match_args__ = ("table", "op", "pk", "sk")

    table: "Table"
    op: Put | Patch | Delete | Check
    pk: str
    sk: str

    def key(self) -> Item:
        return {self.table.spec.pk: self.pk, self.table.spec.sk: self.sk}


class Table:
    """The table port. Public methods validate the request once, with the checks above, and
    then call the backend's hook (`_get`, `_put`, …), which sees only valid input: keys as a
    validated (pk, sk) pair, cursors as the plain key they resume after.

    A backend subclass sets `spec` and `name`, implements the hooks, and says which other
    tables a transaction may span (`_same_backend`)."""

    spec: TableSpec
    name: str
    backend_scope = "one backend"  # how a transaction's limit is named in its error

    # ------------------------------------------------------------------------ single items

    def get(self, key: Item) -> Item | None:
        """The item with this key, or None (also when expired)."""
        return self._get(*check_key(self.spec, key))

    def put(self, item: Item, condition: Condition | None = None) -> None:
        check_stored(self.spec, item)
        check_condition(condition)
        self._put(item, condition)

    def update(self, key: Item, update: Update, condition: Condition | None = None) -> Item:
        """Apply `update` (creating the item if missing) and return the new item."""
        pk, sk = check_key(self.spec, key)
        check_update(self.spec, update)
        check_condition(condition)
        return self._update(pk, sk, update, condition)

    def delete(self, key: Item, condition: Condition | None = None) -> Item | None:
        """Remove the item; return what was there (None if nothing)."""
        pk, sk = check_key(self.spec, key)
        check_condition(condition)
        return self._delete(pk, sk, condition)

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
        """Items of one partition (of the table or a GSI) in sort-key order.

        At most `limit` items; `Page.cursor` is set when more may follow. Expired items are
        left out (so a page may hold fewer than `limit` even when more follow).
        """
        check_text(pk, "partition key")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValidationError("limit must be an integer >= 1")
        try:
            ipk = self.spec.index(index)[0]
        except KeyError as e:
            raise ValidationError(str(e)) from None
        if sk is not None:
            check_sort_key(sk)
        start = None
        if cursor is not None:
            start = self._resume_key(cursor, index)
            if start[ipk] != pk:
                raise ValidationError("cursor belongs to another partition")
        return self._query(pk, sk, index, limit, descending, start)

    def cursor_names(self, index: str | None) -> set[str]:
        """The attributes a cursor of the table (index None) or of a GSI carries."""
        names = {self.spec.pk, self.spec.sk}
        if index is not None:
            names.update(self.spec.index(index))
        return names

    def _resume_key(self, cursor: str, index: str | None) -> dict[str, str]:
        from lambdasmith.kit.table.cursors import BadCursor, decode_cursor

        try:
            key = self._from_cursor(decode_cursor(cursor, self.cursor_names(index)))
        except BadCursor as e:
            raise ValidationError(str(e)) from None
        for v in key.values():
            if not isinstance(v, str) or not v:
                raise ValidationError("malformed cursor")
            check_text(v, "cursor key")
        return key

    def _cursor(self, at: dict[str, str]) -> str:
        """The cursor of a page whose last item has the key attributes `at`."""
        from lambdasmith.kit.table.cursors import encode_cursor

        return encode_cursor(self._to_cursor(at))

    def _to_cursor(self, at: dict[str, str]) -> dict[str, Any]:
        """A resume key as the backend spells it inside a cursor (plain strings here)."""
        return at

    def _from_cursor(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The inverse of `_to_cursor`, on untrusted input (malformed: ValidationError)."""
        return raw

    # ------------------------------------------------------------------------ batches

    def batch_get(self, keys: Iterable[Item]) -> list[Item]:
        """The items that exist among `keys` (any order)."""
        wanted = list(dict.fromkeys(check_key(self.spec, k) for k in keys))
        return self._batch_get(wanted) if wanted else []

    def batch_put(self, items: Iterable[Item]) -> None:
        """Unconditional puts; retries what the backend leaves unprocessed. Everything is
        validated before anything is written; a repeated key keeps its last item."""
        prepared: dict[tuple[str, str], Item] = {}
        for item in items:
            check_stored(self.spec, item)
            prepared[(item[self.spec.pk], item[self.spec.sk])] = item
        if prepared:
            self._batch_put(list(prepared.values()))

    # ------------------------------------------------------------------------ transactions

    def transact(self, writes: Sequence[Write], **options: Any) -> None:
        """All or nothing; the tables must share one backend. Every write is validated before
        anything is sent, as DynamoDB does; `options` are the backend's own."""
        writes = list(writes)
        if not writes:
            return
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise ValidationError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} writes")
        plan = [self._plan(w) for w in writes]
        seen: set[tuple[str, str, str]] = set()
        for p in plan:
            ident = (p.table.name, p.pk, p.sk)
            if ident in seen:
                raise ValidationError("a transaction may touch each item only once")
            seen.add(ident)
        self._transact(plan, **options)

    def _plan(self, write: Any) -> Planned:
        if not isinstance(write, Write):
            raise ValidationError(f"not a Write: {write!r}")
        table, op = write.table, write.op
        if not isinstance(table, Table) or not self._same_backend(table):
            raise ValidationError(f"a transaction must stay within {self.backend_scope}")
        if isinstance(op, Put):
            check_stored(table.spec, op.item)
            check_condition(op.condition)
            return Planned(table, op, op.item[table.spec.pk], op.item[table.spec.sk])
        if isinstance(op, Patch):
            check_update(table.spec, op.update)
        elif isinstance(op, Check):
            if op.condition is None:
                raise ValidationError("a Check needs a condition")
        elif not isinstance(op, Delete):
            raise ValidationError(f"not a transaction operation: {op!r}")
        check_condition(op.condition)
        return Planned(table, op, *check_key(table.spec, op.key))

    # ------------------------------------------------------------------------ backend hooks

    def _same_backend(self, other: Table) -> bool:
        """Whether a transaction of this table may include a write to `other`."""
        raise NotImplementedError

    def _get(self, pk: str, sk: str) -> Item | None:
        raise NotImplementedError

    def _put(self, item: Item, condition: Condition | None) -> None:
        raise NotImplementedError

    def _update(self, pk: str, sk: str, update: Update, condition: Condition | None) -> Item:
        raise NotImplementedError

    def _delete(self, pk: str, sk: str, condition: Condition | None) -> Item | None:
        raise NotImplementedError

    def _query(
        self,
        pk: str,
        sk: SortKey | None,
        index: str | None,
        limit: int,
        descending: bool,
        start: dict[str, str] | None,
    ) -> Page:
        """`start`: the key attributes (`cursor_names(index)`) to resume strictly after."""
        raise NotImplementedError

    def _batch_get(self, keys: list[tuple[str, str]]) -> list[Item]:
        raise NotImplementedError

    def _batch_put(self, items: list[Item]) -> None:
        raise NotImplementedError

    def _transact(self, plan: list[Planned], **options: Any) -> None:
        raise NotImplementedError
