"""The wardrobe service, as data: the API function behind a REST API (payload 1.0), the share
worker fed by the share queue, one table, the JWT secret (SSM). Read by the local platform, the
import guard and deploy/build.py; tests/deploy/test_manifests.py holds it against
deploy/wardrobe/template.yaml."""

from __future__ import annotations

from lambdasmith.manifest import REST_API, SQS, EventSource, Function, Resource, Service

__all__ = ["SERVICE"]

_ROUTES = ("POST /users/{userId}/items", "GET /users/{userId}/items", "POST /items/{itemId}/share",
           "GET /users/{userId}/activities", "GET /openapi.json")  # fmt: skip
_PREFLIGHTS = tuple(sorted({"OPTIONS " + r.split(" ", 1)[1] for r in _ROUTES}))

SERVICE = Service(
    name="wardrobe",
    template="deploy/wardrobe/template.yaml",
    package="lambdasmith/wardrobe/",
    functions=(
        Function(
            name="wardrobe-api",
            handler="lambdasmith.wardrobe.api:handler",
            payload=REST_API,
            port_offset=1,
            resource="ApiFunction",
            env=("LAMBDASMITH_TABLE_BACKEND", "LAMBDASMITH_SECRET_BACKEND", "LAMBDASMITH_QUEUE_BACKEND",
                 "LAMBDASMITH_DATA_DIR", "WARDROBE_TABLE", "WARDROBE_SHARE_QUEUE", "WARDROBE_JWT_SECRET_NAME",
                 "WARDROBE_JWT_ISSUER", "WARDROBE_JWT_AUDIENCE", "POWERTOOLS_SERVICE_NAME",
                 "POWERTOOLS_METRICS_NAMESPACE"),  # fmt: skip
            routes=_ROUTES + _PREFLIGHTS,
        ),
        Function(
            name="wardrobe-worker",
            handler="lambdasmith.wardrobe.worker:handler",
            payload=SQS,
            resource="WorkerFunction",
            env=("LAMBDASMITH_TABLE_BACKEND", "LAMBDASMITH_DATA_DIR", "WARDROBE_TABLE", "POWERTOOLS_SERVICE_NAME",
                 "POWERTOOLS_METRICS_NAMESPACE"),
        ),
    ),
    event_sources=(
        EventSource(
            queue="shares",
            function="wardrobe-worker",
            batch_size=10,
            batching_window_s=1,
            # The template's for its default WorkerTimeout (30 s; Mappings/WorkerQueue): at least
            # six times the function timeout plus the batching window, as AWS advises.
            visibility_timeout_s=210,
            max_receive_count=3,
            report_batch_item_failures=True,
            resource="ShareEventSourceMapping",
            queue_resource="ShareQueue",
            open_queue="lambdasmith.wardrobe.wiring:open_share_queue",
            local_visibility_timeout_s=30,
            local_visibility_env="WARDROBE_VISIBILITY_TIMEOUT",
        ),
    ),
    tables=(Resource("wardrobe", "WARDROBE_TABLE", "WardrobeTable", "lambdasmith.wardrobe.store:WARDROBE"),),
    queues=(
        Resource("shares", "WARDROBE_SHARE_QUEUE", "ShareQueue"),  # Ref of a queue is its URL
        # SQS moves messages there itself (the queue's RedrivePolicy); only the embedded queue reads it.
        Resource("shares-dlq", "WARDROBE_SHARE_DLQ", "ShareDeadLetterQueue"),
    ),
    secrets=(Resource("jwt-secret", "WARDROBE_JWT_SECRET_NAME", "JwtSecretParameterName"),),
    never_deployed=("lambdasmith/wardrobe/cli.py",),
    config="lambdasmith.wardrobe.config:WardrobeConfig",
    local_setup="lambdasmith.wardrobe.wiring:prepare_local",
)
