"""The `lambdasmith` command. Each system adds its own subcommands.

Global options (`--data-dir`) are accepted before or after the subcommand: the top-level parser
and every subcommand's parser both declare them with a suppressed default, so a value is only
set when given, and the subcommand's (parsed later) wins. The default is filled in afterwards."""

from __future__ import annotations

import argparse
import sys

from lambdasmith.kit.backends import default_data_dir

DATA_DIR_HELP = "where embedded backends keep their data (default $LAMBDASMITH_DATA_DIR or ./.lambdasmith)"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lambdasmith")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _add_globals(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=argparse.SUPPRESS, help=DATA_DIR_HELP)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _add_globals(common)
    parser = argparse.ArgumentParser(prog="lambdasmith", description="Serverless systems on a lean kit.")
    parser.add_argument("--version", action="version", version=f"lambdasmith {_version()}")
    _add_globals(parser)
    parser.set_defaults(func=None, help_of=parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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
    if not hasattr(args, "data_dir"):
        args.data_dir = default_data_dir()
    if args.func is None:  # `lambdasmith` or a command group alone: its help, not an error
        args.help_of.print_help()
        return 0
    from lambdasmith.kit.aws.credentials import NoCredentials
    from lambdasmith.kit.secrets.port import SecretDecryptError, SecretKeyError

    try:
        return int(args.func(args) or 0)
    except NoCredentials as e:
        print(f"lambdasmith: {e}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE); "
              "DynamoDB Local and other emulators take any values", file=sys.stderr)  # fmt: skip
        return 1
    except (SecretKeyError, SecretDecryptError) as e:
        print(f"lambdasmith: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
