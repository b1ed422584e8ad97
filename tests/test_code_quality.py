"""The code quality gates run as tests, so that the README's one test command covers them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

GATES = {
    "ruff check": [sys.executable, "-m", "ruff", "check", "."],
    "ruff format --check": [sys.executable, "-m", "ruff", "format", "--check", "."],
    "mypy provider/": [sys.executable, "-m", "mypy", "provider/"],
}


@pytest.mark.parametrize("gate", sorted(GATES))
def test_quality_gate_is_clean(gate: str) -> None:
    result = subprocess.run(
        GATES[gate], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{gate} failed:\n{result.stdout}\n{result.stderr}"
