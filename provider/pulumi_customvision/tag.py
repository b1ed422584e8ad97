"""``Tag``: a label of a Custom Vision project (CreateTag, UpdateTag, GetTag, DeleteTag)."""

from __future__ import annotations

from typing import Any, Literal

import pulumi
from pydantic import field_validator

from ._lifecycle import (
    Context,
    CustomVisionProvider,
    CustomVisionResource,
    ProviderError,
    ResourceArgs,
    UuidStr,
    arg,
)
from ._rest import errors, models

TagType = Literal["Regular", "Negative", "GeneralProduct"]


class TagArgs(ResourceArgs):
    """Inputs of :class:`Tag`."""

    project_id: UuidStr = arg("Id of the project the tag belongs to.", replaces=True)
    name: str = arg("Name of the tag, unique within the project. Renaming updates in place.")
    description: str | None = arg("Description of the tag.", default=None)
    type: TagType = arg(
        "'Regular', 'Negative' (images without any regular tag) or 'GeneralProduct'.",
        default="Regular",
    )
    adopt_existing: bool = arg(
        "Adopt a tag of the same name that already labels images (tags come with imported "
        "projects) instead of failing; on destroy, an adopted tag is deleted too. An unused "
        "tag of the same name, as an interrupted create leaves, is adopted either way.",
        default=False,
    )

    @field_validator("name")
    @classmethod
    def _name_is_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty; give the tag a name")
        return value


def _outputs(tag: models.Tag) -> dict[str, Any]:
    """The outputs that reflect the service: what refresh compares to detect drift."""
    outputs: dict[str, Any] = {"name": tag.name, "type": tag.type, "image_count": tag.image_count}
    if tag.description:
        outputs["description"] = tag.description
    return outputs


class TagProvider(CustomVisionProvider[TagArgs]):
    """The REST steps of :class:`Tag`."""

    args_model = TagArgs
    kind = "tag"

    def on_create(self, ctx: Context, args: TagArgs) -> tuple[str, dict[str, Any]]:
        existing = self._find(ctx, args) if args.adopt_existing else None
        if existing is None:
            try:
                tag = ctx.create_or_find(
                    lambda: ctx.client.create_tag(
                        args.project_id,
                        name=args.name,
                        description=args.description,
                        type=args.type,
                    ),
                    lambda: self._find(ctx, args),
                )
                return tag.id, _outputs(tag)
            except errors.BadRequest as exc:
                if exc.code != "BadRequestTagNameNotUnique":
                    raise
                existing = self._find(ctx, args)
                if existing is None:
                    raise
                if existing.image_count:
                    # Someone else's labels: adopting them must be the user's decision.
                    raise ProviderError(
                        f"could not create the tag: the project already has a tag named "
                        f"{args.name!r} on {existing.image_count} images; set "
                        "adopt_existing=True to manage it, or choose another name"
                    ) from None
                # An unused tag of this name is what an interrupted create leaves behind.
        tag = self._apply(ctx, existing.id, args) if self._differs(existing, args) else existing
        return tag.id, _outputs(tag)

    def on_update(
        self, ctx: Context, id_: str, olds: dict[str, Any], args: TagArgs, changed: frozenset[str]
    ) -> dict[str, Any]:
        if changed & {"name", "description", "type"}:
            return _outputs(self._apply(ctx, id_, args))
        return _outputs(ctx.client.get_tag(args.project_id, id_))

    def on_read(self, ctx: Context, id_: str, olds: dict[str, Any]) -> dict[str, Any] | None:
        outputs = _outputs(ctx.client.get_tag(olds["project_id"], id_))
        outputs.setdefault("description", None)
        return outputs

    def on_delete(self, ctx: Context, id_: str, olds: dict[str, Any]) -> None:
        ctx.client.delete_tag(olds["project_id"], id_)

    @staticmethod
    def _create(ctx: Context, args: TagArgs) -> models.Tag:
        return ctx.client.create_tag(
            args.project_id, name=args.name, description=args.description, type=args.type
        )

    @staticmethod
    def _find(ctx: Context, args: TagArgs) -> models.Tag | None:
        wanted = args.name.casefold()
        return next(
            (t for t in ctx.client.get_tags(args.project_id) if t.name.casefold() == wanted), None
        )

    @staticmethod
    def _differs(tag: models.Tag, args: TagArgs) -> bool:
        return (tag.name, tag.description or None, tag.type) != (
            args.name,
            args.description,
            args.type,
        )

    @staticmethod
    def _apply(ctx: Context, id_: str, args: TagArgs) -> models.Tag:
        return ctx.client.update_tag(
            args.project_id, id_, name=args.name, description=args.description or "", type=args.type
        )


class Tag(CustomVisionResource):
    """A tag (label) of a Custom Vision project.

    Creating it calls CreateTag. If the project already has a tag of that name, an unused
    one (what an interrupted ``pulumi up`` leaves behind) is adopted, and one that labels
    images is adopted only with ``adopt_existing=True``. ``name``, ``description`` and
    ``type`` update in place with UpdateTag; a new ``project_id`` replaces the tag;
    destroying it calls DeleteTag.

    Example::

        bolt = cv.Tag("bolt", project_id=project.id, name="bolt")
    """

    project_id: pulumi.Output[str]
    """Id of the project the tag belongs to."""
    name: pulumi.Output[str]
    """Name of the tag."""
    description: pulumi.Output[str | None]
    """Description of the tag."""
    type: pulumi.Output[str]
    """'Regular', 'Negative' or 'GeneralProduct'."""
    image_count: pulumi.Output[int]
    """Number of images with this tag, when last read."""

    def __init__(
        self,
        resource_name: str,
        *,
        project_id: pulumi.Input[str],
        name: pulumi.Input[str],
        description: pulumi.Input[str] | None = None,
        type: pulumi.Input[str] = "Regular",
        adopt_existing: pulumi.Input[bool] = False,
        profile: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a tag.

        Args:
            resource_name: The Pulumi name of this resource.
            project_id: Id of the project the tag belongs to; changing it replaces the tag.
            name: Name of the tag, unique within the project; renaming updates in place.
            description: Description of the tag.
            type: ``"Regular"``, ``"Negative"`` or ``"GeneralProduct"``.
            adopt_existing: Adopt a tag of the same name that already labels images (e.g.
                after an import) instead of failing. Unused tags are adopted either way.
            profile: Account profile (``customvision:profiles.<name>``); unset: the default.
            opts: Pulumi resource options.
        """
        super().__init__(
            TagProvider(),
            resource_name,
            {
                "project_id": project_id,
                "name": name,
                "description": description,
                "type": type,
                "adopt_existing": adopt_existing,
                "profile": profile,
            },
            outputs=("image_count",),
            opts=opts,
        )
