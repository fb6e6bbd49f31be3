"""The badges-push composite action never splices an expression into a shell script.

`${{ … }}` inside `run:` is substituted into the script's text before bash parses it, so an input
(or a secret) containing `"; curl … #` would run as code. Inputs must arrive through `env:`.
PyYAML is not a project dependency: the checks read the raw text, which is what the runner splices.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ACTION = Path(__file__).resolve().parents[2] / ".github" / "actions" / "badges-push" / "action.yml"
INPUTS = {"url", "secret", "oidc", "audience", "junit", "trx", "platform", "branch", "signature-version"}

_RUN_KEY = re.compile(r"^(?P<lead>\s*(?:-\s+)?)run:(?P<rest>.*)$")


def run_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, script) of every `run:` value: the rest of its line plus every following line
    indented deeper than the key — that covers `|`/`>` block scalars and folded plain scalars."""
    lines = text.splitlines()
    blocks: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        m = _RUN_KEY.match(line)
        if not m:
            continue
        key_col = len(m.group("lead"))
        body = [m.group("rest")]
        for nxt in lines[i + 1 :]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= key_col:
                break
            body.append(nxt)
        blocks.append((i + 1, "\n".join(body)))
    return blocks


def expressions_in_run(text: str) -> list[int]:
    return [line for line, script in run_blocks(text) if "${{" in script]


def declared_inputs(text: str) -> set[str]:
    section = re.search(r"^inputs:\n((?:[ \t]+.*\n|\n)*)", text, re.M)
    assert section, "action.yml has no inputs: section"
    return set(re.findall(r"^  ([A-Za-z0-9_-]+):", section.group(1), re.M))


@pytest.fixture(scope="module")
def action() -> str:
    return ACTION.read_text(encoding="utf-8")


def test_no_run_script_contains_an_expression(action: str) -> None:
    blocks = run_blocks(action)
    assert len(blocks) == 2, "expected the install and the push steps"
    assert expressions_in_run(action) == []


@pytest.mark.parametrize(
    "bad",
    [
        "steps:\n  - shell: bash\n    run: echo ${{ inputs.url }}\n",
        "steps:\n  - shell: bash\n    run: |\n      set -e\n"
        "      lambdasmith badges push --secret '${{ secrets.X }}'\n",
        "steps:\n  - run: >\n      echo\n      ${{ inputs.junit }}\n    shell: bash\n",
        "steps:\n  - shell: bash\n    run: echo one\n      ${{ inputs.trx }}\n",
    ],
)
def test_the_check_catches_an_expression_in_a_script(bad: str) -> None:
    assert expressions_in_run(bad) != []


def test_expressions_in_env_are_not_mistaken_for_scripts() -> None:
    good = (
        "steps:\n  - shell: bash\n    env:\n      X: ${{ inputs.url }}\n"
        "    run: |\n      echo \"$X\"\n  - name: n\n"
    )
    assert len(run_blocks(good)) == 1 and expressions_in_run(good) == []


def test_inputs_are_declared_used_and_reach_the_script_only_quoted(action: str) -> None:
    assert declared_inputs(action) == INPUTS
    used = set(re.findall(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", action))
    assert used == INPUTS
    assert "secrets." not in action, "an action receives secrets as inputs"
    scripts = "\n".join(script for _, script in run_blocks(action))
    refs = re.findall(r"(.)\$\{?INPUT_", scripts)
    assert refs and set(refs) == {'"'}, "every $INPUT_* must be double-quoted"


def test_every_run_step_names_its_shell(action: str) -> None:
    # composite actions require `shell:` on each run step
    assert len(re.findall(r"^\s+shell: bash$", action, re.M)) == len(run_blocks(action))


def test_the_secret_is_handed_over_in_the_environment_never_as_an_argument(action: str) -> None:
    assert re.search(r"^\s+BADGES_SECRET: \$\{\{ inputs\.secret \}\}$", action, re.M)
    scripts = "\n".join(script for _, script in run_blocks(action))
    assert "--secret" not in scripts and "BADGES_SECRET" not in scripts


def input_block(text: str, name: str) -> str:
    """The lines of one input's mapping, as text (its description, required, default)."""
    section = re.search(rf"^  {re.escape(name)}:\n((?:    .*\n)*)", text, re.M)
    assert section, f"no input {name}"
    return section.group(1)


def test_with_oidc_no_secret_is_required(action: str) -> None:
    assert re.search(r"^    required: false$", input_block(action, "secret"), re.M)
    assert re.search(r"^    default: 'false'$", input_block(action, "oidc"), re.M)
    assert re.search(r"^    default: lambdasmith-badges$", input_block(action, "audience"), re.M)
    for name in ("oidc", "audience"):
        env = name.upper()
        assert re.search(rf"^\s+INPUT_{env}: \$\{{\{{ inputs\.{name} \}}\}}$", action, re.M), name


def push_script(action: str) -> str:
    _, script = run_blocks(action)[-1]
    first, _, rest = script.partition("\n")
    assert first.strip() == "|"
    return textwrap.dedent(rest)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    "oidc, expected",
    [
        ("true", ["--oidc", "--audience", "aud ience", "--junit", "r/*.xml"]),
        ("false", ["--signature-version", "2", "--junit", "r/*.xml"]),
        ("", ["--signature-version", "2", "--junit", "r/*.xml"]),
    ],
)
def test_the_push_step_passes_oidc_and_audience_as_flags(action: str, tmp_path: Path, oidc: str,
                                                         expected: list[str]) -> None:
    """The real script, run by bash against a stand-in `lambdasmith` that prints its arguments."""
    fake = tmp_path / "lambdasmith"
    fake.write_text("#!/bin/sh\nshift 2\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n")
    fake.chmod(0o755)
    env = {
        "PATH": "/usr/bin:/bin", "BADGES_BIN": str(tmp_path), "INPUT_OIDC": oidc, "INPUT_AUDIENCE": "aud ience",
        "INPUT_SIGNATURE_VERSION": "2", "INPUT_JUNIT": "r/*.xml\n", "INPUT_TRX": "", "INPUT_PLATFORM": "",
        "INPUT_BRANCH": "",
    }
    result = subprocess.run(["bash", "-c", push_script(action)], env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected
    if oidc != "true":
        return
    env["INPUT_OIDC"] = "yes"
    result = subprocess.run(["bash", "-c", push_script(action)], env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1 and "oidc input must be true or false" in result.stdout
