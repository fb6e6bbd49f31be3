"""kit/settings.py: one declaration per knob; values from the environment, by keyword, or defaults."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from lambdasmith.kit.settings import (
    Setting,
    SettingError,
    Settings,
    boolean,
    integer,
    number,
    optional_text,
    secure_url,
    text,
    url,
)


def _lambda_dir(env):
    return "/tmp/on-lambda" if env.get("AWS_LAMBDA_FUNCTION_NAME") else "here"


class Demo(Settings):
    name = text("DEMO_NAME", "demo")
    data_dir = text("DEMO_DATA_DIR", "here", when_unset=_lambda_dir)
    base = url("DEMO_BASE", "https://example.test/")
    count = integer("DEMO_COUNT", 3)
    ratio = number("DEMO_RATIO", 2)
    enabled = boolean("DEMO_ENABLED")
    issuer = optional_text("DEMO_ISSUER")
    budget = integer(default=2000)  # no variable


def test_defaults_when_the_environment_is_empty():
    d = Demo.from_env({})
    assert (d.name, d.data_dir, d.base, d.count, d.ratio, d.enabled, d.issuer, d.budget) == (
        "demo", "here", "https://example.test", 3, 2.0, False, None, 2000)  # fmt: skip
    assert type(d.ratio) is float  # a number's default is a float even when written as an int


def test_every_kind_reads_its_variable():
    env = {"DEMO_NAME": "x", "DEMO_DATA_DIR": "/d", "DEMO_BASE": "http://h:1//", "DEMO_COUNT": " 7 ",
           "DEMO_RATIO": "0.5", "DEMO_ENABLED": "Yes", "DEMO_ISSUER": "iss"}  # fmt: skip
    d = Demo.from_env(env)
    assert (d.name, d.data_dir, d.base, d.count, d.ratio, d.enabled, d.issuer) == ("x", "/d", "http://h:1", 7, 0.5, True, "iss")


@pytest.mark.parametrize("raw, value", [("1", True), ("true", True), ("ON", True), ("0", False), ("no", False), ("Off", False)])
def test_boolean_words(raw, value):
    assert Demo.from_env({"DEMO_ENABLED": raw}).enabled is value


def test_an_empty_variable_counts_as_unset():
    env = dict.fromkeys(("DEMO_NAME", "DEMO_DATA_DIR", "DEMO_COUNT", "DEMO_ENABLED", "DEMO_ISSUER"), "")
    assert Demo.from_env(env) == Demo.from_env({})


@pytest.mark.parametrize("var, raw, kind", [("DEMO_COUNT", "3.5", "a whole number"), ("DEMO_RATIO", "fast", "a number"),
                                            ("DEMO_ENABLED", "maybe", "true or false")])  # fmt: skip
def test_a_bad_value_names_its_variable(var, raw, kind):
    with pytest.raises(SettingError, match=f"^{var}='{raw}': expected {kind}"):
        Demo.from_env({var: raw})
    assert issubclass(SettingError, ValueError)


class Trusting(Settings):
    issuer = secure_url("DEMO_ISSUER_URL", "https://issuer.example/", query=False)
    keys = secure_url("DEMO_KEYS_URL")


def test_a_secure_url_is_https_or_http_on_loopback():
    assert Trusting.from_env({}).issuer == "https://issuer.example"
    t = Trusting.from_env({"DEMO_ISSUER_URL": "http://127.0.0.1:8443/", "DEMO_KEYS_URL": "https://k.example/j?v=2"})
    assert (t.issuer, t.keys) == ("http://127.0.0.1:8443", "https://k.example/j?v=2")


@pytest.mark.parametrize("var, raw", [("DEMO_ISSUER_URL", "http://issuer.example"),
                                      ("DEMO_ISSUER_URL", "https://issuer.example/?tenant=1"),
                                      ("DEMO_KEYS_URL", "https://user@k.example"), ("DEMO_KEYS_URL", "ftp://k.example"),
                                      ("DEMO_KEYS_URL", "https://k.example/a b"), ("DEMO_KEYS_URL", "k.example")])  # fmt: skip
def test_a_bad_secure_url_names_its_variable(var, raw):
    with pytest.raises(SettingError, match=rf"^{var}='{re.escape(raw)}': expected an https URL \(http only on loopback\)"):
        Trusting.from_env({var: raw})


def test_when_unset_computes_the_default_from_the_whole_environment():
    assert Demo.from_env({"AWS_LAMBDA_FUNCTION_NAME": "f"}).data_dir == "/tmp/on-lambda"
    assert Demo.from_env({"AWS_LAMBDA_FUNCTION_NAME": "f", "DEMO_DATA_DIR": "/d"}).data_dir == "/d"
    assert Demo().data_dir == "here"  # built by value: the plain default


def test_values_given_win_over_the_environment_and_are_taken_as_they_are():
    d = Demo.from_env({"DEMO_NAME": "env", "DEMO_COUNT": "not a number"}, name="given", count=9)
    assert (d.name, d.count) == ("given", 9)  # the bad variable is never read
    assert Demo.from_env({}, base="http://kept/").base == "http://kept/"


def test_from_env_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("DEMO_NAME", "from-os")
    assert Demo.from_env().name == "from-os"
    assert Demo.from_env(data_dir="/x").data_dir == "/x"


def test_unknown_names_are_refused():
    with pytest.raises(TypeError, match="Demo has no setting nmae"):
        Demo.from_env({}, nmae="x")
    with pytest.raises(TypeError, match="Demo has no setting colour"):
        Demo().replace(colour="red")
    with pytest.raises(TypeError):
        Demo(nmae="x")


def test_built_by_value_with_defaults_for_the_rest():
    d = Demo(name="n", count=1)
    assert (d.name, d.count, d.ratio, d.issuer) == ("n", 1, 2.0, None)


def test_replace_makes_a_changed_copy():
    d = Demo(name="a")
    e = d.replace(count=5)
    assert (e.name, e.count, d.count) == ("a", 5, 3)


def test_immutable_with_equality_hash_and_repr_by_field():
    d = Demo()
    with pytest.raises(AttributeError):
        d.name = "other"  # type: ignore[misc]
    assert d == Demo() and hash(d) == hash(Demo()) and d != d.replace(count=4)
    assert repr(d).startswith("Demo(name='demo', data_dir='here', base='https://example.test', count=3,")


def test_the_class_holds_no_setting_objects_and_instances_no_dict():
    assert Demo.__slots__ == ("name", "data_dir", "base", "count", "ratio", "enabled", "issuer", "budget")
    assert isinstance(Demo._settings["count"], Setting) and Demo._settings["count"].env == "DEMO_COUNT"
    assert not hasattr(Demo(), "__dict__")


def test_variables_lists_each_environment_variable_once():
    assert Demo.variables() == {"DEMO_NAME": "name", "DEMO_DATA_DIR": "data_dir", "DEMO_BASE": "base",
                                "DEMO_COUNT": "count", "DEMO_RATIO": "ratio", "DEMO_ENABLED": "enabled",
                                "DEMO_ISSUER": "issuer"}  # fmt: skip


def test_settings_are_declared_in_one_class():
    with pytest.raises(TypeError, match="declare every setting in one class"):

        class More(Demo):
            extra = text("DEMO_EXTRA")

    class Same(Demo):  # a subclass without new settings is fine
        pass

    assert Same(name="s").name == "s"


def test_importing_settings_loads_no_heavy_module():
    # Configs are built at a handler's cold start (tests/test_import_guard.py has the full list).
    probe = "import sys, json; import lambdasmith.kit.settings; print(json.dumps(sorted(sys.modules)))"
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout))
    assert not {"typing", "dataclasses", "inspect"} & loaded
