"""Holding a service's OpenAPI document against its router and against what its handler answers.

`check_document` validates the document as OpenAPI 3.1; `operations` and `router_operations`
give both sides of "every route is documented, every documented operation is routed";
`Conformance` validates a Lambda proxy result against the documented operation: status, content
type and body (schemathesis' own response validation, the one it applies to a live server).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def check_document(doc: dict[str, Any]) -> None:
    """Valid OpenAPI 3.1 (openapi-spec-validator when it is installed), loadable by schemathesis."""
    assert doc["openapi"].startswith("3.1.")
    try:
        from openapi_spec_validator import validate
        from openapi_spec_validator.validation import OpenAPIV31SpecValidator
    except ImportError:  # pragma: no cover - a transitive dev dependency
        pass
    else:
        validate(doc, cls=OpenAPIV31SpecValidator)
    import schemathesis

    schema = schemathesis.openapi.from_dict(doc)
    for result in schema.get_all_operations():
        result.ok()  # raises when schemathesis cannot use an operation


def normalise(template: str) -> str:
    """`/a/{x}/b` and `/a/{y}/b` are the same route."""
    return re.sub(r"\{[^}/]+\}", "{}", template)


def operations(doc: dict[str, Any], *, without: tuple[str, ...] = ("options",)) -> set[tuple[str, str]]:
    return {(m.upper(), normalise(p)) for p, item in doc["paths"].items() for m in METHODS
            if m in item and m not in without}  # fmt: skip


def router_operations(router: Any) -> set[tuple[str, str]]:
    return {(r.method, normalise(r.template)) for r in router.routes}


def path_parameters_declared(doc: dict[str, Any]) -> list[str]:
    """`path method: {name}` for every template parameter no path parameter declares."""
    problems = []
    for path, item in doc["paths"].items():
        names = set(re.findall(r"\{([^}/]+)\}", path))
        for m in METHODS:
            if m not in item:
                continue
            declared = set()
            for p in item.get("parameters", []) + item[m].get("parameters", []):
                p = resolve(doc, p)
                if p["in"] == "path":
                    declared.add(p["name"])
            problems += [f"{path} {m}: {{{n}}}" for n in sorted(names ^ declared)]
    return problems


def resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


class Conformance:
    """Validate handler results against one service's document."""

    def __init__(self, doc: dict[str, Any], base_url: str):
        import schemathesis

        self.doc = doc
        self.base_url = base_url
        self.schema = schemathesis.openapi.from_dict(doc)

    def check(self, method: str, template: str, path: str, result: dict[str, Any]) -> dict[str, Any]:
        """`result` (a Lambda proxy result) is a documented answer of `method template`; returns it."""
        import requests
        from schemathesis.core.transport import Response

        status = str(result["statusCode"])
        responses = self.doc["paths"][template][method.lower()]["responses"]
        assert status in responses, f"{method} {template}: status {status} is not documented ({sorted(responses)})"
        documented = resolve(self.doc, responses[status])
        headers = {k: str(v) for k, v in result["headers"].items()}
        body = result["body"].encode("utf-8") if not result["isBase64Encoded"] else base64.b64decode(result["body"])
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        content = documented.get("content", {})
        if content:
            assert ctype is not None and ctype.split(";")[0].strip() in content, (
                f"{method} {template} {status}: content type {ctype}, documented {sorted(content)}"
            )
        else:
            assert body == b"", f"{method} {template} {status}: a body where none is documented"
        for name, header in documented.get("headers", {}).items():
            if resolve(self.doc, header).get("required"):
                assert any(k.lower() == name.lower() for k in headers), f"{method} {template} {status}: no {name}"
        request = requests.Request(method, self.base_url + path).prepare()
        response = Response(int(status), {k: [v] for k, v in headers.items()}, body, request, 0.0, True)
        self.schema[template][method.upper()].validate_response(response)
        return result


def body_of(result: dict[str, Any]) -> Any:
    return json.loads(result["body"])


def document_fixtures(package_file: str) -> tuple[Any, Any]:
    """The `doc` and `conform` fixtures of a service's test module: its openapi.json (beside
    `package_file`), and a Conformance checker against the document's own server URL."""
    path = Path(package_file).with_name("openapi.json")

    @pytest.fixture(scope="module")
    def doc() -> dict[str, Any]:
        return json.loads(path.read_text(encoding="utf-8"))

    @pytest.fixture(scope="module")
    def conform(doc: dict[str, Any]) -> Conformance:
        return Conformance(doc, doc["servers"][0]["url"])

    return doc, conform
