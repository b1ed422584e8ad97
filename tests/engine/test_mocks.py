"""Tests of the program-test harness (``tests/engine/mocks.py``) with the toy provider."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from tests.engine import UNKNOWN, Secret
from tests.engine.mocks import ProgramCheckError, ProviderMocks, run_program
from tests.engine.toy_provider import Item, RawItem, Store

PROGRAM = Path(__file__).parent / "programs" / "toy" / "__main__.py"


@pytest.fixture
def mocks(tmp_path: Path) -> ProviderMocks:
    return ProviderMocks(
        {
            "toy:dataDir": str(tmp_path),
            "toy:token": Secret("tok"),
            "test-project:firstName": "alpha",
            "test-project:password": Secret("pw"),
        },
        stack_references={"org/other/prod": {"endpoint": "http://other", "key": Secret("k")}},
    )


def test_program_runs_real_provider_and_exports_resolve(
    mocks: ProviderMocks, tmp_path: Path
) -> None:
    result = run_program(PROGRAM, mocks)
    store = Store(tmp_path).read()
    first = result.resources["first"]
    assert first.type == "pulumi-python:dynamic/toy:Item"
    assert store["items"][first.id]["name"] == "alpha"
    assert result.exports["first_id"] == first.id
    assert result.exports["first_note"] == "item alpha"
    assert result.exports["second_value"] == first.id  # an output fed into another resource
    assert result.exports["other_endpoint"] == "http://other"
    assert result.exports["static"] == {"n": 1, "l": [1, 2]}
    assert result.exports["password"] == "pw" and result.secret_exports == {"password"}
    assert result.unknown_exports == set()
    # configure ran in-process with the stack config, secrets unwrapped.
    assert store["configured"][-1]["token"] == "tok"


def test_program_preview_creates_nothing(mocks: ProviderMocks, tmp_path: Path) -> None:
    result = run_program(PROGRAM, mocks, preview=True)
    assert Store(tmp_path).read()["items"] == {}
    assert result.exports["first_id"] == UNKNOWN
    assert {"first_id", "first_note", "second_value"} <= result.unknown_exports
    assert result.exports["other_endpoint"] == "http://other"


def test_program_by_module_name_and_destroy(mocks: ProviderMocks, tmp_path: Path) -> None:
    run_program("tests.engine.programs_module", mocks)
    assert len(Store(tmp_path).read()["items"]) == 1
    mocks.destroy()
    assert Store(tmp_path).read()["items"] == {}


def test_secret_inputs_give_secret_outputs(mocks: ProviderMocks) -> None:
    def program() -> None:
        item = Item("s", name="s", value=pulumi.Output.secret("hush"))
        pulumi.export("value", item.value)
        pulumi.export("note", item.note)

    result = run_program(program, mocks)
    assert result.exports == {"value": "hush", "note": "item s"}
    assert result.secret_exports == {"value"}


def test_check_failure_and_provider_error_propagate(mocks: ProviderMocks) -> None:
    with pytest.raises(ProgramCheckError, match="name must be a non-empty string"):
        run_program(lambda: Item("bad", name=""), mocks)

    def failing() -> None:
        Item("boom", name="boom", value=None, opts=None)
        raise RuntimeError("program failed")

    with pytest.raises(RuntimeError, match="program failed"):
        run_program(failing, mocks)


def test_provider_error_stops_provider_calls(mocks: ProviderMocks, tmp_path: Path) -> None:
    def program() -> None:
        broken = RawItem("broken", {"name": "b", "fail_on": "create"})
        Item("after", name="after", value=broken.id)

    with pytest.raises(ValueError, match="toy create failed for b"):
        run_program(program, mocks)
    assert Store(tmp_path).read()["items"] == {}  # nothing created after the failure
    assert mocks.resources == {}
