"""Every table a manifest declares, against the table its template deploys: the TableSpec the
manifest points at (Resource.spec) has the template's key schema, indexes and TTL attribute, so
the manifest leads a reader to the keys the code really uses, and a key change cannot ship to
one side only."""

from __future__ import annotations

from typing import Any

import pytest

from lambdasmith.kit.table.port import Index, TableSpec
from lambdasmith.local.invocation import resolve
from lambdasmith.services import SERVICES
from tests.support.templates import load_template

TABLES = [(svc, table) for svc in SERVICES for table in svc.tables]


def keys(schema: list[dict[str, str]]) -> tuple[str, str | None]:
    by_type = {k["KeyType"]: k["AttributeName"] for k in schema}
    return by_type["HASH"], by_type.get("RANGE")


def spec_drift(spec: TableSpec, props: dict[str, Any]) -> list[str]:
    """How a TableSpec and a template's AWS::DynamoDB::Table properties disagree."""
    problems = []
    if keys(props["KeySchema"]) != (spec.pk, spec.sk):
        problems.append(f"keys: spec {(spec.pk, spec.sk)}, template {keys(props['KeySchema'])}")
    deployed = {ix["IndexName"]: keys(ix["KeySchema"]) for ix in props.get("GlobalSecondaryIndexes", [])}
    declared = {ix.name: (ix.pk, ix.sk) for ix in spec.indexes}
    if deployed != declared:
        problems.append(f"indexes: spec {declared}, template {deployed}")
    ttl = props.get("TimeToLiveSpecification")
    deployed_ttl = ttl["AttributeName"] if ttl and ttl.get("Enabled") else None
    if deployed_ttl != spec.ttl:
        problems.append(f"ttl: spec {spec.ttl}, template {deployed_ttl}")
    return problems


@pytest.mark.parametrize(("svc", "table"), TABLES, ids=[f"{s.name}:{t.name}" for s, t in TABLES])
def test_manifest_table_spec_is_the_deployed_table(svc, table):
    assert table.spec, f"{svc.name}: table {table.name} names no TableSpec"
    spec = resolve(table.spec)
    assert isinstance(spec, TableSpec)
    resource = load_template(svc.name)["Resources"][table.ref]
    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert spec_drift(spec, resource["Properties"]) == []


def test_a_changed_spec_is_caught():
    svc, table = next((s, t) for s, t in TABLES if s.name == "wardrobe")
    props = load_template(svc.name)["Resources"][table.ref]["Properties"]
    spec = resolve(table.spec)
    assert spec_drift(spec, props) == []
    renamed = TableSpec(spec.name, pk="pk", sk=spec.sk, indexes=spec.indexes, ttl=spec.ttl)
    fewer = TableSpec(spec.name, pk=spec.pk, sk=spec.sk, indexes=spec.indexes[1:], ttl=spec.ttl)
    other_index = TableSpec(spec.name, pk=spec.pk, sk=spec.sk,
                            indexes=(Index(spec.indexes[0].name, "X", "Y"), *spec.indexes[1:]), ttl=spec.ttl)
    no_ttl = TableSpec(spec.name, pk=spec.pk, sk=spec.sk, indexes=spec.indexes, ttl=None)
    for changed in (renamed, fewer, other_index, no_ttl):
        assert spec_drift(changed, props), changed
