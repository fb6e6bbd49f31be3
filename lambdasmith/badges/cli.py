"""`lambdasmith badges …`: operator and CI-client commands."""

from __future__ import annotations

import argparse
import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.badges.config import BadgesConfig


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    badges = sub.add_parser("badges", help="badges service commands")
    bsub = badges.add_subparsers(dest="badges_command", required=True, metavar="COMMAND")

    reg = bsub.add_parser("register-org", parents=[common], help="register an organisation's secret (idempotent)")
    reg.add_argument("org", nargs="?", help="organisation (GitHub owner)")
    reg.add_argument("--type", choices=("package", "testdata"), help="package: GitHub token; testdata: HMAC key")
    reg.add_argument("--secret", help="the secret (default: $BADGES_ORG_SECRET; never echoed)")
    reg.add_argument("--name", help="secret name in the secret store (default badges/{org}/{type})")
    reg.add_argument("--v2-only", action="store_true", help="accept only signature version 2 from this org")
    reg.add_argument("--from-file", help="BadgeSmith seeder JSON: {\"secrets\":[{org_name,name,secret,type}]}")
    reg.set_defaults(func=register_org)

    tables = bsub.add_parser("create-tables", parents=[common],
                             help="create the service's tables on the configured backend (DynamoDB); idempotent")
    tables.set_defaults(func=create_tables)

    from lambdasmith.badges import push

    p = bsub.add_parser("push", help="sign and post test results from JUnit/TRX reports")
    push.add_arguments(p)
    p.set_defaults(func=push.run)


def _entries(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.from_file:
        with open(args.from_file, encoding="utf-8") as f:
            data = json.load(f)
        out = []
        for i, s in enumerate(data.get("secrets") or []):
            kind = str(s.get("type", "")).lower()
            if kind not in ("package", "testdata") or not s.get("org_name") or not s.get("secret"):
                raise ValueError(f"secrets[{i}]: needs org_name, secret and type Package or TestData")
            out.append({"org": s["org_name"], "kind": kind, "secret": s["secret"], "name": s.get("name")})
        return out
    secret = args.secret or os.environ.get("BADGES_ORG_SECRET")
    if not args.org or not args.type or not secret:
        raise ValueError("give ORG, --type and --secret (or $BADGES_ORG_SECRET), or --from-file")
    return [{"org": args.org, "kind": args.type, "secret": secret, "name": args.name}]


def _config(args: argparse.Namespace) -> BadgesConfig:
    from lambdasmith.badges.config import BadgesConfig

    return BadgesConfig.from_env(data_dir=args.data_dir)


def register_org(args: argparse.Namespace) -> int:
    from lambdasmith.badges.wiring import open_store

    try:
        entries = _entries(args)
    except (OSError, ValueError) as e:
        print(f"register-org: {e}", file=sys.stderr)
        return 2
    store = open_store(_config(args))
    for entry in entries:
        try:
            changed = store.register_org(entry["org"], entry["kind"], entry["secret"], secret_name=entry["name"],
                                         v2_only=args.v2_only)  # fmt: skip
        except ValueError as err:
            print(f"register-org: {err}", file=sys.stderr)
            return 2
        print(f"{entry['org'].lower()} {entry['kind']}: {'registered' if changed else 'unchanged'}")
    return 0


def create_tables(args: argparse.Namespace) -> int:
    """On DynamoDB (e.g. DynamoDB Local) create the three tables; on AWS the stack creates them."""
    from lambdasmith.badges.store import NONCES, ORGS, RESULTS

    config = _config(args)
    if config.table_backend != "dynamodb":
        print(f"{config.table_backend}: tables are created on first use")
        return 0
    from lambdasmith.kit.table.dynamodb.admin import create_table

    for spec, name in ((RESULTS, config.results_table), (NONCES, config.nonces_table), (ORGS, config.orgs_table)):
        create_table(spec, name)
        print(f"{name}: ready")
    return 0
