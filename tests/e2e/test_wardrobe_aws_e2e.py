"""The wardrobe end to end on the AWS backends: DynamoDB (DynamoDB Local), SQS and SSM (moto's
server) behind `lambdasmith serve`, with the pump reading SQS. Same tests, this module's server."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.e2e.test_wardrobe_e2e import (  # noqa: F401  (collected here, on the AWS-backed server)
    api,
    lambdasmith,
    test_20_concurrent_creates_with_one_key_make_one_item,
    test_auth_errors,
    test_create_then_idempotent_repeat_then_mismatch,
    test_cursors_are_tamper_evident,
    test_item_of_another_user_is_never_overwritten,
    test_list_with_every_filter_across_pages,
    test_share_errors,
    test_share_goes_through_the_queue_to_the_worker,
    test_two_shares_count_twice,
    user,
)
from tests.support.serving import Served

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(aws_backend_env, tmp_path_factory):
    run = uuid.uuid4().hex[:8]
    env = {
        **aws_backend_env,
        "LAMBDASMITH_TABLE_BACKEND": "dynamodb", "LAMBDASMITH_SECRET_BACKEND": "ssm", "LAMBDASMITH_QUEUE_BACKEND": "sqs",
        "WARDROBE_TABLE": f"wardrobe-{run}", "WARDROBE_SHARE_QUEUE": f"shares-{run}",
        "WARDROBE_JWT_SECRET_NAME": f"wardrobe/jwt-{run}", "WARDROBE_VISIBILITY_TIMEOUT": "2",
    }
    data = str(tmp_path_factory.mktemp("unused-data-dir"))
    r = lambdasmith("wardrobe", "create-tables", data_dir=data, env=env)
    assert r.returncode == 0, r.stderr
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from lambdasmith.kit.queue.sqs import create_queue

        create_queue(f"shares-{run}", dlq_name=f"shares-{run}-dlq", max_receive_count=3, visibility_timeout_s=2)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    served = Served(data, ["wardrobe"], env).start()
    yield served
    served.stop()


def test_nothing_was_written_to_the_embedded_backend(server):
    assert not os.path.exists(os.path.join(server.data_dir, "lambdasmith.db"))
