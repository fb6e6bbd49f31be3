"""Every service manifest (lambdasmith/<service>/service.py) against its SAM template: same
functions and handlers, the same environment variables, the same event sources and routes, the
same queue settings, the same tables and queues. `drift` lists the differences, so a mutated
manifest shows what the check catches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambdasmith.local.invocation import resolve
from lambdasmith.manifest import DIRECT, FUNCTION_URL, HTTP_API, REST_API, SQS, Service
from lambdasmith.services import SERVICES, python_functions
from tests.support.templates import load_template

ROOT = Path(__file__).resolve().parents[2]
EVENT_TYPES = {HTTP_API: "HttpApi", REST_API: "Api"}  # payload kind → SAM event type


def value(template: dict, v: Any) -> Any:
    """A template value with its parameters' defaults: literals, Ref to a parameter, FindInMap."""
    if isinstance(v, dict) and set(v) == {"Ref"} and v["Ref"] in template.get("Parameters", {}):
        return template["Parameters"][v["Ref"]].get("Default")
    if isinstance(v, dict) and set(v) == {"Fn::FindInMap"}:
        name, key, attr = v["Fn::FindInMap"]
        return template["Mappings"][name][str(value(template, key))][attr]
    return v


def of_type(template: dict, kind: str) -> dict[str, dict]:
    return {n: r.get("Properties", {}) for n, r in template["Resources"].items() if r["Type"] == kind}


def drift(svc: Service, template: dict) -> list[str]:
    """How `svc` and its template disagree (nothing: they agree)."""
    problems: list[str] = []
    functions = of_type(template, "AWS::Serverless::Function")
    mappings = of_type(template, "AWS::Lambda::EventSourceMapping")
    declared = {fn.resource for fn in svc.functions}
    if declared != set(functions):
        problems.append(f"functions: manifest {sorted(declared)}, template {sorted(functions)}")
    mapped = {m.function for m in svc.event_sources}
    for fn in svc.functions:
        props = functions.get(fn.resource)
        if props is None:
            continue
        where = f"{fn.name} ({fn.resource})"
        handler = props.get("Handler")
        if fn.runtime == "python":
            if handler != fn.dotted:
                problems.append(f"{where}: handler {fn.dotted}, template {handler}")
        else:  # one deployed function; a parameter picks the handler
            allowed = template["Parameters"][handler["Ref"]]["AllowedValues"] if isinstance(handler, dict) else [handler]
            if fn.handler not in allowed:
                problems.append(f"{where}: handler {fn.handler} is not one the template can run ({allowed})")
        env = set(props.get("Environment", {}).get("Variables", {}))
        if env != set(fn.env):
            problems.append(f"{where}: environment {sorted(fn.env)}, template {sorted(env)}")
        events = props.get("Events", {})
        if fn.payload in EVENT_TYPES:
            kinds = {e["Type"] for e in events.values()}
            routes = {f"{e['Properties']['Method']} {e['Properties']['Path']}" for e in events.values()}
            if kinds != {EVENT_TYPES[fn.payload]}:
                problems.append(f"{where}: {fn.payload} events, template {sorted(kinds)}")
            if routes != set(fn.routes):
                problems.append(f"{where}: routes {sorted(fn.routes)}, template {sorted(routes)}")
            versions = {e["Properties"].get("PayloadFormatVersion") for e in events.values()}
            wanted = {"2.0"} if fn.payload == HTTP_API else {None}  # a REST API always sends 1.0
            if versions != wanted:
                problems.append(f"{where}: payload {fn.payload}, template PayloadFormatVersion {sorted(versions, key=str)}")
        elif events or fn.routes:
            problems.append(f"{where}: {fn.payload} has no API events, template {sorted(events)}, routes {fn.routes}")
        if (fn.payload == FUNCTION_URL) != ("FunctionUrlConfig" in props):
            problems.append(f"{where}: payload {fn.payload}, template FunctionUrlConfig {'FunctionUrlConfig' in props}")
        if (fn.payload == SQS) != (fn.name in mapped):
            problems.append(f"{where}: payload {fn.payload}, but fed by a mapping: {fn.name in mapped}")
        if fn.payload == DIRECT and fn.port_offset is not None:
            problems.append(f"{where}: invoked directly, yet served on a port")
    queues = {q.name: q for q in svc.queues}
    for m in svc.event_sources:
        props = mappings.get(m.resource)
        if props is None:
            problems.append(f"mapping {m.resource}: not in the template")
            continue
        worker = next((fn for fn in svc.functions if fn.name == m.function), None)
        target = props.get("FunctionName", {}).get("Ref", "").removesuffix(".Alias")
        if worker is None or target != worker.resource:
            problems.append(f"mapping {m.resource}: feeds {m.function}, template {target}")
        if queues.get(m.queue) is None or queues[m.queue].ref != m.queue_resource:
            problems.append(f"mapping {m.resource}: queue {m.queue} is not the manifest's {m.queue_resource}")
        if props.get("EventSourceArn") != {"Fn::GetAtt": [m.queue_resource, "Arn"]}:
            problems.append(f"mapping {m.resource}: reads {m.queue_resource}, template {props.get('EventSourceArn')}")
        for name, got in (("BatchSize", m.batch_size), ("MaximumBatchingWindowInSeconds", m.batching_window_s)):
            if value(template, props.get(name)) != got:
                problems.append(f"mapping {m.resource}: {name} {got}, template {props.get(name)}")
        if ("ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])) != m.report_batch_item_failures:
            problems.append(f"mapping {m.resource}: ReportBatchItemFailures {m.report_batch_item_failures}")
        queue = template["Resources"].get(m.queue_resource, {}).get("Properties", {})
        visibility = value(template, queue.get("VisibilityTimeout", 30))
        if visibility != m.visibility_timeout_s:
            problems.append(f"queue {m.queue_resource}: VisibilityTimeout {m.visibility_timeout_s}, template {visibility}")
        receives = queue.get("RedrivePolicy", {}).get("maxReceiveCount")
        if receives != m.max_receive_count:
            problems.append(f"queue {m.queue_resource}: maxReceiveCount {m.max_receive_count}, template {receives}")
    if {m.resource for m in svc.event_sources} != set(mappings):
        problems.append(f"mappings: manifest {[m.resource for m in svc.event_sources]}, template {sorted(mappings)}")
    for kind, declared_resources in (("AWS::DynamoDB::Table", svc.tables), ("AWS::SQS::Queue", svc.queues)):
        refs = {r.ref for r in declared_resources}
        if refs != set(of_type(template, kind)):
            problems.append(f"{kind}: manifest {sorted(refs, key=str)}, template {sorted(of_type(template, kind))}")
    for r in (*svc.tables, *svc.queues, *svc.secrets):
        if r.ref is not None and r.ref not in template["Resources"] and r.ref not in template.get("Parameters", {}):
            problems.append(f"{r.name}: {r.ref} is not in the template")
        if r.env is None:
            continue
        for fn in svc.functions:
            variables = functions.get(fn.resource, {}).get("Environment", {}).get("Variables", {})
            if r.env in variables and variables[r.env] != {"Ref": r.ref}:
                problems.append(f"{fn.name}: {r.env} is {variables[r.env]}, not the manifest's {r.ref}")
    return problems


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {svc.name: load_template(svc.name) for svc in SERVICES}


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_the_manifest_is_what_its_template_deploys(svc: Service, templates: dict[str, dict]) -> None:
    assert (ROOT / svc.template) == ROOT / "deploy" / svc.name / "template.yaml"
    assert drift(svc, templates[svc.name]) == []


def _with(record: Any, **changes: Any) -> Any:
    return type(record)(**{**{n: getattr(record, n) for n in record.__slots__}, **changes})


def _fn(svc: Service, name: str, **changes: Any) -> Service:
    return _with(svc, functions=tuple(_with(f, **changes) if f.name == name else f for f in svc.functions))


def _mapping(svc: Service, **changes: Any) -> Service:
    return _with(svc, event_sources=tuple(_with(m, **changes) for m in svc.event_sources))


MUTATIONS = {
    "handler": (lambda s: _fn(s, "wardrobe-worker", handler="lambdasmith.wardrobe.api:handler"), "handler"),
    "environment": (lambda s: _fn(s, "wardrobe-worker", env=("WARDROBE_TABLE",)), "environment"),
    "payload": (lambda s: _fn(s, "wardrobe-api", payload=HTTP_API), "events"),
    "routes": (lambda s: _fn(s, "wardrobe-api", routes=("GET /users/{userId}/items",)), "routes"),
    "batch size": (lambda s: _mapping(s, batch_size=5), "BatchSize"),
    "batching window": (lambda s: _mapping(s, batching_window_s=0), "MaximumBatchingWindowInSeconds"),
    "visibility timeout": (lambda s: _mapping(s, visibility_timeout_s=30), "VisibilityTimeout"),
    "max receives": (lambda s: _mapping(s, max_receive_count=5), "maxReceiveCount"),
    "queue": (lambda s: _mapping(s, queue_resource="ShareDeadLetterQueue"), "reads"),
    "table": (lambda s: _with(s, tables=()), "AWS::DynamoDB::Table"),
    "no mapping": (lambda s: _with(s, event_sources=()), "fed by a mapping"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_manifest_that_drifts_from_its_template_is_caught(mutation: str, templates: dict[str, dict]) -> None:
    mutate, expected = MUTATIONS[mutation]
    wardrobe = next(s for s in SERVICES if s.name == "wardrobe")
    problems = drift(mutate(wardrobe), templates["wardrobe"])
    assert problems and any(expected in p for p in problems), problems


def test_the_shell_manifest_names_only_handlers_the_template_offers(templates: dict[str, dict]) -> None:
    shell = next(s for s in SERVICES if s.name == "shell")
    assert drift(_fn(shell, "health", handler="nope.run"), templates["shell"]) != []
    allowed = templates["shell"]["Parameters"]["ShellHandler"]["AllowedValues"]
    assert sorted(fn.handler for fn in shell.functions) == sorted(allowed)


def test_the_local_queue_settings_agree_with_the_deployed_ones() -> None:
    # The embedded queue's max receives come from the config; the pump's visibility timeout is
    # the manifest's (shorter than on AWS: a failed share comes back while you watch).
    wardrobe = next(s for s in SERVICES if s.name == "wardrobe")
    config = resolve(wardrobe.config).from_env({})
    (mapping,) = wardrobe.event_sources
    assert config.max_receive_count == mapping.max_receive_count
    assert mapping.local_visibility({}) == 30 and mapping.local_visibility({"WARDROBE_VISIBILITY_TIMEOUT": "2"}) == 2


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_every_reference_of_a_manifest_resolves(svc: Service) -> None:
    for ref in filter(None, (svc.config, svc.local_setup, *(m.open_queue for m in svc.event_sources))):
        assert callable(resolve(ref)), ref
    for path in svc.never_deployed:
        assert (ROOT / path).is_file(), path
    assert svc.package is None or (ROOT / svc.package / "__init__.py").is_file()


def test_function_names_and_ports_are_unique_across_services() -> None:
    names = [fn.name for svc in SERVICES for fn in svc.functions]
    assert len(names) == len(set(names))
    ports = {svc.name: {fn.port_offset for fn in svc.functions} - {None} for svc in SERVICES}
    assert all(len(p) <= 1 for p in ports.values()), ports
    taken = [p for ps in ports.values() for p in ps]
    assert len(taken) == len(set(taken)), ports
    assert sorted(python_functions()) == ["badges", "items", "wardrobe-api", "wardrobe-worker"]


@pytest.mark.parametrize(("service", "resource", "names"), [
    ("wardrobe", "ApiFunction", ("SyncApi", "Wdrbe")),  # Wdrbe's [Metrics(Namespace, Service)]
    ("wardrobe", "WorkerFunction", ("ShareWorker", "Wdrbe")),
    ("items", "ItemsFunction", ("lambda-production-readiness", "LambdaProductionReadiness")),  # the template's
    ("badges", "BadgesFunction", ("badges", "BadgeSmith")),
])
def test_templates_set_the_metric_names_the_anchors_dashboards_query(service: str, resource: str, names: tuple,
                                                                     templates: dict[str, dict]) -> None:  # fmt: skip
    variables = templates[service]["Resources"][resource]["Properties"]["Environment"]["Variables"]
    assert (variables["POWERTOOLS_SERVICE_NAME"], variables["POWERTOOLS_METRICS_NAMESPACE"]) == names
