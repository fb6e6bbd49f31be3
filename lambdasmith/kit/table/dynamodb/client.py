"""The process's DynamoDB client, one per region and endpoint.

Shared, so tables opened separately (`backends.open_table`) can still meet in one transaction
(DynamoDB transactions span the tables of one client), and so a warm Lambda reuses its
connection. Built on first use: importing this module opens nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdasmith.kit.aws.client import JsonClient

__all__ = ["default_client"]

_clients: dict[tuple[str, str], JsonClient] = {}


def default_client() -> JsonClient:
    """The process's DynamoDB client for the region and endpoint in the environment.

    Shared, so tables opened separately (`open_table`) can still meet in one transaction.
    """
    from lambdasmith.kit.aws.client import DYNAMODB, JsonClient, endpoint_for
    from lambdasmith.kit.aws.credentials import region as env_region

    region = env_region()
    where = (region, endpoint_for(DYNAMODB, region))
    client = _clients.get(where)
    if client is None:
        client = _clients.setdefault(where, JsonClient(DYNAMODB, region=region, endpoint=where[1]))
    return client
