"""Environment promotion across stacks: a dev stack trains and exports, a prod stack imports.

One program, two stacks, each with its own account (``customvision:endpoint`` and
``customvision:trainingKey`` in ``Pulumi.dev.yaml`` and ``Pulumi.prod.yaml``) and its own
``role``:

* ``dev`` builds the dataset, trains an iteration and exports the project; the export
  token is a **secret** stack output, with the name of the iteration to promote;
* ``prod`` reads both through a ``StackReference`` to the dev stack, imports the project
  into its account and publishes the promoted iteration.

A new training in dev exports a new token; the next ``pulumi up`` of prod imports it
(replacing the prod project) and publishes the new iteration. The token expires after
about 24 hours: promote within a day of the dev update, or update dev again.
"""

import json
from pathlib import Path

import pulumi

import pulumi_customvision as cv

config = pulumi.Config()
role = config.require("role")
project_name = config.get("projectName") or "parts-detector"

if role == "dev":
    DATASET = Path("../dataset")
    labels: dict[str, list[dict]] = {
        str(DATASET / file): boxes
        for file, boxes in json.loads((DATASET / "labels.json").read_text()).items()
    }
    tag_names = sorted({box["tag"] for boxes in labels.values() for box in boxes})

    project = cv.Project(
        "project", name=project_name, domain_id=cv.domains.GENERAL_OBJECT_DETECTION
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
        name=config.get("iterationName") or "v1",
        triggers={"regions": regions.revision, "images": images.revision},
    )
    export = cv.ProjectExport("export", project_id=project.id, triggers={"iteration": model.id})

    pulumi.export("project_id", project.id)
    pulumi.export("iteration_name", model.name)
    # The token is a secret output; Output.secret keeps the stack output secret explicitly.
    pulumi.export("export_token", pulumi.Output.secret(export.token))
    pulumi.export("exported_at", export.exported_at)

elif role == "prod":
    # "<organization>/<project>/dev"; the organization is "organization" with the local backend.
    dev_stack = config.get("devStack") or f"{pulumi.get_organization()}/{pulumi.get_project()}/dev"
    dev = pulumi.StackReference(dev_stack)

    project = cv.Project(
        "project",
        import_token=dev.require_output("export_token"),
        name=project_name,
        force_destroy=True,  # each promotion replaces the project; unpublish on the way
    )
    live = cv.Iteration(
        "live",
        project_id=project.id,
        source_name=dev.require_output("iteration_name"),
        publish_name=config.get("publishName") or project_name,
        prediction_resource_id=config.require("predictionResourceId"),
    )

    pulumi.export("project_id", project.id)
    pulumi.export("iteration_id", live.id)
    pulumi.export("iteration_name", live.name)
    pulumi.export("published_as", live.publish_name)

else:
    raise ValueError(f"config `role` must be 'dev' or 'prod', not {role!r}")
