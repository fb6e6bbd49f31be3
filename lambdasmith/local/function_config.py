"""ListFunctions and GetFunction for the local Invoke API, in the JSON shape AWS answers.

So that `aws lambda list-functions --endpoint-url …` and boto3's `list_functions` /
`get_function` work against `lambdasmith serve invoke`, as discovery for a newcomer and for
tools that look a function up before invoking it. The values describe the local platform
truthfully (this Python's version as the runtime, this machine's architecture, the local
memory and timeout limits), not the SAM templates; there is no code package, so `Code` has no
`Location`, and nothing is published: every function is `$LATEST` only.
"""

from __future__ import annotations

import platform
import sys
from datetime import datetime, timezone
from typing import Any

from lambdasmith.local.invocation import ACCOUNT, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, LATEST, function_arn

__all__ = ["configuration", "get_function", "list_functions", "python_runtime"]

_STARTED = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")  # AWS's LastModified format
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambdasmith-local"


def python_runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def _architecture() -> str:
    return "arm64" if platform.machine().lower() in ("arm64", "aarch64") else "x86_64"


def configuration(name: str, *, runtime: str, handler: str, memory_mb: int = DEFAULT_MEMORY_MB,
                  timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:  # fmt: skip
    """One function's FunctionConfiguration. `handler` as Lambda writes it (`module.attr`)."""
    return {
        "FunctionName": name,
        "FunctionArn": function_arn(name),
        "Runtime": runtime,
        "Role": ROLE,
        "Handler": handler,
        "CodeSize": 0,
        "Description": "",
        "Timeout": max(1, int(round(timeout_s))),
        "MemorySize": memory_mb,
        "LastModified": _STARTED,
        "CodeSha256": "",
        "Version": LATEST,
        "PackageType": "Zip",
        "Architectures": [_architecture()],
        "State": "Active",
        "LastUpdateStatus": "Successful",
    }


def list_functions(configs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every function in one page (a local registry is small: no Marker, no NextMarker)."""
    return {"Functions": [configs[name] for name in sorted(configs)]}


def get_function(config: dict[str, Any]) -> dict[str, Any]:
    return {"Configuration": config, "Code": {"RepositoryType": "S3"}, "Tags": {}}
