"""Value objects without `dataclasses` or `typing`: importing either costs a Lambda cold start
about 10 ms on its own, so modules on a handler's import path build records on this instead."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Record"]


class Record:
    """An immutable record: subclasses list their fields in `__slots__` (and may annotate them),
    defaults in `_defaults` (a callable default is a factory). Equality, hash and repr by field."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self.__slots__
        defaults = getattr(type(self), "_defaults", {})
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes {len(names)} arguments")
        values = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in names or k in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated argument {k!r}")
            values[k] = v
        for n in names:
            if n in values:
                v = values[n]
            elif n in defaults:
                d = defaults[n]
                v = d() if callable(d) else d
            else:
                raise TypeError(f"{type(self).__name__} missing argument {n!r}")
            object.__setattr__(self, n, v)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _astuple(self) -> tuple:
        return tuple(getattr(self, n) for n in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(_freeze(v) for v in self._astuple())))

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({args})"


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v
