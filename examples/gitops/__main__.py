"""Training pipeline: a Custom Vision dataset as code, trained and published by `pulumi up`.

The dataset is ``../dataset/labels.json`` (image file -> bounding boxes) and the image
files beside it. ``pulumi up`` creates an object-detection project, its tags, uploads the
images, draws the regions, trains an iteration and publishes it. Edit a box in
``labels.json`` and the next ``pulumi up`` changes exactly that region, then trains a new
iteration because the regions' ``revision`` is the training trigger.
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

# Paths are relative to this directory, which is where Pulumi runs the program and the
# provider, so that state does not depend on where the repository is checked out.
DATASET = Path("../dataset")
labels: dict[str, list[dict]] = {
    str(DATASET / file): boxes
    for file, boxes in json.loads((DATASET / "labels.json").read_text()).items()
}
tag_names = sorted({box["tag"] for boxes in labels.values() for box in boxes})

project = cv.Project(
    "project",
    name=project_name,
    description="Bolts and nuts, managed by Pulumi",
    domain_id=cv.domains.GENERAL_OBJECT_DETECTION,
)

tags = {name: cv.Tag(name, project_id=project.id, name=name) for name in tag_names}

images = cv.Images("images", project_id=project.id, files=sorted(labels))

regions = cv.ImageRegions(
    "regions",
    project_id=project.id,
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
)

model = cv.TrainedIteration(
    "model",
    project_id=project.id,
    name=iteration_name,
    publish_name=publish_name,
    prediction_resource_id=prediction_resource_id,
    # A new training whenever the labels or the images change.
    triggers={"regions": regions.revision, "images": images.revision},
)

pulumi.export("project_id", project.id)
pulumi.export("tag_ids", {name: tag.id for name, tag in tags.items()})
pulumi.export("image_count", images.count)
pulumi.export("region_count", regions.count)
pulumi.export("regions_revision", regions.revision)
pulumi.export("iteration_id", model.id)
pulumi.export("iteration_name", model.name)
pulumi.export("published_as", model.publish_name)
