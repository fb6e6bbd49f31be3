"""`lambdasmith wardrobe …`: a local token for trying the API, DLQ inspection and re-drive."""

from __future__ import annotations

import argparse
import json
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.kit.queue.port import Message
    from lambdasmith.wardrobe.config import WardrobeConfig


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    w = sub.add_parser("wardrobe", parents=[common], help="wardrobe service commands")
    w.set_defaults(func=None, help_of=w)
    wsub = w.add_subparsers(dest="wardrobe_command", metavar="COMMAND")

    tok = wsub.add_parser("token", parents=[common], help="mint a JWT for USER with the local secret")
    tok.add_argument("user")
    tok.add_argument("--ttl", type=int, default=24 * 3600, help="seconds until it expires (default a day)")
    tok.set_defaults(func=token)

    dlq = wsub.add_parser("dlq", parents=[common], help="list or re-drive the share queue's dead letters")
    dlq.add_argument("action", choices=("list", "redrive"))
    dlq.add_argument("--max", type=int, default=1000, help="at most this many messages")
    dlq.set_defaults(func=dead_letters)

    tables = wsub.add_parser("create-tables", parents=[common], help="create the table on DynamoDB; idempotent")
    tables.set_defaults(func=create_tables)


def _config(args: argparse.Namespace) -> WardrobeConfig:
    from lambdasmith.wardrobe.config import WardrobeConfig

    return WardrobeConfig.from_env(data_dir=args.data_dir)


def token(args: argparse.Namespace) -> int:
    from lambdasmith.local.serve_registry import warn_if_elsewhere
    from lambdasmith.wardrobe.wiring import mint_token

    warn_if_elsewhere(args.data_dir, "wardrobe token")
    print(mint_token(_config(args), args.user, args.ttl))
    return 0


def dead_letters(args: argparse.Namespace) -> int:
    """List: every message in the DLQ, left there. Re-drive: each one sent back to the share queue
    (as a new message, receive count reset) and only then deleted from the DLQ."""
    from lambdasmith.kit.backends import open_queue
    from lambdasmith.kit.queue.sqlite import SqliteQueue
    from lambdasmith.wardrobe.wiring import open_share_queue

    config = _config(args)
    if config.queue_backend != "sqlite":
        print("on SQS use the console or `aws sqs start-message-move-task` for the queue's DLQ", file=sys.stderr)
        return 2
    dlq = open_queue(config.share_dlq, backend="sqlite", data_dir=config.data_dir)
    if args.action != "redrive":  # a listing reads; it must not count as a delivery
        assert isinstance(dlq, SqliteQueue)
        listed = dlq.peek(args.max)
        for m in listed:
            print(json.dumps({"id": m.id, "receive_count": m.receive_count, "attributes": m.attributes, "body": m.body}))
        if not listed:
            print("the DLQ is empty", file=sys.stderr)
        return 0
    source = open_share_queue(config)
    held: list[Message] = []
    while len(held) < args.max:
        batch = dlq.receive(min(10, args.max - len(held)), visibility_timeout_s=60)
        if not batch:
            break
        held.extend(batch)
    for m in held:
        source.send(m.body, m.attributes)
        dlq.delete_batch([m.receipt])
    print(f"re-drove {len(held)} message(s) to {config.share_queue}")
    return 0


def create_tables(args: argparse.Namespace) -> int:
    from lambdasmith.wardrobe.store import WARDROBE

    config = _config(args)
    if config.table_backend != "dynamodb":
        print(f"{config.table_backend}: tables are created on first use")
        return 0
    from lambdasmith.kit.table.dynamodb.admin import create_table

    create_table(WARDROBE, config.table)
    print(f"{config.table}: ready")
    return 0
