"""deploy/systemd/: the unit files pass `systemd-analyze verify` and hold the settings the
self-hosting guide (docs/self-hosting.md) describes; every LAMBDASMITH_ variable in the guide's
tables is one the package reads."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
UNIT_FILES = ("lambdasmith.service", "lambdasmith-backup.service", "lambdasmith-backup.timer")
GUIDE = ROOT / "docs" / "self-hosting.md"
PACKAGE = ROOT / "lambdasmith"
INSTALLED = "/usr/local/bin/lambdasmith"  # where the guide installs it; the units' ExecStart
DRAIN_TIMEOUT_S = 30  # LAMBDASMITH_DRAIN_TIMEOUT_S's default


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file, each a list of (key, value) in order (keys repeat in units)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    lines = iter(text.splitlines())
    for line in lines:
        while line.endswith("\\"):  # a continued line
            line = line[:-1] + " " + next(lines, "")
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1], [])
            continue
        key, sep, value = stripped.partition("=")
        assert sep and current is not None, f"not a unit line: {line!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    found = values(unit, section, key)
    assert len(found) == 1, f"[{section}] {key}= set {len(found)} times"
    return found[0]


def environment(unit: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in values(unit, "Service", "Environment"):
        for assignment in shlex.split(line):
            name, _, value = assignment.partition("=")
            out[name] = value
    return out


def writable(unit: dict[str, list[tuple[str, str]]]) -> list[Path]:
    paths = [p.lstrip("-+") for line in values(unit, "Service", "ReadWritePaths") for p in line.split()]
    return [Path(p) for p in paths]


def seconds(value: str) -> float:
    """A systemd time span as used here: `45`, `45s`, `2min`, `1min 30s`."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


@pytest.fixture(scope="module")
def units() -> dict[str, dict[str, list[tuple[str, str]]]]:
    return {name: parse_unit((UNITS / name).read_text(encoding="utf-8")) for name in UNIT_FILES}


# ------------------------------------------------------------------ systemd-analyze verify


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian/Ubuntu: the systemd package)")
    # verify checks that ExecStart's program exists: point it at this venv's `lambdasmith`.
    script = Path(sys.prefix) / "bin" / "lambdasmith"
    assert script.is_file(), f"{script} missing: is the project installed in this venv (uv sync)?"
    for name in UNIT_FILES:
        text = (UNITS / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(INSTALLED, str(script)), encoding="utf-8")
    proc = subprocess.run([analyze, "verify", *(str(tmp_path / n) for n in UNIT_FILES)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    # verify exits 0 on settings it ignores with a warning: a line about our files is a failure too.
    ours = [line for line in (proc.stdout + proc.stderr).splitlines() if any(n in line for n in UNIT_FILES)]
    assert proc.returncode == 0 and not ours, proc.stdout + proc.stderr


# ------------------------------------------------------------------ the serve unit


def test_service_runs_lambdasmith_serve(units) -> None:
    argv = shlex.split(one(units["lambdasmith.service"], "Service", "ExecStart"))
    assert argv[0] == INSTALLED
    assert argv[1] == "serve"
    assert argv[2:] == ["badges"]  # the guide: self-hosting badges only


def test_service_stops_after_draining(units) -> None:
    unit = units["lambdasmith.service"]
    assert one(unit, "Service", "KillSignal") == "SIGTERM"
    assert one(unit, "Service", "KillMode") == "mixed"  # SIGTERM to the main process, which drains
    assert seconds(one(unit, "Service", "TimeoutStopSec")) > DRAIN_TIMEOUT_S
    assert one(unit, "Service", "Restart") == "on-failure"


def test_service_writes_only_its_data_dir(units) -> None:
    unit = units["lambdasmith.service"]
    data_dir = Path(environment(unit)["LAMBDASMITH_DATA_DIR"])
    assert data_dir.is_absolute()
    assert any(data_dir.is_relative_to(p) for p in writable(unit)), "ReadWritePaths= misses the data dir"
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert Path("/var/lib", one(unit, "Service", "StateDirectory")) == data_dir
    assert one(unit, "Service", "StateDirectoryMode") == "0700"


def test_service_hardening(units) -> None:
    unit = units["lambdasmith.service"]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices"):
        assert one(unit, "Service", key) == "yes", key
    assert one(unit, "Service", "User") == "lambdasmith"
    assert one(unit, "Service", "UMask") == "0077"
    assert one(unit, "Service", "CapabilityBoundingSet") == ""


def test_service_environment_file_is_optional_and_wins(units) -> None:
    unit = units["lambdasmith.service"]
    assert one(unit, "Service", "EnvironmentFile") == "-/etc/lambdasmith/env"
    env = environment(unit)
    assert env["LAMBDASMITH_HOST"] == "127.0.0.1"
    assert env["LAMBDASMITH_PORT"] == "8000"
    assert env["LAMBDASMITH_TRUSTED_PROXIES"] == "127.0.0.1"


# ------------------------------------------------------------------ the backup pair


def test_backup_service_backs_up_the_same_data_dir(units) -> None:
    serve, backup = units["lambdasmith.service"], units["lambdasmith-backup.service"]
    assert one(backup, "Service", "Type") == "oneshot"
    assert one(backup, "Service", "User") == one(serve, "Service", "User")
    data_dir = Path(environment(backup)["LAMBDASMITH_DATA_DIR"])
    assert data_dir == Path(environment(serve)["LAMBDASMITH_DATA_DIR"])
    command = one(backup, "Service", "ExecStart")
    assert f"{INSTALLED} backup " in command
    quoted = re.search(r'backup "([^"]+)"', command)
    assert quoted, f"the backup's target is not one quoted path: {command}"
    target = Path(quoted.group(1))
    paths = writable(backup)
    assert any(data_dir.is_relative_to(p) for p in paths)  # reading a WAL database writes its -shm
    assert any(target.parent.is_relative_to(p) for p in paths)
    assert one(backup, "Service", "ProtectSystem") == "strict"
    assert "$$(date" in command and "%%" in command  # systemd's escapes, so the shell gets $( and %


def test_backup_timer_is_daily_and_catches_up(units) -> None:
    timer = units["lambdasmith-backup.timer"]
    assert one(timer, "Timer", "OnCalendar")
    assert one(timer, "Timer", "Persistent") == "true"
    assert one(timer, "Install", "WantedBy") == "timers.target"


# ------------------------------------------------------------------ the guide does not drift


def guide_table_variables() -> list[str]:
    """Every LAMBDASMITH_ name in a table row of the guide."""
    rows = [line for line in GUIDE.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("|")]
    return sorted({name for row in rows for name in re.findall(r"\bLAMBDASMITH_[A-Z0-9_]*[A-Z0-9]\b", row)})


@cache
def package_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(PACKAGE.rglob("*")) if p.is_file()
                     and p.suffix in (".py", ".sh", ".json", "") and "__pycache__" not in p.parts)  # fmt: skip


def test_guide_has_settings_tables() -> None:
    assert len(guide_table_variables()) >= 10


@pytest.mark.parametrize("name", guide_table_variables())
def test_guide_variable_is_read_by_the_package(name: str) -> None:
    named = re.search(rf"\b{name}\b", package_text()) is not None
    assert named, f"docs/self-hosting.md documents {name}; lambdasmith/ never names it"


def test_unit_variables_are_in_the_guide(units) -> None:
    documented = set(guide_table_variables())
    for name in UNIT_FILES[:2]:
        for var in environment(units[name]):
            assert var in documented, f"{name} sets {var}, which docs/self-hosting.md's tables do not list"
