"""The shell functions, as data: bash handlers on the custom runtime (lambdasmith/shell/runtime),
each behind a Function URL. Locally every example is a function of its own, served by
`lambdasmith serve shell` (BASE+2, /{function}/…) and the Invoke API; deploy/shell/template.yaml
deploys one function whose ShellHandler parameter picks the example. LAMBDASMITH_SHELL_FUNCTIONS
replaces these with a configuration file (lambdasmith.local.function_urls)."""

from __future__ import annotations

from lambdasmith.manifest import FUNCTION_URL, Function, Service

__all__ = ["SERVICE", "EXAMPLES_DIR"]

EXAMPLES_DIR = "shell/examples"  # the handlers' task root, relative to the lambdasmith package
_ENV = ("GITHUB_API_URL", "GITHUB_TOKEN_SECRET")  # what the template sets, whichever handler it runs (GITHUB_TOKEN: locally)


def _example(name: str, **local_env: str) -> Function:
    return Function(name=name, handler=f"{name}.run", runtime="shell", payload=FUNCTION_URL, port_offset=2,
                    resource="ShellFunction", env=_ENV, local_env=local_env, local_timeout_s=10)  # fmt: skip


SERVICE = Service(
    name="shell",
    template="deploy/shell/template.yaml",
    functions=(
        _example("health"),
        _example("echo_request"),
        _example("github_traffic", GITHUB_API_URL="https://api.github.com"),
    ),
)
