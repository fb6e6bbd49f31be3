"""`lambdasmith badges …`: operator and CI-client commands."""

from __future__ import annotations

import argparse
import json
import os
import sys

from lambdasmith.badges.secret_strength import RULE, weakness
from lambdasmith.badges.store import KINDS

SECRET_ENV = "BADGES_SECRET"
OLD_SECRET_ENV = "BADGES_ORG_SECRET"  # its former name here; push always read BADGES_SECRET

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.badges.config import BadgesConfig


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    badges = sub.add_parser("badges", parents=[common], help="badges service commands")
    badges.set_defaults(func=None, help_of=badges)
    bsub = badges.add_subparsers(dest="badges_command", metavar="COMMAND")

    reg = bsub.add_parser("register-org", parents=[common], help="register an organisation's secret (idempotent)")
    reg.add_argument("org", nargs="?", help="organisation (GitHub owner)")
    reg.add_argument("--type", choices=KINDS,
                     help="package: GitHub token; testdata: HMAC key; oidc: CI posts with its GitHub OIDC token")
    reg.add_argument("--repo", help="testdata: a key of this repository only (overrides the org's keys for it)")
    reg.add_argument("--add-secret", action="store_true",
                     help="testdata: add the secret as a second active key (rotation: add, switch CI, retire)")
    reg.add_argument("--retire-secret", nargs="?", const="", metavar="KEY_ID",
                     help="testdata: stop accepting a key (by id, see `orgs list`; default the older of two)")
    reg.add_argument("--repos", help="oidc: only these repositories (comma-separated; default any)")
    reg.add_argument("--branches", help="oidc: only these branches (comma-separated, * wildcards; default any)")
    reg.add_argument("--secret", help="the secret (default: $BADGES_SECRET; never echoed)")
    reg.add_argument("--name", help="secret name in the secret store (default badges/{org}/{type})")
    reg.add_argument("--v2-only", action="store_true", help="accept only signature version 2 from this org")
    reg.add_argument("--from-file", help="BadgeSmith seeder JSON: {\"secrets\":[{org_name,name,secret,type}]}")
    reg.add_argument("--force", action="store_true", help="replace a different secret already registered")
    reg.add_argument("--allow-weak", action="store_true",
                     help="accept a secret weaker than the rule (one already in use elsewhere); " + RULE)
    reg.set_defaults(func=register_org)

    new = bsub.add_parser("new-secret", help="print a strong random secret (for register-org and BADGES_SECRET)")
    new.set_defaults(func=new_secret)

    orgs = bsub.add_parser("orgs", parents=[common], help="list or remove registered organisations")
    orgs.set_defaults(func=None, help_of=orgs)
    osub = orgs.add_subparsers(dest="orgs_command", metavar="COMMAND")
    ls = osub.add_parser("list", parents=[common], help="org, type, v2-only and secret name (never the secret)")
    ls.set_defaults(func=list_orgs)
    rm = osub.add_parser("remove", parents=[common], help="remove an org's registration and its secret")
    rm.add_argument("org")
    rm.add_argument("--type", choices=KINDS, help="only this type (default all)")
    rm.add_argument("--repo", help="a repository's own testdata keys (not the org's)")
    rm.set_defaults(func=remove_org)

    reindex = bsub.add_parser("reindex", parents=[common],
                              help="list every repository's stored results on the pages (after an upgrade); idempotent")
    reindex.set_defaults(func=reindex_results)

    tables = bsub.add_parser("create-tables", parents=[common],
                             help="create the service's tables on the configured backend (DynamoDB); idempotent")
    tables.set_defaults(func=create_tables)

    from lambdasmith.badges import push

    p = bsub.add_parser("push", parents=[common], help="sign and post test results from JUnit/TRX reports")
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
    secret = args.secret or env_secret("register-org")
    missing = [what for what, value in (("ORG", args.org), ("--type", args.type),
                                        ("--secret (or $BADGES_SECRET)", secret)) if not value]  # fmt: skip
    if missing:
        raise ValueError(f"missing {', '.join(missing)} (or give --from-file)")
    return [{"org": args.org, "kind": args.type, "secret": secret, "name": args.name, "repo": args.repo}]


def env_secret(prog: str) -> str | None:
    """$BADGES_SECRET, else the deprecated $BADGES_ORG_SECRET with a one-line warning."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    if os.environ.get(OLD_SECRET_ENV):
        print(f"{prog}: warning: {OLD_SECRET_ENV} is deprecated; set {SECRET_ENV} instead", file=sys.stderr)
        return os.environ[OLD_SECRET_ENV]
    return None


def _config(args: argparse.Namespace) -> BadgesConfig:
    from lambdasmith.badges.config import BadgesConfig

    return BadgesConfig.from_env(data_dir=args.data_dir)


def _problems(entries: list[dict[str, Any]], allow_weak: bool) -> list[str]:
    """Every entry's problems at once, before anything is written."""
    out = []
    for entry in entries:
        why = None if allow_weak else weakness(entry["secret"])
        if why:
            out.append(f"{entry['org'].lower()} {entry['kind']}: {why} (or pass --allow-weak)")
    return out


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _register_special(args: argparse.Namespace) -> int | None:
    """--type oidc, --add-secret and --retire-secret; None when the arguments ask for neither."""
    from lambdasmith.badges.wiring import open_store
    from lambdasmith.local.serve_registry import warn_if_elsewhere

    rotating = args.add_secret or args.retire_secret is not None
    if args.type != "oidc" and not rotating:
        if args.repos or args.branches:
            print("register-org: --repos and --branches belong to --type oidc", file=sys.stderr)
            return 2
        return None
    if not args.org:
        print("register-org: missing ORG", file=sys.stderr)
        return 2
    if args.type == "oidc":
        if rotating or args.secret or args.repo:
            print("register-org: --type oidc takes no secret (only --repos and --branches)", file=sys.stderr)
            return 2
        warn_if_elsewhere(args.data_dir, "register-org")
        changed = open_store(_config(args)).register_oidc(args.org, _names(args.repos), _names(args.branches))
        print(f"{args.org.lower()} oidc: {'registered' if changed else 'unchanged'}")
        return 0
    if args.type not in (None, "testdata") or (args.add_secret and args.retire_secret is not None):
        print("register-org: --add-secret and --retire-secret are for --type testdata, one at a time", file=sys.stderr)
        return 2
    store = open_store(_config(args))
    where = f"{args.org.lower()}" + (f" repository {args.repo.lower()}" if args.repo else "")
    warn_if_elsewhere(args.data_dir, "register-org")
    try:
        if args.add_secret:
            secret = args.secret or env_secret("register-org")
            if not secret:
                print("register-org: missing --secret (or $BADGES_SECRET)", file=sys.stderr)
                return 2
            why = None if args.allow_weak else weakness(secret)
            if why:
                print(f"register-org: {where} testdata: {why} (or pass --allow-weak)", file=sys.stderr)
                return 2
            from lambdasmith.badges.store import key_id

            added = store.add_secret(args.org, secret, repo=args.repo, v2_only=True if args.v2_only else None)
            print(f"{where} testdata: key {key_id(secret)} {'added' if added else 'already active'}")
        else:
            gone = store.retire_secret(args.org, args.retire_secret or None, repo=args.repo)
            print(f"{where} testdata: key {gone} retired")
    except ValueError as err:
        print(f"register-org: {where}: {err}", file=sys.stderr)
        return 2
    return 0


def register_org(args: argparse.Namespace) -> int:
    from lambdasmith.badges.wiring import open_store
    from lambdasmith.local.serve_registry import warn_if_elsewhere

    special = _register_special(args)
    if special is not None:
        return special
    try:
        entries = _entries(args)
    except (OSError, ValueError) as e:
        print(f"register-org: {e}", file=sys.stderr)
        return 2
    problems = _problems(entries, args.allow_weak)
    if problems:
        for problem in problems:
            print(f"register-org: {problem}", file=sys.stderr)
        return 2
    store = open_store(_config(args))
    clashes = []
    for entry in () if args.force else entries:  # --force reads nothing: a secret may be unreadable (a lost key)
        current = store.secrets_of(entry["org"], entry["kind"], entry.get("repo"))
        if current and [c.value for c in current] != [entry["secret"]]:
            clashes.append(f"{entry['org'].lower()} {entry['kind']}")
    if clashes:
        print(f"register-org: a different secret is already registered for {', '.join(clashes)}; "
              "pass --force to replace it", file=sys.stderr)  # fmt: skip
        return 2
    warn_if_elsewhere(args.data_dir, "register-org")
    for entry in entries:
        try:
            changed = store.register_org(entry["org"], entry["kind"], entry["secret"], secret_name=entry["name"],
                                         v2_only=args.v2_only, repo=entry.get("repo"))  # fmt: skip
        except ValueError as err:
            print(f"register-org: {err}", file=sys.stderr)
            return 2
        print(f"{entry['org'].lower()} {entry['kind']}: {'registered' if changed else 'unchanged'}")
    return 0


def new_secret(args: argparse.Namespace) -> int:
    from lambdasmith.badges.secret_strength import new_secret as make

    print(make())
    return 0


def list_orgs(args: argparse.Namespace) -> int:
    from lambdasmith.badges.orgs_admin import list_orgs as listing
    from lambdasmith.badges.wiring import open_store

    rows = listing(open_store(_config(args)))
    if not rows:
        print("no organisations registered (lambdasmith badges register-org ORG --type testdata)", file=sys.stderr)
        return 0
    print(f"{'ORG':<24} {'TYPE':<9} {'REPO':<16} {'V2-ONLY':<8} SECRETS [KEY IDS] OR OIDC RULES")
    for r in rows:
        v2 = "-" if r["type"] == "oidc" else "yes" if r["v2_only"] else "no"
        print(f"{r['org']:<24} {r['type']:<9} {r['repo'] or '-':<16} {v2:<8} {r['detail']}")
    return 0


def remove_org(args: argparse.Namespace) -> int:
    from lambdasmith.badges.orgs_admin import remove_org as remove
    from lambdasmith.badges.wiring import open_store
    from lambdasmith.local.serve_registry import warn_if_elsewhere

    warn_if_elsewhere(args.data_dir, "orgs remove")
    kinds = (args.type,) if args.type else (("testdata",) if args.repo else KINDS)
    removed = remove(open_store(_config(args)), args.org, kinds, args.repo)
    if not removed:
        where = args.org.lower() + (f" repository {args.repo.lower()}" if args.repo else "")
        print(f"orgs remove: {where} has no {' or '.join(kinds)} registration", file=sys.stderr)
        return 1
    for kind in removed:
        print(f"{args.org.lower()} {kind}: removed")
    return 0


def reindex_results(args: argparse.Namespace) -> int:
    """Results stored before the dashboards' indexes existed show on the pages only once their
    branch posts again; this writes the missing index items now."""
    from lambdasmith.badges.wiring import open_store
    from lambdasmith.local.serve_registry import warn_if_elsewhere

    warn_if_elsewhere(args.data_dir, "reindex")
    branches, repos = open_store(_config(args)).reindex()
    print(f"reindex: {branches} branch(es) and {repos} repositor{'y' if repos == 1 else 'ies'} added to the pages")
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
