"""README.md's resource reference tables are what the code says (scripts/gen_reference.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_reference", ROOT / "scripts" / "gen_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_reference", module)
    spec.loader.exec_module(module)
    return module


gen_reference = load_script()


def test_readme_reference_tables_match_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    fresh = gen_reference.render(readme)
    assert fresh == readme, (
        "README.md's reference tables differ from the code; run "
        "`.venv/bin/python scripts/gen_reference.py` and commit README.md"
    )


def test_every_public_resource_has_a_reference_block() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in gen_reference.resource_classes():
        assert f"<!-- reference:{name}:start -->" in readme
        assert f"<!-- reference:{name}:end -->" in readme


def test_a_missing_or_unknown_block_is_an_error_that_says_what_to_add() -> None:
    with pytest.raises(gen_reference.ReferenceError, match=r"no reference block for .*Tag"):
        gen_reference.render("no markers here")
    bogus = "<!-- reference:Nope:start -->\n<!-- reference:Nope:end -->"
    with pytest.raises(gen_reference.ReferenceError, match="unknown resources: \\['Nope'\\]"):
        gen_reference.render(bogus)


def test_tables_state_replacement_and_descriptions_from_the_args_models() -> None:
    from pulumi_customvision.tag import Tag, TagArgs

    block = gen_reference.render_block(Tag)
    project_row = next(line for line in block.splitlines() if line.startswith("| `project_id`"))
    assert "| replaces |" in project_row
    assert TagArgs.model_fields["project_id"].description in project_row
    name_row = next(line for line in block.splitlines() if line.startswith("| `name`"))
    assert "| in place |" in name_row and "| required |" in name_row
    assert "| `image_count` | `int` | Number of images with this tag" in block


def test_check_mode_reports_a_stale_readme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "README.md"
    stale.write_text((ROOT / "README.md").read_text().replace("| replaces |", "| in place |", 1))
    assert gen_reference.main(["--check", "--readme", str(stale)]) == 1
    assert "run `.venv/bin/python scripts/gen_reference.py`" in capsys.readouterr().err
    assert gen_reference.main(["--readme", str(stale)]) == 0
    assert gen_reference.main(["--check", "--readme", str(stale)]) == 0
