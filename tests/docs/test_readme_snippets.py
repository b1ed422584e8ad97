"""Every ```python block of README.md runs, as a Pulumi program, against the emulator.

A block is a program on its own, unless an HTML comment right before it says otherwise:

* ``<!-- snippet: continues -->``: the block continues the previous runnable block (it is
  run after that block's program, as one program), so that the README can build a
  program section by section;
* ``<!-- snippet: not-runnable (why) -->``: a fragment that cannot run; kept rare.

Programs run under ``pulumi.runtime.set_mocks`` with the real providers
(``tests/engine/mocks.py``) and the repository root as working directory, with the default
profile at the test emulator and the ``prod`` profile at a second one (emulators share
their exports, so the second imports what the first exported, as Azure accounts do).
Every export must resolve to a value.

The README's shell commands are checked where they are facts of this repository: the
set-up and test commands, and the quick start's order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from customvision_emulator.testing import DEFAULT_TRAINING_KEY, RunningEmulator
from tests.engine.mocks import ProviderMocks
from tests.examples.support import ROOT, run_example

README = (ROOT / "README.md").read_text()
PREDICTION_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/docs/providers/"
    "Microsoft.CognitiveServices/accounts/docs-prediction"
)
_BLOCK = re.compile(
    r"(?:<!-- snippet: (?P<mark>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)\n```", re.DOTALL
)
MAX_NOT_RUNNABLE = 3


@dataclass(frozen=True)
class Snippet:
    """A runnable README block: its line, its own code and the program it runs in."""

    line: int
    code: str
    program: str


def _snippets() -> tuple[list[Snippet], list[int]]:
    runnable: list[Snippet] = []
    not_runnable: list[int] = []
    for match in _BLOCK.finditer(README):
        if match.group("lang") != "python":
            continue
        line = README.count("\n", 0, match.start("code"))
        mark = (match.group("mark") or "").strip()
        code = match.group("code")
        if mark.startswith("not-runnable"):
            not_runnable.append(line)
        elif mark == "continues":
            assert runnable, f"README.md line {line}: `continues` needs a block before it"
            runnable.append(Snippet(line, code, runnable[-1].program + "\n\n" + code))
        elif mark:
            pytest.fail(f"README.md line {line}: unknown snippet mark {mark!r}")
        else:
            runnable.append(Snippet(line, code, code))
    return runnable, not_runnable


SNIPPETS, NOT_RUNNABLE = _snippets()


def test_the_readme_has_runnable_snippets_and_few_fragments() -> None:
    assert len(SNIPPETS) >= 5
    assert len(NOT_RUNNABLE) <= MAX_NOT_RUNNABLE, f"not-runnable blocks at {NOT_RUNNABLE}"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"line{s.line}" for s in SNIPPETS])
def test_readme_snippet_runs_against_the_emulator(
    snippet: Snippet,
    customvision_emulator: RunningEmulator,
    prod_emulator: RunningEmulator,
    tmp_path: Path,
) -> None:
    program_dir = tmp_path / "readme"
    program_dir.mkdir()
    (program_dir / "__main__.py").write_text(snippet.program)
    (program_dir / "Pulumi.yaml").write_text("name: readme\nruntime: python\n")
    profiles = {"prod": {"endpoint": prod_emulator.url, "trainingKey": DEFAULT_TRAINING_KEY}}
    mocks = ProviderMocks(
        {
            "customvision:endpoint": customvision_emulator.url,
            "customvision:trainingKey": DEFAULT_TRAINING_KEY,
            "customvision:profiles": json.dumps(profiles),
            "readme:predictionResourceId": PREDICTION_ID,
        },
        project="readme",
        stack="dev",
    )
    # The program's relative paths (the example dataset) start at the repository root.
    result, _ = run_example(program_dir, {}, mocks=mocks, cwd=ROOT)
    assert result.exports, "a snippet exports what it makes"
    assert all(v is not None for v in result.exports.values()), result.exports
    assert customvision_emulator.admin.state()["projects"], "the snippet made a project"
    mocks.destroy()


def test_the_set_up_and_test_commands_are_the_projects() -> None:
    section = README.split("## Set up and test", 1)[1]
    block = re.search(r"```bash\n(.*?)\n```", section, re.DOTALL)
    assert block is not None
    assert block.group(1).splitlines() == [
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'",
        ".venv/bin/python -m pytest",
    ]
    assert ".venv/bin/python -m pytest" in (ROOT / ".ci" / "run").read_text()


def test_the_quick_start_is_set_up_emulator_login_stack_up() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)\n```", section, re.DOTALL)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'",
        ".venv/bin/customvision-emulator &",
        "export PULUMI_CONFIG_PASSPHRASE=quickstart",
        "pulumi login --local",
        "pulumi stack init dev",
        "pulumi up",
    ]
