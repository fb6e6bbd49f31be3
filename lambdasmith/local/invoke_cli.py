"""`lambdasmith invoke FUNCTION [EVENT]`: one invocation, in this process, as Lambda would make it
(like `sam local invoke`, without Docker). FUNCTION is a function of the service manifests, by
name, `name:qualifier`, partial ARN (`ACCOUNT:function:name`) or ARN, as the Invoke API takes it.
EVENT is JSON text, a file (see events/), or `-` for standard input; `{}` when left out. The
result goes to stdout, Lambda's START/END/REPORT lines to stderr; an unhandled error prints
Lambda's error JSON and exits 1. The invocation itself is `lambdasmith.local.invocation.invoke`."""

from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["add_parser", "read_event", "run"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    from lambdasmith.services import SERVICES

    names = [fn.name for svc in SERVICES for fn in svc.functions]
    p = sub.add_parser("invoke", parents=[common], help="invoke one function in-process (like sam local invoke)")
    p.add_argument("function", help=f"one of {', '.join(names)} (shell functions: also those of "
                                    "$LAMBDASMITH_SHELL_FUNCTIONS)")  # fmt: skip
    p.add_argument("event", nargs="?", default="{}", help="JSON text, a file, or - for stdin (default {})")
    p.set_defaults(func=run)


class EventError(ValueError):
    """The EVENT argument cannot become an event; the message says why, for the user."""


def read_event(arg: str) -> Any:
    """JSON text, a file or `-`. An argument that is not JSON and does not start like JSON is
    taken for a file name, so a typo in a path says the file does not exist rather than that
    the name is not JSON."""
    if arg == "-":
        text, source = sys.stdin.read(), "standard input"
    elif os.path.isfile(arg):
        with open(arg, encoding="utf-8") as f:
            text, source = f.read(), arg
    else:
        text, source = arg, ""
    try:
        return json.loads(text)
    except ValueError as e:
        if source:
            raise EventError(f"the event in {source} is not JSON: {e}") from None
        if not _looks_like_json(arg):
            raise EventError(f"the event file {arg} does not exist (EVENT is JSON text, a file, or - for stdin)") from None
        raise EventError(f"the event is not JSON: {e}") from None


def _looks_like_json(text: str) -> bool:
    head = text.lstrip()[:1]
    return head in ("{", "[", '"', "-") or head.isdigit() or text.strip() in ("true", "false", "null")


def run(args: argparse.Namespace) -> int:
    import contextlib

    from lambdasmith.local import invocation
    from lambdasmith.services import python_functions

    functions = python_functions()
    name, qualifier = invocation.parse_function_name(args.function)
    try:
        shell = _shell_functions() if name not in functions else None
    except ValueError as e:  # a malformed $LAMBDASMITH_SHELL_FUNCTIONS
        print(f"invoke: {e}", file=sys.stderr)
        return 2
    if name not in functions and (shell is None or name not in shell.functions):
        known = [*functions, *(shell.functions if shell else ())]
        print(f"invoke: no function {args.function!r} (one of {', '.join(known)})", file=sys.stderr)
        return 2
    try:
        event = read_event(args.event)
    except EventError as e:
        print(f"invoke: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"invoke: cannot read the event: {e.strerror or e}: {args.event}", file=sys.stderr)
        return 2
    os.environ["LAMBDASMITH_DATA_DIR"] = os.path.abspath(args.data_dir)
    os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", name)
    if shell is not None:
        return _run_shell(shell, name, event, qualifier)
    fn = invocation.Function(name, functions[name].handler)
    with contextlib.redirect_stdout(sys.stderr):  # the function's logs; stdout is the result's
        outcome = invocation.invoke(fn, event, qualifier=qualifier)
    print(json.dumps(json.loads(outcome.payload), indent=2, ensure_ascii=False))
    return 1 if outcome.function_error else 0


def _shell_functions() -> Any:
    from lambdasmith.local.function_urls import ShellFunctions, load_config

    return ShellFunctions(load_config())


def _run_shell(shell: Any, name: str, event: Any, qualifier: str | None) -> int:
    """A shell function behind the Runtime API emulator, as the Invoke API runs it: its log
    (START/END/REPORT included) on stderr, the result on stdout."""
    from lambdasmith.local.function_urls import invoke_runners
    from lambdasmith.local.invoke import Function, invoke

    fn = Function(name, f"runtime-api:{name}", invoke_runners(shell)[name])
    try:
        outcome = invoke(fn, event, qualifier=qualifier)  # its bootstrap's log reaches stderr itself
    finally:
        shell.close()
    text = outcome.payload.decode("utf-8", "replace")
    try:
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        pass  # a custom runtime may return any bytes
    print(text)
    return 1 if outcome.function_error else 0
