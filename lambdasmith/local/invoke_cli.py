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
    from lambdasmith.services import python_functions

    p = sub.add_parser("invoke", parents=[common], help="invoke one function in-process (like sam local invoke)")
    p.add_argument("function", help=f"one of {', '.join(python_functions())}")
    p.add_argument("event", nargs="?", default="{}", help="JSON text, a file, or - for stdin (default {})")
    p.set_defaults(func=run)


def read_event(arg: str) -> Any:
    if arg == "-":
        text = sys.stdin.read()
    elif os.path.isfile(arg):
        with open(arg, encoding="utf-8") as f:
            text = f.read()
    else:
        text = arg
    return json.loads(text)


def run(args: argparse.Namespace) -> int:
    import contextlib

    from lambdasmith.local import invocation
    from lambdasmith.services import python_functions

    functions = python_functions()
    name, qualifier = invocation.parse_function_name(args.function)
    if name not in functions:
        print(f"invoke: no function {args.function!r} (one of {', '.join(functions)})", file=sys.stderr)
        return 2
    try:
        event = read_event(args.event)
    except (OSError, ValueError) as e:
        print(f"invoke: the event is not JSON: {e}", file=sys.stderr)
        return 2
    os.environ["LAMBDASMITH_DATA_DIR"] = os.path.abspath(args.data_dir)
    os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", name)
    fn = invocation.Function(name, functions[name].handler)
    with contextlib.redirect_stdout(sys.stderr):  # the function's logs; stdout is the result's
        outcome = invocation.invoke(fn, event, qualifier=qualifier)
    print(json.dumps(json.loads(outcome.payload), indent=2, ensure_ascii=False))
    return 1 if outcome.function_error else 0
