"""Every service of the project, by its manifest (`lambdasmith/<service>/service.py`).

The one list of functions: the local platform (`serve`, the Invoke API, `lambdasmith invoke`,
the queue pump), the import guard and deploy/build.py all read it. Pure data, standard library
only (deploy/build.py imports it with a bare python3).
"""

from __future__ import annotations

from lambdasmith.badges.service import SERVICE as BADGES
from lambdasmith.items.service import SERVICE as ITEMS
from lambdasmith.shell.service import SERVICE as SHELL
from lambdasmith.wardrobe.service import SERVICE as WARDROBE

__all__ = ["SERVICES", "function", "python_functions", "service"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdasmith.manifest import Function, Service

SERVICES: tuple[Service, ...] = (BADGES, WARDROBE, ITEMS, SHELL)


def service(name: str) -> Service:
    for svc in SERVICES:
        if svc.name == name:
            return svc
    raise KeyError(f"no service {name!r}")


def python_functions() -> dict[str, Function]:
    """The Python functions of every service, by local name (the Invoke API's registry)."""
    return {fn.name: fn for svc in SERVICES for fn in svc.functions if fn.runtime == "python"}


def function(name: str) -> tuple[Service, Function]:
    """The service and function of a local function name (KeyError when none has it)."""
    for svc in SERVICES:
        for fn in svc.functions:
            if fn.name == name:
                return svc, fn
    raise KeyError(f"no function {name!r}")
