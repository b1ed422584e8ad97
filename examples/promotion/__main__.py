"""Environment promotion in one stack: train in the dev account, publish in the prod account.

Two account profiles, ``dev`` and ``prod`` (``customvision:profiles.<name>``). In dev:
the project, its tags, images and regions, and a trained iteration. Then an export of the
dev project (a secret token), imported into the prod account as a new project, whose
promoted iteration (found by its name, which survives the import) is published there.

When the labels change, ``pulumi up`` trains a new iteration in dev; its id is the
export's trigger, so the project is exported again, the prod project is replaced by an
import of the new export, and the new iteration is published in prod: a new dev training
promotes again, in one reviewed ``pulumi up``.
"""

import json
from pathlib import Path

import pulumi

import pulumi_customvision as cv

config = pulumi.Config()
project_name = config.get("projectName") or "parts-detector"
iteration_name = config.get("iterationName") or "v1"
publish_name = config.get("publishName") or project_name
prediction_resource_id = config.require("predictionResourceId")

DATASET = Path("../dataset")
labels: dict[str, list[dict]] = {
    str(DATASET / file): boxes
    for file, boxes in json.loads((DATASET / "labels.json").read_text()).items()
}
tag_names = sorted({box["tag"] for boxes in labels.values() for box in boxes})

# --- dev account: the dataset and the training -------------------------------------------

dev = cv.Project(
    "dev-project",
    name=project_name,
    domain_id=cv.domains.GENERAL_OBJECT_DETECTION,
    profile="dev",
)
tags = {
    name: cv.Tag(f"dev-{name}", project_id=dev.id, name=name, profile="dev") for name in tag_names
}
images = cv.Images("dev-images", project_id=dev.id, files=sorted(labels), profile="dev")
regions = cv.ImageRegions(
    "dev-regions",
    project_id=dev.id,
    regions=[
        cv.Region(
            image_id=images.ids[file],
            tag_id=tags[box["tag"]].id,
            left=box["left"],
            top=box["top"],
            width=box["width"],
            height=box["height"],
        )
        for file, boxes in sorted(labels.items())
        for box in boxes
    ],
    profile="dev",
)
model = cv.TrainedIteration(
    "dev-model",
    project_id=dev.id,
    name=iteration_name,
    triggers={"regions": regions.revision, "images": images.revision},
    profile="dev",
)

# --- promotion: export from dev, import into prod, publish there --------------------------

export = cv.ProjectExport(
    "export",
    project_id=dev.id,
    # Export again (a fresh token) whenever a new iteration has been trained.
    triggers={"iteration": model.id},
    profile="dev",
)
prod = cv.Project(
    "prod-project",
    import_token=export.token,
    name=project_name,
    # The prod project is replaced by each promotion; unpublish its iterations on the way.
    force_destroy=True,
    profile="prod",
)
live = cv.Iteration(
    "prod-live",
    project_id=prod.id,
    source_name=model.name,
    publish_name=publish_name,
    prediction_resource_id=prediction_resource_id,
    profile="prod",
)

pulumi.export("dev_project_id", dev.id)
pulumi.export("dev_iteration_id", model.id)
pulumi.export("exported_at", export.exported_at)
pulumi.export("prod_project_id", prod.id)
pulumi.export("prod_iteration_id", live.id)
pulumi.export("prod_iteration_name", live.name)
pulumi.export("published_as", live.publish_name)
