"""Typed settings: each knob of a service is declared once, with its name, type, variable and default.

    class WardrobeConfig(Settings):
        table = text("WARDROBE_TABLE", "wardrobe")
        max_receive_count = integer("WARDROBE_MAX_RECEIVE_COUNT", 3)
        jwt_issuer = optional_text("WARDROBE_JWT_ISSUER")  # None unless set
        jwt_leeway_s = integer(default=120)  # no variable: a constant, changed only by value

    WardrobeConfig.from_env()                          # every variable read once, from os.environ
    WardrobeConfig.from_env(env, data_dir="/tmp/x")    # values given win over the environment
    WardrobeConfig(data_dir="/tmp/x")                  # the defaults, no environment at all
    config.replace(table="other")                      # a changed copy

A variable set to the empty string counts as unset (templates often pass "" for "not given").
A value that does not parse raises `SettingError` naming the variable, at start-up, not on the
request that first needs it. Values passed by keyword are taken as they are, not parsed.

Why not dataclasses, typing or a settings library: a handler builds its config at cold start, and
importing `dataclasses` or `typing` costs ~10 ms each there (see kit/values.py). The declaration
functions below are typed as returning the field's value (`text(...) -> str`), the same white lie
`dataclasses.field()` tells, so type checkers see `config.table` as a `str` while at run time the
class keeps a `Setting` and instances hold plain values in slots.
"""

from __future__ import annotations

import os

from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, Self

__all__ = ["Setting", "SettingError", "Settings", "boolean", "integer", "number", "optional_text", "secure_url", "text",
           "url"]


class SettingError(ValueError):
    """An environment variable holds a value its setting cannot read."""


class Setting:
    """One knob: the variable it is read from (None: set by value only), its default, its parser.

    `when_unset(env)`, if given, computes the default from the whole environment (e.g. a data
    directory that differs on Lambda) when the variable is unset; `default` stays the value a
    config built without an environment gets.
    """

    __slots__ = ("env", "default", "parse", "kind", "when_unset")

    def __init__(self, env: str | None, default: Any, parse: Callable[[str], Any], kind: str,
                 when_unset: Callable[[Mapping[str, str]], Any] | None = None) -> None:  # fmt: skip
        self.env = env
        self.default = default
        self.parse = parse
        self.kind = kind
        self.when_unset = when_unset

    def read(self, env: Mapping[str, str]) -> Any:
        raw = env.get(self.env) if self.env else None
        if not raw:
            return self.when_unset(env) if self.when_unset is not None else self.default
        try:
            return self.parse(raw)
        except ValueError:
            raise SettingError(f"{self.env}={raw!r}: expected {self.kind}") from None

    def __repr__(self) -> str:
        return f"Setting({self.env!r}, {self.default!r}, kind={self.kind!r})"


# ---------------------------------------------------------------------- declarations


def text(env: str | None = None, default: str = "", *,
         when_unset: Callable[[Mapping[str, str]], str] | None = None) -> str:  # fmt: skip
    return Setting(env, default, str, "text", when_unset)  # type: ignore[return-value]


def url(env: str | None = None, default: str = "") -> str:
    """A base URL; trailing slashes are dropped so that `base + "/path"` has one slash."""
    return Setting(env, default.rstrip("/"), _url, "a URL")  # type: ignore[return-value]


def secure_url(env: str | None = None, default: str = "", *, query: bool = True) -> str:
    """A URL to trust (an issuer, a key set): https, or http on loopback (kit.http.secure_url),
    trailing slashes dropped. Checked when set, so a wrong one stops start-up, not a request."""

    def parse(raw: str) -> str:
        from lambdasmith.kit.http.secure_url import check_url

        return check_url(raw.rstrip("/"), "the URL", query=query)

    kind = "an https URL (http only on loopback)" + ("" if query else " without query or fragment")
    return Setting(env, default.rstrip("/"), parse, kind)  # type: ignore[return-value]


def optional_text(env: str | None = None, default: str | None = None) -> str | None:
    return Setting(env, default, str, "text")  # type: ignore[return-value]


def integer(env: str | None = None, default: int = 0) -> int:
    return Setting(env, default, int, "a whole number")  # type: ignore[return-value]


def number(env: str | None = None, default: float = 0.0) -> float:
    return Setting(env, float(default), float, "a number")  # type: ignore[return-value]


def boolean(env: str | None = None, default: bool = False) -> bool:
    return Setting(env, default, _boolean, "true or false (1/0, yes/no, on/off)")  # type: ignore[return-value]


def _url(raw: str) -> str:
    return raw.rstrip("/")


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _boolean(raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(raw)


# ---------------------------------------------------------------------- the base


class _Declared(type):
    """Turns the `Setting`s of a class body into slots, and keeps them for `from_env`."""

    def __new__(mcs, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> _Declared:
        declared = {k: v for k, v in ns.items() if isinstance(v, Setting)}
        if not declared:  # the base itself, or a subclass that only adds methods
            return super().__new__(mcs, name, bases, ns)
        if any(getattr(b, "_settings", None) for b in bases):
            raise TypeError(f"{name}: declare every setting in one class, not in a subclass")
        for k in declared:
            del ns[k]
        ns["__slots__"] = tuple(declared)
        ns["_settings"] = declared
        ns["_defaults"] = {k: s.default for k, s in declared.items()}
        return super().__new__(mcs, name, bases, ns)


class Settings(Record, metaclass=_Declared):
    """An immutable config whose fields are declared with the functions above (see the module)."""

    __slots__ = ()
    _settings: dict[str, Setting] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **values: Any) -> Self:
        """Every setting from `env` (default os.environ), except those given in `values`."""
        if env is None:
            env = os.environ
        unknown = sorted(set(values) - set(cls._settings))
        if unknown:
            raise TypeError(f"{cls.__name__} has no setting {', '.join(unknown)}")
        read = {name: s.read(env) for name, s in cls._settings.items() if name not in values}
        return cls(**read, **values)

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Environment variable → the field it sets (for docs, templates and their tests)."""
        return {s.env: name for name, s in cls._settings.items() if s.env}

    def replace(self, **changes: Any) -> Self:
        unknown = sorted(set(changes) - set(self._settings))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(unknown)}")
        return type(self)(**{**{n: getattr(self, n) for n in self._settings}, **changes})
