"""Every example, run as Pulumi runs it, against the emulator; outputs and service checked.

Each program runs under ``pulumi.runtime.set_mocks`` with its dynamic resources handed to
the real providers (``tests/engine/mocks.py``), with the configuration its own
``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` give (the emulator URL retargeted to the test
emulator). The examples that are about the *next* ``pulumi up`` (a new training promotes
again; a labelling change in review) run several ups on one state (``stateful.py``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from customvision_emulator.settings import DEFAULT_PORT
from customvision_emulator.testing import DEFAULT_TRAINING_KEY, RunningEmulator
from tests.engine import UNKNOWN, Secret
from tests.examples.stateful import StatefulMocks
from tests.examples.support import (
    EXAMPLES,
    ROOT,
    example_config,
    load_project,
    run_example,
)

EXAMPLE_NAMES = ["training-pipeline", "promotion", "cross-stack-promotion", "gitops"]
EMULATOR_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
DATASET = json.loads((EXAMPLES / "dataset" / "labels.json").read_text())
REGION_COUNT = sum(len(boxes) for boxes in DATASET.values())


def projects(emu: RunningEmulator) -> dict[str, dict[str, Any]]:
    """The emulator's projects by name."""
    return {p["name"]: p for p in emu.admin.state()["projects"]}


def regions_of(project: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for image in project["images"] for r in image.get("regions") or []]


def published(project: dict[str, Any]) -> dict[str, str]:
    """Iteration name -> publish name, for the published iterations of a project."""
    return {i["name"]: i["publishName"] for i in project["iterations"] if i.get("publishName")}


def copy_example(name: str, tmp_path: Path) -> Path:
    """A copy of an example and the dataset, to edit (the layout kept: ``../dataset``)."""
    shutil.copytree(EXAMPLES / name, tmp_path / name)
    shutil.copytree(EXAMPLES / "dataset", tmp_path / "dataset")
    return tmp_path / name


def move_first_box(directory: Path) -> None:
    """A labelling change: move the first box of the first image a little to the right."""
    labels_file = directory.parent / "dataset" / "labels.json"
    labels = json.loads(labels_file.read_text())
    first = sorted(labels)[0]
    labels[first][0]["left"] = round(labels[first][0]["left"] + 0.05, 6)
    labels_file.write_text(json.dumps(labels, indent=2))


def check_trained_project(project: dict[str, Any], iteration: str, publish_name: str) -> None:
    assert len(project["images"]) == len(DATASET)
    assert sorted(t["name"] for t in project["tags"]) == ["bolt", "nut"]
    assert len(regions_of(project)) == REGION_COUNT
    completed = [i for i in project["iterations"] if i["status"] == "Completed"]
    assert [i["name"] for i in completed] == [iteration]
    assert published(project) == {iteration: publish_name}


# --------------------------------------------------------------------------- every example


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_is_a_complete_pulumi_project(name: str) -> None:
    directory = EXAMPLES / name
    for required in ("Pulumi.yaml", "__main__.py", "README.md", "requirements.txt"):
        assert (directory / required).is_file(), f"{name} has no {required}"
    project = load_project(directory)
    assert project["name"] == name
    assert project["runtime"]["name"] == "python"
    venv = (directory / project["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == ROOT / ".venv", "the examples run in the set-up command's virtualenv"
    # requirements.txt installs this provider: an editable install of the repository root.
    lines = [
        line.strip()
        for line in (directory / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == ["-e ../.."]
    installed = (directory / "../..").resolve()
    assert 'name = "pulumi-customvision"' in (installed / "pyproject.toml").read_text()
    compile((directory / "__main__.py").read_text(), str(directory / "__main__.py"), "exec")


def test_examples_default_to_the_emulators_well_known_url_and_key() -> None:
    for name in EXAMPLE_NAMES:
        config = example_config(EXAMPLES / name, "dev", {})
        text = json.dumps(config)
        assert DEFAULT_TRAINING_KEY in text or name == "gitops", name
        assert EMULATOR_URL in text or name == "gitops", name


# --------------------------------------------------------------------------- the root project


def test_root_project_runs_the_training_pipeline_against_the_emulator(
    customvision_emulator: RunningEmulator,
) -> None:
    root = load_project(ROOT)
    assert (ROOT / root["main"]).resolve() == EXAMPLES / "training-pipeline"
    assert root["runtime"]["options"]["virtualenv"] == ".venv"
    defaults = example_config(ROOT, "dev", {})
    assert defaults["customvision:endpoint"] == EMULATOR_URL
    assert defaults["customvision:trainingKey"] == DEFAULT_TRAINING_KEY

    result, _ = run_example(ROOT, {"dev": customvision_emulator.url})
    assert result.exports["iteration_name"] == "v1"
    assert result.exports["published_as"] == "parts-detector"
    check_trained_project(projects(customvision_emulator)["parts-detector"], "v1", "parts-detector")


# --------------------------------------------------------------------------- training pipeline


PROGRESS = re.compile(
    r"^pulumi-customvision: waiting for the training of 'Iteration \d+' in project "
    r"[0-9a-f-]{36} \(\d+ s so far\)$",
    re.MULTILINE,
)


def test_training_pipeline(
    customvision_emulator: RunningEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    result, _ = run_example(EXAMPLES / "training-pipeline", {"dev": customvision_emulator.url})

    # What the person running `pulumi up` sees while the training runs (README.md, "What
    # you see during long waits"): a line on the provider's standard error.
    assert PROGRESS.search(capfd.readouterr().err)

    project = projects(customvision_emulator)["parts-detector"]
    check_trained_project(project, "v1", "parts-detector")
    tags = {t["name"]: t["id"] for t in project["tags"]}
    assert result.exports["project_id"] == project["id"]
    assert result.exports["tag_ids"] == tags
    assert result.exports["image_count"] == len(DATASET)
    assert result.exports["region_count"] == REGION_COUNT
    assert result.exports["iteration_id"] == project["iterations"][0]["id"]
    assert result.exports["iteration_name"] == "v1"
    assert result.exports["published_as"] == "parts-detector"
    # The boxes in the service are the ones in labels.json.
    boxes = sorted(
        (round(r["left"], 6), round(r["top"], 6), round(r["width"], 6), round(r["height"], 6))
        for r in regions_of(project)
    )
    assert boxes == sorted(
        (b["left"], b["top"], b["width"], b["height"]) for bs in DATASET.values() for b in bs
    )


@pytest.mark.parametrize(
    ("name", "stack", "unknown"),
    [
        ("training-pipeline", "dev", "iteration_id"),
        ("promotion", "dev", "prod_project_id"),
        ("cross-stack-promotion", "dev", "project_id"),
        ("gitops", "review", "iteration_id"),
    ],
)
def test_preview_creates_nothing(
    name: str,
    stack: str,
    unknown: str,
    customvision_emulator: RunningEmulator,
    prod_emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUSTOMVISION_ENDPOINT", customvision_emulator.url)  # gitops
    monkeypatch.setenv("CUSTOMVISION_TRAINING_KEY", DEFAULT_TRAINING_KEY)
    urls = {"dev": customvision_emulator.url, "prod": prod_emulator.url}
    result, _ = run_example(EXAMPLES / name, urls, stack=stack, preview=True)
    assert customvision_emulator.admin.state()["projects"] == []
    assert prod_emulator.admin.state()["projects"] == []
    assert result.exports[unknown] == UNKNOWN


def test_training_pipeline_relabel_updates_the_region_and_retrains(
    customvision_emulator: RunningEmulator, tmp_path: Path
) -> None:
    directory = copy_example("training-pipeline", tmp_path)
    urls = {"dev": customvision_emulator.url}
    mocks = StatefulMocks(
        example_config(directory, "dev", urls), project="training-pipeline", stack="dev"
    )

    def up() -> dict[str, Any]:
        mocks.begin()
        result, _ = run_example(directory, urls, mocks=mocks)
        mocks.finish()
        return result.exports

    first = up()
    assert set(mocks.steps.values()) == {"create"}
    assert up() == first  # nothing changed: every step is `same`
    assert set(mocks.steps.values()) == {"same"}

    move_first_box(directory)
    customvision_emulator.admin.clear_log()
    second = up()
    changed = {name: step for name, step in mocks.steps.items() if step != "same"}
    assert changed == {"regions": "update", "model": "replace"}
    counters = customvision_emulator.admin.counters()
    assert counters["CreateImageRegions"] == {"200": 1}  # the one moved box, nothing else
    assert sum(counters["DeleteImageRegions"].values()) == 1
    assert sum(counters["TrainProject"].values()) == 1
    assert second["regions_revision"] != first["regions_revision"]
    assert second["iteration_id"] != first["iteration_id"]
    project = projects(customvision_emulator)["parts-detector"]
    check_trained_project(project, "v1", "parts-detector")  # the old iteration is gone
    assert project["iterations"][0]["id"] == second["iteration_id"]

    mocks.destroy()
    assert customvision_emulator.admin.state()["projects"] == []


# --------------------------------------------------------------------------- promotion


def up_with(mocks: StatefulMocks, directory: Path, urls: dict[str, str]) -> dict[str, Any]:
    """One `pulumi up` of the example on the state ``mocks`` keeps."""
    mocks.begin()
    result, _ = run_example(directory, urls, mocks=mocks)
    mocks.finish()
    return result.exports


PROMOTION_STEPS = {
    "dev-regions": "update",
    "dev-model": "replace",
    "export": "replace",
    "prod-project": "replace",
    "prod-live": "replace",
}


def check_promoted(prod: dict[str, Any], exports: dict[str, Any], publish_name: str) -> None:
    """The prod project is the imported dataset with the promoted iteration published."""
    assert exports["prod_project_id"] == prod["id"]
    assert len(prod["images"]) == len(DATASET) and len(regions_of(prod)) == REGION_COUNT
    assert published(prod) == {"v1": publish_name}
    live = next(i for i in prod["iterations"] if i["name"] == "v1")
    assert exports["prod_iteration_id"] == live["id"]
    assert exports["prod_iteration_name"] == "v1"
    assert exports["published_as"] == publish_name


def test_promotion_trains_in_dev_publishes_in_prod_and_promotes_again(
    customvision_emulator: RunningEmulator, prod_emulator: RunningEmulator, tmp_path: Path
) -> None:
    """As the example runs out of the box: dev and prod are two emulators (two accounts)."""
    directory = copy_example("promotion", tmp_path)
    urls = {"dev": customvision_emulator.url, "prod": prod_emulator.url}
    config = example_config(directory, "dev", urls)
    profiles = json.loads(config["customvision:profiles"])
    assert profiles["dev"]["endpoint"] == customvision_emulator.url
    assert profiles["prod"]["endpoint"] == prod_emulator.url
    mocks = StatefulMocks(config, project="promotion", stack="dev")

    first = up_with(mocks, directory, urls)
    dev = projects(customvision_emulator)["parts-detector"]
    assert list(projects(customvision_emulator)) == ["parts-detector"]
    assert first["dev_project_id"] == dev["id"]
    # dev: the dataset and the training, nothing published.
    assert len(dev["images"]) == len(DATASET) and len(regions_of(dev)) == REGION_COUNT
    assert [i["name"] for i in dev["iterations"]] == ["v1"] and published(dev) == {}
    # prod: the imported copy, same name, with the promoted iteration published.
    assert list(projects(prod_emulator)) == ["parts-detector"]
    prod = projects(prod_emulator)["parts-detector"]
    check_trained_project(prod, "v1", "parts-detector")
    check_promoted(prod, first, "parts-detector")

    up_with(mocks, directory, urls)
    assert set(mocks.steps.values()) == {"same"}

    # A labelling change: a new training in dev, promoted again to prod.
    move_first_box(directory)
    second = up_with(mocks, directory, urls)
    assert {n: s for n, s in mocks.steps.items() if s != "same"} == PROMOTION_STEPS
    assert list(projects(prod_emulator)) == ["parts-detector"]  # the old prod is gone
    prod = projects(prod_emulator)["parts-detector"]
    assert second["prod_project_id"] != first["prod_project_id"]
    assert second["dev_iteration_id"] != first["dev_iteration_id"]
    check_promoted(prod, second, "parts-detector")
    moved = sorted(DATASET)[0]
    assert any(abs(r["left"] - (DATASET[moved][0]["left"] + 0.05)) < 1e-6 for r in regions_of(prod))
    # The export was made while the superseded dev iteration still existed (replaced
    # resources are deleted at the end of an update), so prod has it too, unpublished.
    names = sorted(i["name"] for i in prod["iterations"])
    assert names[0] == "v1" and all(n.startswith("v1 (superseded by ") for n in names[1:])
    assert [i["name"] for i in projects(customvision_emulator)["parts-detector"]["iterations"]] == [
        "v1"
    ]

    mocks.destroy()
    assert customvision_emulator.admin.state()["projects"] == []
    assert prod_emulator.admin.state()["projects"] == []


# --------------------------------------------------------------------------- cross-stack


def test_cross_stack_promotion(
    customvision_emulator: RunningEmulator, prod_emulator: RunningEmulator
) -> None:
    directory = EXAMPLES / "cross-stack-promotion"
    urls = {"dev": customvision_emulator.url, "prod": prod_emulator.url}
    dev, _ = run_example(directory, urls, stack="dev")
    assert dev.secret_exports == {"export_token"}
    assert dev.exports["iteration_name"] == "v1"

    reference = "organization/cross-stack-promotion/dev"
    outputs = {
        "export_token": Secret(dev.exports["export_token"]),
        "iteration_name": dev.exports["iteration_name"],
    }
    prod, mocks = run_example(directory, urls, stack="prod", stack_references={reference: outputs})
    assert mocks.resources  # the prod stack read the dev stack's outputs by that name
    assert {r.type for r in mocks.resources.values()} >= {"pulumi:pulumi:StackReference"}

    dev_project = projects(customvision_emulator)["parts-detector"]
    assert dev_project["id"] == dev.exports["project_id"] and published(dev_project) == {}
    prod_project = projects(prod_emulator)["parts-detector"]
    assert prod.exports["project_id"] == prod_project["id"]
    assert prod.exports["iteration_name"] == "v1"
    assert prod.exports["published_as"] == "parts-detector"
    check_trained_project(prod_project, "v1", "parts-detector")


def test_cross_stack_stacks_have_their_roles() -> None:
    directory = EXAMPLES / "cross-stack-promotion"
    dev = example_config(directory, "dev", {})
    prod = example_config(directory, "prod", {})
    assert dev["cross-stack-promotion:role"] == "dev"
    assert dev["customvision:endpoint"] == EMULATOR_URL
    assert prod["cross-stack-promotion:role"] == "prod"
    assert prod["customvision:endpoint"] == "http://127.0.0.1:5006"


# --------------------------------------------------------------------------- gitops


def test_gitops_program_is_the_training_pipeline() -> None:
    assert (EXAMPLES / "gitops" / "__main__.py").read_text() == (
        EXAMPLES / "training-pipeline" / "__main__.py"
    ).read_text()


def test_gitops_runs_with_the_environment_the_workflow_sets(
    customvision_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = yaml.safe_load(
        (EXAMPLES / "gitops" / ".github" / "workflows" / "customvision.yml").read_text()
    )
    review = workflow["jobs"]["review"]
    env = review["env"]
    assert env["CUSTOMVISION_ENDPOINT"] == EMULATOR_URL
    assert env["CUSTOMVISION_TRAINING_KEY"] == DEFAULT_TRAINING_KEY
    # The program takes its account from the environment in CI (no config in Pulumi.yaml).
    monkeypatch.setenv("CUSTOMVISION_ENDPOINT", customvision_emulator.url)
    monkeypatch.setenv("CUSTOMVISION_TRAINING_KEY", env["CUSTOMVISION_TRAINING_KEY"])
    result, _ = run_example(EXAMPLES / "gitops", {}, stack="review")
    assert result.exports["published_as"] == "parts-detector"
    check_trained_project(projects(customvision_emulator)["parts-detector"], "v1", "parts-detector")


def test_gitops_workflow_previews_pull_requests_and_deploys_on_merge() -> None:
    text = (EXAMPLES / "gitops" / ".github" / "workflows" / "customvision.yml").read_text()
    workflow = yaml.safe_load(text)
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    review, deploy = workflow["jobs"]["review"], workflow["jobs"]["deploy"]
    assert review["if"] == "github.event_name == 'pull_request'"
    assert deploy["if"] == "github.event_name == 'push'"
    review_runs = "\n".join(step.get("run", "") for step in review["steps"])
    assert "customvision-emulator" in review_runs
    assert "pulumi up --yes" in review_runs  # the base branch's state, on the emulator
    assert "pulumi preview --diff" in review_runs  # the pull request's change against it
    assert any("comment" in json.dumps(step) for step in review["steps"])
    deploy_runs = "\n".join(step.get("run", "") for step in deploy["steps"])
    assert "pulumi up --yes" in deploy_runs
    assert "secrets.CUSTOMVISION_TRAINING_KEY" in json.dumps(deploy)


# --------------------------------------------------------------------------- the dataset


def test_the_dataset_is_what_the_script_makes(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_example_dataset", ROOT / "scripts" / "make_example_dataset.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    labels = script.write_dataset(tmp_path / "dataset")
    assert labels == DATASET
    committed = sorted(p.name for p in (EXAMPLES / "dataset").iterdir() if p.suffix != ".md")
    assert sorted(p.name for p in (tmp_path / "dataset").iterdir()) == committed
    for name in committed:
        assert (tmp_path / "dataset" / name).read_bytes() == (
            EXAMPLES / "dataset" / name
        ).read_bytes(), name
    # Every image has a box of each tag: 15 images per tag, what detection training needs.
    assert all(sorted(b["tag"] for b in boxes) == ["bolt", "nut"] for boxes in DATASET.values())
    assert len(DATASET) == 15
