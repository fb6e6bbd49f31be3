"""The items processor, as data: one function invoked directly (sync or async) and its table.
Read by the local platform, the import guard and deploy/build.py; tests/deploy/test_manifests.py
holds it against deploy/items/template.yaml."""

from __future__ import annotations

from lambdasmith.manifest import DIRECT, Function, Resource, Service

__all__ = ["SERVICE"]

SERVICE = Service(
    name="items",
    template="deploy/items/template.yaml",
    package="lambdasmith/items/",
    functions=(
        Function(
            name="items",
            handler="lambdasmith.items.app:handler",
            payload=DIRECT,  # the Invoke API (BASE+3) locally; async failures end in the DLQ
            resource="ItemsFunction",
            env=("LAMBDASMITH_TABLE_BACKEND", "ITEMS_TABLE", "LAMBDASMITH_DATA_DIR", "POWERTOOLS_SERVICE_NAME",
                 "POWERTOOLS_METRICS_NAMESPACE"),  # fmt: skip
        ),
    ),
    tables=(Resource("items", "ITEMS_TABLE", "ItemsTable", "lambdasmith.items.store:ITEMS"),),
    # Lambda's own async DLQ (the function's DeadLetterQueue); locally the Invoke API's `items-dlq`.
    queues=(Resource("items-dlq", None, "ItemsDeadLetterQueue"),),
    config="lambdasmith.items.config:ItemsConfig",
    local_setup="lambdasmith.items.wiring:prepare_local",
)
