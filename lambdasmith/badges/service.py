"""The badges service, as data: one function behind an HTTP API (payload 2.0), three tables, the
organisations' signing secrets in Secrets Manager. Read by the local platform, the import guard
and deploy/build.py; tests/deploy/test_manifests.py holds it against deploy/badges/template.yaml."""

from __future__ import annotations

from lambdasmith.manifest import HTTP_API, Function, Resource, Service

__all__ = ["SERVICE"]

SERVICE = Service(
    name="badges",
    template="deploy/badges/template.yaml",
    package="lambdasmith/badges/",
    functions=(
        Function(
            name="badges",
            handler="lambdasmith.badges.app:handler",
            payload=HTTP_API,
            port_offset=0,
            resource="BadgesFunction",
            env=("LAMBDASMITH_TABLE_BACKEND", "LAMBDASMITH_SECRET_BACKEND", "BADGES_RESULTS_TABLE",
                 "BADGES_NONCES_TABLE", "BADGES_ORGS_TABLE", "LAMBDASMITH_DATA_DIR", "POWERTOOLS_SERVICE_NAME",
                 "POWERTOOLS_METRICS_NAMESPACE",
                 "NUGET_BASE_URL", "GITHUB_API_URL", "BADGES_PUBLIC_URL", "BADGES_OIDC_ISSUER",
                 "BADGES_OIDC_AUDIENCE"),  # fmt: skip
            routes=("ANY $default",),  # every request; the function routes it (lambdasmith.badges.app)
        ),
    ),
    tables=(
        Resource("results", "BADGES_RESULTS_TABLE", "ResultsTable", "lambdasmith.badges.store:RESULTS"),
        Resource("nonces", "BADGES_NONCES_TABLE", "NoncesTable", "lambdasmith.badges.store:NONCES"),
        Resource("orgs", "BADGES_ORGS_TABLE", "OrgSecretsTable", "lambdasmith.badges.store:ORGS"),
    ),
    # One secret per organisation, `badges/<org>`, found by name (no variable names them).
    secrets=(Resource("org-secrets"),),
    # The CI client (push, reports) and the CLI run on a developer's machine or in CI, never on Lambda.
    never_deployed=("lambdasmith/badges/cli.py", "lambdasmith/badges/push.py", "lambdasmith/badges/reports.py"),
    config="lambdasmith.badges.config:BadgesConfig",
    local_setup="lambdasmith.badges.wiring:prepare_local",
)
