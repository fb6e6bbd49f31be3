"""`lambdasmith invoke FUNCTION [EVENT]`: one invocation, in this process, as Lambda would make it
(like `sam local invoke`, without Docker). EVENT is JSON text, a file (see events/), or `-` for
standard input; `{}` when left out. The result goes to stdout, Lambda's START/END/REPORT lines to
stderr; an unhandled error prints Lambda's error JSON and exits 1."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    from lambdasmith.local.functions import FUNCTIONS

    p = sub.add_parser("invoke", parents=[common], help="invoke one function in-process (like sam local invoke)")
    p.add_argument("function", help=f"one of {', '.join(FUNCTIONS)}")
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


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The error document Lambda's Python runtime returns for an unhandled exception."""
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": [f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line}\n' for f in frames],
    }


def run(args: argparse.Namespace) -> int:
    from lambdasmith.local.apigw import Context
    from lambdasmith.local.functions import FUNCTIONS, function_name, load

    name = function_name(args.function)
    if name not in FUNCTIONS:
        print(f"invoke: no function {args.function!r} (one of {', '.join(FUNCTIONS)})", file=sys.stderr)
        return 2
    try:
        event = read_event(args.event)
    except (OSError, ValueError) as e:
        print(f"invoke: the event is not JSON: {e}", file=sys.stderr)
        return 2
    import contextlib

    os.environ["LAMBDASMITH_DATA_DIR"] = os.path.abspath(args.data_dir)
    os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", name)
    ctx = Context(name)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        handler = load(FUNCTIONS[name])
    init_ms = (time.perf_counter() - t0) * 1000
    print(f"START RequestId: {ctx.aws_request_id} Version: $LATEST", file=sys.stderr)
    t1 = time.perf_counter()
    code = 0
    try:
        with contextlib.redirect_stdout(sys.stderr):  # the function's logs; stdout is the result's
            result: Any = handler(event, ctx)
    except Exception as exc:
        result, code = error_payload(exc, ctx.aws_request_id), 1
    ms = (time.perf_counter() - t1) * 1000
    print(f"END RequestId: {ctx.aws_request_id}", file=sys.stderr)
    print(f"REPORT RequestId: {ctx.aws_request_id}\tDuration: {ms:.2f} ms\tBilled Duration: {max(1, round(ms + 0.5))} ms"
          f"\tMemory Size: {ctx.memory_limit_in_mb} MB\tInit Duration: {init_ms:.2f} ms", file=sys.stderr)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return code
