"""Queries on the table and on a GSI: sort-key conditions, byte order, limits and cursors."""

from __future__ import annotations

import base64
import json
import random
import re

import pytest

from lambdasmith.kit.table.port import Page, SortKey, Table, Update, ValidationError

SKS = ["a", "b", "ba", "bb", "c", "d"]


def _put_partition(table: Table, pk: str, sks: list[str]) -> None:
    for sk in random.Random(7).sample(sks, len(sks)):
        table.put({"PK": pk, "SK": sk, "n": sks.index(sk)})


def _sks(page: Page) -> list[str]:
    return [item["SK"] for item in page.items]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (None, SKS),
        (SortKey.eq("ba"), ["ba"]),
        (SortKey.eq("zz"), []),
        (SortKey.lt("b"), ["a"]),
        (SortKey.le("b"), ["a", "b"]),
        (SortKey.gt("bb"), ["c", "d"]),
        (SortKey.ge("bb"), ["bb", "c", "d"]),
        (SortKey.begins_with("b"), ["b", "ba", "bb"]),
        (SortKey.begins_with("ba"), ["ba"]),
        (SortKey.begins_with("e"), []),
        (SortKey.between("b", "c"), ["b", "ba", "bb", "c"]),
        (SortKey.between("aa", "bz"), ["b", "ba", "bb"]),
    ],
    ids=lambda v: repr(v) if isinstance(v, SortKey) or v is None else None,
)
def test_sort_key_conditions(table: Table, condition: SortKey | None, expected: list[str]) -> None:
    _put_partition(table, "p", SKS)
    _put_partition(table, "q", SKS)

    page = table.query("p", condition)

    assert _sks(page) == expected
    assert all(item["PK"] == "p" for item in page.items)
    assert page.cursor is None


def test_descending_reverses_the_order(table: Table) -> None:
    _put_partition(table, "p", SKS)

    assert _sks(table.query("p", descending=True)) == SKS[::-1]
    assert _sks(table.query("p", SortKey.begins_with("b"), descending=True)) == ["bb", "ba", "b"]


def test_query_of_an_empty_partition(table: Table) -> None:
    assert table.query("nobody") == Page([], None)


def test_sort_keys_order_by_utf8_bytes(table: Table) -> None:
    # UTF-8 byte order: U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80), although
    # UTF-16 code-unit order (D83D ...) would put the emoji first.
    ordered = ["A", "Z", "a", "z", "é", "ꭓ", "～", "😀"]
    _put_partition(table, "p", ordered)

    assert _sks(table.query("p")) == ordered
    assert _sks(table.query("p", descending=True)) == ordered[::-1]
    assert _sks(table.query("p", SortKey.gt("～"))) == ["😀"]
    assert _sks(table.query("p", SortKey.lt("é"))) == ["A", "Z", "a", "z"]
    assert _sks(table.query("p", SortKey.between("z", "～"))) == ["z", "é", "ꭓ", "～"]


def test_begins_with_at_the_edges_of_unicode(table: Table) -> None:
    sks = ["a\ud7ff", "a\ud7ffz", "a\ue000", "a\U0010ffff", "a\U0010ffffz", "b"]
    _put_partition(table, "p", sks)

    assert _sks(table.query("p", SortKey.begins_with("a\ud7ff"))) == ["a\ud7ff", "a\ud7ffz"]
    assert _sks(table.query("p", SortKey.begins_with("a\U0010ffff"))) == [
        "a\U0010ffff",
        "a\U0010ffffz",
    ]
    assert _sks(table.query("p", SortKey.begins_with("a"))) == sks[:-1]


def test_limit_cuts_the_page_and_offers_a_cursor(table: Table) -> None:
    _put_partition(table, "p", SKS)

    first = table.query("p", limit=4)
    assert _sks(first) == SKS[:4]
    assert first.cursor is not None
    assert re.fullmatch(r"[A-Za-z0-9_\-]+=*", first.cursor), "cursor must be URL-safe"

    rest = table.query("p", limit=4, cursor=first.cursor)
    assert _sks(rest) == SKS[4:]
    assert rest.cursor is None  # fewer than `limit` left: the end is known


@pytest.mark.parametrize("limit", [0, -1, True, 2.5, "3"])
def test_limit_must_be_a_positive_integer(table: Table, limit: object) -> None:
    with pytest.raises(ValidationError):
        table.query("p", limit=limit)  # type: ignore[arg-type]


def _all_pages(table: Table, pk: str, **kwargs: object) -> tuple[list[dict], int]:
    items: list[dict] = []
    cursor = None
    pages = 0
    while True:
        page = table.query(pk, cursor=cursor, **kwargs)  # type: ignore[arg-type]
        pages += 1
        items.extend(page.items)
        cursor = page.cursor
        if cursor is None:
            return items, pages
        assert pages < 100, "paging does not terminate"


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("limit", [1, 5, 7, 23, 24])
def test_paging_visits_every_item_exactly_once(table: Table, descending: bool, limit: int) -> None:
    sks = [f"item#{i:03d}" for i in range(23)]
    _put_partition(table, "p", sks)
    _put_partition(table, "other", sks[:5])

    items, pages = _all_pages(table, "p", limit=limit, descending=descending)

    assert [i["SK"] for i in items] == (sks[::-1] if descending else sks)
    assert pages <= 23 // limit + 2


def test_paging_within_a_sort_key_condition(table: Table) -> None:
    sks = [f"{c}#{i}" for c in "abc" for i in range(5)]
    _put_partition(table, "p", sks)

    items, _ = _all_pages(table, "p", sk=SortKey.begins_with("b#"), limit=2)

    assert [i["SK"] for i in items] == [f"b#{i}" for i in range(5)]


def _owned(table: Table, owner: str, n: int, ranks: list[str]) -> list[dict]:
    items = [
        {"PK": f"thing#{i:02d}", "SK": "meta", "GSI1PK": owner, "GSI1SK": ranks[i % len(ranks)]}
        for i in range(n)
    ]
    for item in random.Random(3).sample(items, n):
        table.put(item)
    return items


def test_query_on_a_gsi_returns_whole_items_in_index_order(table: Table) -> None:
    _owned(table, "owner#1", 6, ["2024-03", "2024-01", "2024-02"])
    table.put({"PK": "thing#x", "SK": "meta", "GSI1PK": "owner#2", "GSI1SK": "2024-01"})
    table.put({"PK": "thing#y", "SK": "meta", "GSI1PK": "owner#1"})  # lacks the index sort key

    page = table.query("owner#1", index="byOwner")

    assert [i["GSI1SK"] for i in page.items] == ["2024-01"] * 2 + ["2024-02"] * 2 + ["2024-03"] * 2
    assert {i["PK"] for i in page.items} == {f"thing#{i:02d}" for i in range(6)}
    assert all(set(i) == {"PK", "SK", "GSI1PK", "GSI1SK"} for i in page.items)
    assert _sks(table.query("owner#1", SortKey.ge("2024-03"), index="byOwner")) == ["meta"] * 2


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_paging_a_gsi_through_tied_sort_keys(table: Table, descending: bool, limit: int) -> None:
    expected = _owned(table, "owner#1", 17, ["x", "y", "x"])
    _owned(table, "owner#2", 3, ["x"])  # same table keys reused: these replace three items
    expected = [i for i in expected if i["PK"] not in {"thing#00", "thing#01", "thing#02"}]

    items, _ = _all_pages(table, "owner#1", index="byOwner", limit=limit, descending=descending)

    keys = [i["PK"] for i in items]
    assert len(keys) == len(set(keys)), "an item came twice"
    assert set(keys) == {i["PK"] for i in expected}, "an item was skipped"
    ranks = [i["GSI1SK"] for i in items]
    assert ranks == sorted(ranks, reverse=descending)


def test_gsi_membership_follows_updates(table: Table) -> None:
    key = {"PK": "thing#1", "SK": "meta"}
    table.put({**key, "name": "n"})
    assert table.query("owner#1", index="byOwner").items == []

    table.update(key, Update(set={"GSI1PK": "owner#1"}))
    assert table.query("owner#1", index="byOwner").items == []  # half a key is no key

    table.update(key, Update(set={"GSI1SK": "2024"}))
    assert table.query("owner#1", index="byOwner").items == [
        {**key, "name": "n", "GSI1PK": "owner#1", "GSI1SK": "2024"}
    ]

    table.update(key, Update(set={"GSI1PK": "owner#2", "name": "m"}))
    assert table.query("owner#1", index="byOwner").items == []
    assert table.query("owner#2", index="byOwner").items == [
        {**key, "name": "m", "GSI1PK": "owner#2", "GSI1SK": "2024"}
    ]

    table.update(key, Update(remove=("GSI1SK",)))
    assert table.query("owner#2", index="byOwner").items == []

    table.update(key, Update(set={"GSI1SK": "2025"}))
    table.delete(key)
    assert table.query("owner#2", index="byOwner").items == []


def test_gsi_membership_follows_puts(table: Table) -> None:
    key = {"PK": "thing#1", "SK": "meta"}
    table.put({**key, "GSI1PK": "owner#1", "GSI1SK": "a"})
    table.put({**key, "other": True})

    assert table.query("owner#1", index="byOwner").items == []


def test_query_on_an_unknown_index_is_rejected(table: Table) -> None:
    with pytest.raises(ValidationError):
        table.query("p", index="nope")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!not base64!!!",
        "é",
        _b64(b"\xff\xfe\x00garbage"),
        _b64(b"not json"),
        _b64(b"[1, 2]"),
        _b64(json.dumps({"PK": "p"}).encode()),
        _b64(json.dumps({"PK": "p", "SK": 3}).encode()),
        _b64(json.dumps({"PK": "p", "SK": "a", "GSI1PK": "o", "GSI1SK": "x"}).encode()),
    ],
    ids=[
        "empty",
        "not-base64",
        "non-ascii",
        "binary",
        "not-json",
        "json-list",
        "missing-sort-key",
        "non-string-key",
        "index-key-on-table-query",
    ],
)
def test_malformed_cursors_are_rejected(table: Table, cursor: str) -> None:
    _put_partition(table, "p", SKS)

    with pytest.raises(ValidationError):
        table.query("p", cursor=cursor)


def test_a_cursor_is_rejected_on_another_partition(table: Table) -> None:
    # DynamoDB: "The provided starting key is outside query boundaries".
    _put_partition(table, "p", SKS)
    _put_partition(table, "q", SKS)
    _owned(table, "owner#1", 4, ["x"])
    _owned(table, "owner#2", 4, ["x"])  # moves them all: owner#1 has none left
    _owned(table, "owner#1", 2, ["x"])
    cursor = table.query("p", limit=2).cursor
    index_cursor = table.query("owner#1", index="byOwner", limit=1).cursor
    assert cursor is not None and index_cursor is not None

    with pytest.raises(ValidationError):
        table.query("q", cursor=cursor)
    with pytest.raises(ValidationError):
        table.query("owner#2", index="byOwner", cursor=index_cursor)


def test_a_table_cursor_is_rejected_on_an_index(table: Table) -> None:
    _owned(table, "owner#1", 4, ["x"])
    _put_partition(table, "owner#1", SKS)
    cursor = table.query("owner#1", limit=2).cursor
    assert cursor is not None

    with pytest.raises(ValidationError):
        table.query("owner#1", index="byOwner", cursor=cursor)


@pytest.mark.parametrize(
    "condition",
    [
        SortKey("~", "a"),
        SortKey.eq(""),
        SortKey.gt(5),  # type: ignore[arg-type]
        SortKey("between", "ab"),
        SortKey.between("b", "a"),
    ],
    ids=["unknown-op", "empty", "number", "between-not-a-pair", "between-reversed"],
)
def test_invalid_sort_key_conditions_are_rejected(table: Table, condition: SortKey) -> None:
    with pytest.raises(ValidationError):
        table.query("p", condition)


@pytest.mark.parametrize("pk", ["", 5, None])
def test_query_needs_a_partition_key_string(table: Table, pk: object) -> None:
    with pytest.raises(ValidationError):
        table.query(pk)  # type: ignore[arg-type]
