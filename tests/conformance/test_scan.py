"""`kit.table.scan`, the operator commands' whole-table read: the same items from every backend,
by partition-key prefix, without expired ones, across DynamoDB's 1 MB Scan pages."""

from __future__ import annotations

import time

from lambdasmith.kit.table.port import Table
from lambdasmith.kit.table.scan import scan

PAST = int(time.time()) - 3600
FUTURE = int(time.time()) + 86400 * 365


def _keys(items) -> list[tuple[str, str]]:
    return sorted((i["PK"], i["SK"]) for i in items)


def test_scan_reads_the_live_items_under_a_prefix(table: Table) -> None:
    for pk, sk, expires in [("ORG#a", "1", FUTURE), ("ORG#a", "2", None), ("ORG#b", "1", FUTURE),
                            ("ORG#gone", "1", PAST), ("ORGANISED", "1", None), ("TEST#a", "1", None)]:  # fmt: skip
        table.put({"PK": pk, "SK": sk, **({"expires": expires} if expires else {})})
    assert _keys(scan(table, "ORG#")) == [("ORG#a", "1"), ("ORG#a", "2"), ("ORG#b", "1")]
    assert _keys(scan(table)) == [("ORG#a", "1"), ("ORG#a", "2"), ("ORG#b", "1"), ("ORGANISED", "1"),
                                  ("TEST#a", "1")]  # fmt: skip
    assert list(scan(table, "NONE#")) == []


def test_a_prefix_is_literal_and_the_keys_are_the_tables_own(accounts: Table) -> None:
    for ident in ("a%b_1", "axb_2", "a%bc", "A%B"):
        accounts.put({"id": ident, "kind": "k", "n": 1})
    assert sorted(i["id"] for i in scan(accounts, "a%b")) == ["a%b_1", "a%bc"]  # no LIKE wildcards
    assert [i["n"] for i in scan(accounts, "axb_")] == [1]


def test_scan_follows_every_page(table: Table) -> None:
    filler = "x" * 300_000  # four items pass DynamoDB's 1 MB Scan page
    for n in range(5):
        table.put({"PK": f"BIG#{n}", "SK": "s", "filler": filler})
    got = list(scan(table, "BIG#"))
    assert _keys(got) == [(f"BIG#{n}", "s") for n in range(5)]
    assert all(i["filler"] == filler for i in got)
