"""The local Invoke API's ListFunctions / GetFunction routing, called in process (InvokeApi.dispatch)."""

from __future__ import annotations

import json

import pytest

from lambdasmith.local.invoke import InvokeApi


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    return InvokeApi(str(tmp_path_factory.mktemp("describe")))


@pytest.mark.parametrize("target", ["/2015-03-31/functions", "/2015-03-31/functions/", "/2015-03-31/functions///"])
def test_list_functions(api, target):
    r = api.dispatch("GET", target, {}, b"")
    assert r.status == 200 and "items" in [f["FunctionName"] for f in json.loads(r.body)["Functions"]]


@pytest.mark.parametrize("target", ["/2015-03-31/functions/items", "/2015-03-31/functions/items:$LATEST",
                                    "/2015-03-31/functions/items/"])  # fmt: skip
def test_get_function(api, target):
    r = api.dispatch("GET", target, {}, b"")
    assert r.status == 200 and json.loads(r.body)["Configuration"]["FunctionName"] == "items"


@pytest.mark.parametrize("target", ["/2015-03-31/functionsXitems", "/2015-03-31/functions/nope",
                                    "/2015-03-31/functions/items:live", "/2015-03-31/functions/items/extra",
                                    "/2015-03-31/functions/%ff%fe", "/2015-03-31/functions/" + "x" * 5000])  # fmt: skip
def test_anything_else_is_a_404_not_a_function(api, target):
    assert api.dispatch("GET", target, {}, b"").status == 404
