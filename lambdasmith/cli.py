"""The `lambdasmith` command. Each system adds its own subcommands; all take --data-dir."""

from __future__ import annotations

import argparse
import sys

from lambdasmith.kit.backends import default_data_dir


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=default_data_dir(),
        help="where embedded backends keep their data (default $LAMBDASMITH_DATA_DIR or ./.lambdasmith)",
    )
    parser = argparse.ArgumentParser(prog="lambdasmith", description="Serverless systems on a lean kit.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from lambdasmith.badges import cli as badges_cli
    from lambdasmith.local import backup, invoke_cli, serve
    from lambdasmith.wardrobe import cli as wardrobe_cli

    serve.add_parser(sub, common)
    invoke_cli.add_parser(sub, common)
    backup.add_parsers(sub, common)
    badges_cli.add_parser(sub, common)
    wardrobe_cli.add_parser(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
