"""The badges flow end to end on the AWS backends: `lambdasmith serve` configured for DynamoDB
(DynamoDB Local) and Secrets Manager (moto's server), over real HTTP. The tests are the same
functions as the embedded-backend e2e suite, run here against this module's server."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.e2e import test_badges_e2e as embedded
from tests.e2e.test_badges_e2e import (  # noqa: F401  (collected here, on the AWS-backed server)
    test_32_concurrent_requests_with_one_nonce_store_exactly_one,
    test_case_insensitive_and_encoded_branch,
    test_github_badge_follows_pagination,
    test_ingest_signed_like_badgesmith_then_badge_and_redirect,
    test_latest_is_highest_timestamp_and_history_pages,
    test_replayed_nonce_is_rejected,
    test_signature_v2_accepted_and_bound_to_path,
    test_unsigned_request_cannot_burn_a_nonce,
    upstreams,
)
from tests.support.serving import Served, http

pytestmark = pytest.mark.e2e


def aws_badges_env(aws_backend_env: dict[str, str]) -> dict[str, str]:
    """The badges service on DynamoDB and Secrets Manager, with tables of its own (this run's)."""
    run = uuid.uuid4().hex[:8]
    return {
        **aws_backend_env,
        "LAMBDASMITH_TABLE_BACKEND": "dynamodb",
        "LAMBDASMITH_SECRET_BACKEND": "secretsmanager",
        "BADGES_RESULTS_TABLE": f"results-{run}",
        "BADGES_NONCES_TABLE": f"nonces-{run}",
        "BADGES_ORGS_TABLE": f"orgs-{run}",
    }


@pytest.fixture(scope="module")
def badges_env(aws_backend_env):
    return aws_badges_env(aws_backend_env)


@pytest.fixture(scope="module")
def server(upstreams, badges_env, tmp_path_factory):
    nuget, github = upstreams
    data = str(tmp_path_factory.mktemp("unused-data-dir"))
    env = {**badges_env, "NUGET_BASE_URL": nuget.url, "GITHUB_API_URL": github.url, "BADGES_UPSTREAM_CACHE_TTL": "0"}
    r = embedded.lambdasmith("badges", "create-tables", data_dir=data, env=env)
    assert r.returncode == 0, r.stderr
    embedded.register_orgs(data, env)
    served = Served(data, ["badges"], env).start()
    yield served
    served.stop()


@pytest.fixture
def base(server):
    return server.urls["badges"]


def test_nothing_was_written_to_the_embedded_backend(server):
    # The data dir exists only because serve takes one; the AWS backends hold everything.
    assert not os.path.exists(os.path.join(server.data_dir, "lambdasmith.db"))


def test_health_on_aws_backends(base):
    assert http("GET", base + "/health").status == 200
