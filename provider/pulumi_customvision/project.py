"""``Project``: a Custom Vision project, created (CreateProject) or imported (ImportProject).

With ``import_token`` the project is imported from another account's export (environment
promotion): ImportProject under a claimed name (see ``_claims``), then GetProject until the
import has ``Succeeded``, then the final name. Without it,
CreateProject makes an empty project. Name, description and settings update in place
(UpdateProject); a new ``import_token`` replaces the project. Destroying it calls
DeleteProject (unpublishing its iterations first with ``force_destroy=True``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import pulumi
import pulumi.dynamic as dyn
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import _claims, domains
from ._config import Profile
from ._iterations import iso
from ._lifecycle import (
    UNKNOWN,
    Context,
    CustomVisionProvider,
    CustomVisionResource,
    PollPolicy,
    ProviderError,
    ResourceArgs,
    Timeouts,
    UuidStr,
    arg,
    covers,
    report_progress,
)
from ._rest import errors, models, versions

ClassificationType = Literal["Multiclass", "Multilabel"]
ExportPlatform = Literal["CoreML", "TensorFlow", "DockerFile", "ONNX", "VAIDK", "OpenVino"]

IMPORT_POLL = PollPolicy(initial=0.25, growth=0.1, maximum=30.0)
"""Imports take seconds to minutes: look often at first, then less and less."""


def _sorted_platforms(value: list[str] | None) -> list[str] | None:
    return sorted(set(value)) if value is not None else None


class ImageProcessingSettingsArgs(BaseModel):
    """Image preprocessing of a project (API v3.2+)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    augmentation_methods: dict[str, bool] | None = Field(
        None,
        description="Augmentations to apply while training, e.g. {'rotation': True}.",
    )


class ProjectSettingsArgs(BaseModel):
    """The writable settings of a project; only the keys given are managed.

    The service fills in the others with its defaults; they show in the ``settings`` output
    and are not a change.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain_id: UuidStr | None = Field(
        None, description="Domain (see pulumi_customvision.domains); same as the top-level input."
    )
    classification_type: ClassificationType | None = Field(
        None, description="'Multiclass' or 'Multilabel' (classification domains only)."
    )
    target_export_platforms: list[ExportPlatform] | None = Field(
        None, description="Platforms a compact domain's models can be exported to."
    )
    use_negative_set: bool | None = Field(None, description="Train with the negative set.")
    detection_parameters: str | None = Field(None, description="Detection parameters.")
    image_processing_settings: ImageProcessingSettingsArgs | None = Field(
        None, description="Image preprocessing (augmentation) settings."
    )

    _sort = field_validator("target_export_platforms")(_sorted_platforms)


class ProjectArgs(ResourceArgs):
    """Inputs of :class:`Project`."""

    name: str | None = arg(
        "Name of the project; renaming updates in place. Without `import_token` it defaults "
        "to the resource name; with it, unset keeps the name the service gives the import.",
        default=None,
        computed=True,
    )
    description: str | None = arg("Description of the project.", default=None, computed=True)
    import_token: str | None = arg(
        "Export token (a secret; `ProjectExport.token`) of a project to import instead of "
        "creating an empty one. A new token imports anew (replaces the project). Tokens "
        "expire after about 24 hours.",
        default=None,
        replaces=True,
    )
    domain_id: UuidStr | None = arg(
        "Domain of the project (see `pulumi_customvision.domains`); the service's default "
        "is General classification. Changing it updates in place within the same kind "
        "(classification or object detection); a domain of the other kind replaces the "
        "project.",
        default=None,
        computed=True,
    )
    classification_type: ClassificationType | None = arg(
        "'Multiclass' (one tag per image) or 'Multilabel'; classification domains only.",
        default=None,
        computed=True,
    )
    target_export_platforms: list[ExportPlatform] | None = arg(
        "Platforms the models of a compact domain can be exported to.",
        default=None,
        computed=True,
    )
    settings: ProjectSettingsArgs | None = arg(
        "Further project settings; only the keys given are managed.",
        default=None,
        computed=True,
        partial=True,
    )
    force_destroy: bool = arg(
        "On destroy, unpublish the project's published iterations first; without it, a "
        "published iteration stops the destroy with an error.",
        default=False,
    )
    timeouts: Timeouts | None = arg(
        "How long to wait for an import (`create`, default 30m).", default=None
    )
    claim: str | None = arg(
        "Who asked for this import (set by the resource class from the Pulumi project, "
        "stack and resource name); recognises this resource's import after a crash.",
        default=None,
    )

    _sort = field_validator("target_export_platforms")(_sorted_platforms)

    @field_validator("name")
    @classmethod
    def _name_is_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty; give the project a name or leave it unset")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ProjectArgs:
        if self.import_token is None and self.name is None:
            raise ValueError("name is required to create a project (or give an import_token)")
        if self.settings is not None:
            for key in ("domain_id", "classification_type", "target_export_platforms"):
                top, inner = getattr(self, key), getattr(self.settings, key)
                if top is not None and inner is not None and top != inner:
                    raise ValueError(f"{key} and settings.{key} disagree; set only one of them")
        domain = self.wanted_settings().get("domain_id")
        if domain in domains.OBJECT_DETECTION_DOMAINS and self.classification_type is not None:
            raise ValueError(
                "classification_type applies to classification domains only; remove it for "
                "an object-detection domain"
            )
        return self

    def marker(self) -> str:
        """The claim marker this resource's import carries in its name until it is done."""
        token = token_digest(self.import_token) if self.import_token is not None else None
        return _claims.marker(self.claim, {"import_token": token})

    def wanted_settings(self) -> dict[str, Any]:
        """The settings the user manages (top-level domain inputs merged in), snake_case."""
        wanted = self.settings.model_dump(exclude_none=True) if self.settings else {}
        for key in ("domain_id", "classification_type", "target_export_platforms"):
            if getattr(self, key) is not None:
                wanted[key] = getattr(self, key)
        return wanted


def _outputs(project: models.Project) -> dict[str, Any]:
    """The outputs that reflect the service: what refresh compares to detect drift."""
    settings = project.settings or models.ProjectSettings()
    return {
        "name": project.name,
        "description": project.description,
        "settings": settings.model_dump(mode="json", exclude_none=True),
        "status": project.status,
        "created": iso(project.created),
        "last_modified": iso(project.last_modified),
        "domain_id": settings.domain_id,
        "classification_type": settings.classification_type,
        "target_export_platforms": sorted(settings.target_export_platforms or []),
    }


def _switches_kind(old_domain: Any, news: dict[str, Any]) -> bool:
    """Whether the new inputs ask for a domain of the other kind than the project's."""
    settings = news.get("settings")
    new_domain = news.get("domain_id") or (
        settings.get("domain_id") if isinstance(settings, dict) else None
    )
    if not isinstance(old_domain, str) or not isinstance(new_domain, str):
        return False
    if new_domain == UNKNOWN:
        return False  # known at `up`, when the diff runs again
    detection = domains.OBJECT_DETECTION_DOMAINS
    return (old_domain in detection) != (new_domain.lower() in detection)


def token_digest(token: str) -> str:
    """What state keeps of an import token: its SHA-256, enough to notice a new token."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


class ProjectProvider(CustomVisionProvider[ProjectArgs]):
    """The REST steps of :class:`Project`."""

    args_model = ProjectArgs
    kind = "project"
    default_timeouts: ClassVar[Mapping[str, float]] = {"create": 1800, "update": 600, "delete": 600}

    def check_for(self, args: ProjectArgs, profile: Profile) -> list[tuple[str, str]]:
        if args.import_token is not None:
            return self.requires(profile, "import_token", "ImportProject")
        return []

    def state_from_args(self, args: ProjectArgs) -> dict[str, Any]:
        # The claim matters only while an import is created: kept out of the state, so that
        # stacks made before the claim existed see no change.
        state = args.model_dump(mode="json", exclude_none=True, exclude={"import_token", "claim"})
        if args.import_token is not None:
            # Same key, so that a new token is a change of `import_token` (which replaces).
            state["import_token"] = token_digest(args.import_token)
        return state

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """As the base, plus two rules of the service.

        A project cannot move between classification and object detection, so a new
        domain of the other kind replaces it. Project names are unique in an account, so a
        replacement in the same account deletes the old project first when the new one is
        named (the usual rule for explicitly named resources).
        """
        result = super().diff(_id, olds, news)
        replaces = list(result.replaces or [])
        if result.changes and _switches_kind(olds.get("domain_id"), news):
            replaces = sorted({*replaces, "domain_id"})
        if replaces and "profile" not in replaces and news.get("name"):
            return dyn.DiffResult(
                changes=result.changes, replaces=replaces, delete_before_replace=True
            )
        if replaces != list(result.replaces or []):
            return dyn.DiffResult(changes=True, replaces=replaces, delete_before_replace=False)
        return result

    # -- create ----------------------------------------------------------------------

    def on_create(self, ctx: Context, args: ProjectArgs) -> tuple[str, dict[str, Any]]:
        final: str | None
        if args.import_token is not None:
            project = self._import(ctx, args, args.import_token)
            # The final name comes last, in the same UpdateProject as the other inputs: until
            # then the claim marker stays, and the next `pulumi up` adopts the import.
            final = args.name or _claims.base_name(project.name)
        else:
            project = self._create(ctx, args)
            created_id = project.id
            ctx.on_failure(
                f"delete project {created_id}", lambda: ctx.client.delete_project(created_id)
            )
            final = args.name
        project = self._apply(ctx, project, args, final)
        return project.id, _outputs(project)

    def _create(self, ctx: Context, args: ProjectArgs) -> models.Project:
        assert args.name is not None  # the args model requires it without a token
        name = args.name
        try:
            return ctx.create_or_find(
                lambda: ctx.client.create_project(
                    name,
                    description=args.description,
                    domain_id=args.domain_id,
                    classification_type=args.classification_type,
                    target_export_platforms=args.target_export_platforms,
                ),
                lambda: self._find(ctx, name),
            )
        except errors.BadRequest as exc:
            existing = (
                self._find(ctx, name) if exc.code == "BadRequestProjectNameNotUnique" else None
            )
            if existing is None:
                raise
            if not self._is_empty(ctx, existing.id):
                raise ProviderError(
                    f"could not create the project: the account already has a project named "
                    f"{name!r} (id {existing.id}) with data in it; choose another name, or "
                    "delete that project if it is no longer needed"
                ) from None
            # An empty project of this name is what an interrupted create leaves behind.
            return existing

    @staticmethod
    def _is_empty(ctx: Context, project_id: str) -> bool:
        return (
            not ctx.client.get_iterations(project_id)
            and not ctx.client.get_tags(project_id)
            and ctx.client.get_image_count(project_id) == 0
        )

    def _import(self, ctx: Context, args: ProjectArgs, token: str) -> models.Project:
        """The imported project, claimed and ``Succeeded``: this resource's earlier import
        if an interrupted `pulumi up` left one, else a new one."""
        marker = args.marker()
        projects = ctx.client.get_projects()
        project = self._claimed(ctx, projects, marker)
        if project is None:
            self._check_name_is_free(projects, args.name)
            project = self._start_import(ctx, args, token, marker, {p.id for p in projects})
        imported_id = project.id
        ctx.on_failure(
            f"delete the half-imported project {imported_id}",
            lambda: ctx.client.delete_project(imported_id),
        )
        project = self._wait_for_import(ctx, project)
        if project.status == "Failed":
            raise ProviderError(
                f"the service could not import the project (status Failed, project "
                f"{imported_id} was deleted); export the source project again and retry, and "
                "check that this account's pricing tier has room for its images and iterations"
            )
        return project

    @staticmethod
    def _claimed(
        ctx: Context, projects: list[models.Project], marker: str
    ) -> models.Project | None:
        """This resource's import from an earlier, interrupted attempt, if any and usable.

        A ``Failed`` one is deleted (and the import starts again); an ``Importing`` one is
        waited for by the caller, as a new one.
        """
        found = next((p for p in projects if _claims.marker_of(p.name) == marker), None)
        if found is None:
            return None
        if found.status == "Failed":
            report_progress(
                f"the import {found.name!r} an earlier `pulumi up` started for this resource "
                "failed: deleting it and importing again"
            )
            ctx.client.delete_project(found.id)
            return None
        report_progress(
            f"adopting the project {found.name!r}, imported for this resource by an earlier "
            "`pulumi up` that did not finish"
        )
        return found

    @staticmethod
    def _check_name_is_free(projects: list[models.Project], name: str | None) -> None:
        """Refuse, before importing, a name another project holds (names are unique)."""
        if name is None:
            return
        wanted = name.casefold()
        holder = next((p for p in projects if p.name.casefold() == wanted), None)
        if holder is None:
            return
        created = iso(holder.created) or "at an unknown time"
        raise ProviderError(
            f"could not import the project: the account already has a project named {name!r} "
            f"(id {holder.id}, created {created}) that no import of this resource claims. If "
            "it is this resource's import, left by a `pulumi up` that stopped right after "
            "giving it its final name, delete it (or rename it) and run `pulumi up` again; "
            "otherwise choose another name"
        )

    def _start_import(
        self, ctx: Context, args: ProjectArgs, token: str, marker: str, known: set[str]
    ) -> models.Project:
        """ImportProject under a claimed name (the ``name`` query on v3.3+; else renamed
        right after), adopting the project of a call whose answer was lost."""
        name_in_query = (
            _claims.claimed_name(args.name, marker)
            if args.name is not None
            and versions.supports_parameter(ctx.profile.api_version, "ImportProject", "name")
            else None
        )

        def started_import() -> models.Project | None:
            """The project a lost ImportProject made: the one that was not there before."""
            return next((p for p in ctx.client.get_projects() if p.id not in known), None)

        try:
            project = ctx.create_or_find(
                lambda: ctx.client.import_project(token, name=name_in_query), started_import
            )
        except errors.BadRequest as exc:
            if exc.code == "BadRequestInvalidImportToken":
                raise ProviderError(
                    "the import token is invalid or has expired (export tokens last about 24 "
                    "hours): export the source project again (replace its ProjectExport, e.g. "
                    "change its triggers) and import the new token"
                ) from None
            raise
        if _claims.marker_of(project.name) != marker:
            project = ctx.client.update_project(
                project.id, models.ProjectUpdate(name=_claims.claimed_name(project.name, marker))
            )
        return project

    @staticmethod
    def _wait_for_import(ctx: Context, project: models.Project) -> models.Project:
        if project.status != "Importing":
            return project
        imported_id = project.id

        def poll() -> models.Project | None:
            current = ctx.client.get_project(imported_id)
            return None if current.status == "Importing" else current

        return ctx.wait_for(
            poll,
            what=f"the import of project {imported_id}",
            on_timeout=(
                "the half-imported project was deleted; raise timeouts.create (the export's "
                "estimated_import_time_ms says how long an import takes) and run `pulumi up` "
                "again"
            ),
            policy=IMPORT_POLL,
        )

    # -- update, read, delete --------------------------------------------------------

    def on_update(
        self,
        ctx: Context,
        id_: str,
        olds: dict[str, Any],
        args: ProjectArgs,
        changed: frozenset[str],
    ) -> dict[str, Any]:
        return _outputs(self._apply(ctx, ctx.client.get_project(id_), args, args.name))

    def on_read(self, ctx: Context, id_: str, olds: dict[str, Any]) -> dict[str, Any] | None:
        return _outputs(ctx.client.get_project(id_))

    def on_delete(self, ctx: Context, id_: str, olds: dict[str, Any]) -> None:
        try:
            ctx.client.delete_project(id_)
            return
        except errors.BadRequest:
            published = [i for i in ctx.client.get_iterations(id_) if i.publish_name]
            if not published:
                raise
        names = ", ".join(f"{i.name!r} as {i.publish_name!r}" for i in published)
        if not olds.get("force_destroy"):
            raise ProviderError(
                f"project {olds.get('name', id_)!r} still has published iterations ({names}): "
                "remove their publish_name (or destroy the resources that publish them) first, "
                "or set force_destroy=True on the project to unpublish them when it is destroyed"
            )
        for iteration in published:
            ctx.client.unpublish_iteration(id_, iteration.id)
        ctx.client.delete_project(id_)

    # -- helpers ---------------------------------------------------------------------

    @staticmethod
    def _find(ctx: Context, name: str) -> models.Project | None:
        wanted = name.casefold()
        return next((p for p in ctx.client.get_projects() if p.name.casefold() == wanted), None)

    @staticmethod
    def _apply(
        ctx: Context, project: models.Project, args: ProjectArgs, name: str | None
    ) -> models.Project:
        """UpdateProject with what differs from the inputs and ``name`` (nothing if nothing
        differs); ``name`` ``None`` keeps the project's."""
        changes: dict[str, Any] = {}
        if name is not None and project.name != name:
            changes["name"] = name
        if args.description is not None and (project.description or "") != args.description:
            changes["description"] = args.description
        current = project.settings or models.ProjectSettings()
        wanted = args.wanted_settings()
        have = current.model_dump(exclude_none=True)
        have["target_export_platforms"] = sorted(current.target_export_platforms or [])
        if not covers(have, wanted):
            changes["settings"] = models.ProjectSettings.model_validate({**have, **wanted})
        if not changes:
            return project
        return ctx.client.update_project(project.id, models.ProjectUpdate(**changes))


class Project(CustomVisionResource):
    """A Custom Vision project: created empty, or imported from another account's export.

    Without ``import_token``, CreateProject makes an empty project (``name`` defaults to
    the resource name). With ``import_token`` (a secret, usually ``ProjectExport.token`` of
    a project in another account), ImportProject copies that project with its tags,
    images, regions and trained iterations (which keep their names), and the provider
    waits until the import has succeeded (budget: ``timeouts.create``, default 30
    minutes). A failed import deletes the half-imported project and says so.

    **Crash and timeout safety of an import.** The import runs under a claimed name,
    ``"parts [pulumi:1f2e3d4c5b6a]"``: a digest of the Pulumi project, stack and resource
    name and of the token. On API v3.3+ it is given to ImportProject (``name`` query); on
    v3.2, and when ``name`` is unset (the source's name is known only once imported), the
    imported project is renamed so right after ImportProject answers. The last call of the
    create gives the final name (``name``, or unset: the name the service gave the import,
    e.g. ``"parts (1)"``) with the other inputs. Every import first looks for a project
    carrying its marker and adopts it: waits for it if it is still ``Importing``, deletes
    it and imports again if it ``Failed``, then finishes the remaining steps. A lost
    ImportProject answer adopts the project that was not there before the call. Two
    one-call windows stay uncovered: a crash between ImportProject's answer and the
    claiming rename (v3.2, or ``name`` unset), and a crash after the final renaming. After
    the first, or the second with ``name`` unset, the next ``pulumi up`` imports again and
    the first import stays, owned by no resource. After the second with ``name`` set, the
    next ``pulumi up`` finds a project of that name that nothing claims and stops before
    importing, with an error naming it: delete it (it is the import the interrupted run
    made) and run ``pulumi up`` again.

    ``name``, ``description``, the domain inputs and ``settings`` update in place
    (UpdateProject). A new ``import_token``, or a domain of the other kind
    (classification <-> object detection), replaces the project. Project names are
    unique in an account, so a replacement of a named project deletes the old one first
    (import into prod without ``name`` to have the new project imported before the old one
    is deleted, under a name the service makes unique). State keeps only a SHA-256 digest of
    the token (``"sha256:..."`` in the ``import_token`` output). Destroying calls
    DeleteProject; published iterations stop it unless ``force_destroy=True``.

    Example::

        dev = cv.Project("dev", name="parts", domain_id=cv.domains.GENERAL_OBJECT_DETECTION)
        prod = cv.Project("prod", import_token=export.token, name="parts", profile="prod")
    """

    name: pulumi.Output[str]
    """Name of the project."""
    description: pulumi.Output[str | None]
    """Description of the project."""
    settings: pulumi.Output[dict[str, Any]]
    """The project's settings as the service has them (domain, classification type, ...)."""
    status: pulumi.Output[str]
    """``Succeeded`` (or, for an import that is still running, ``Importing``)."""
    created: pulumi.Output[str]
    """When the project was created (ISO 8601, UTC)."""
    last_modified: pulumi.Output[str]
    """When the project was last changed (ISO 8601, UTC)."""
    domain_id: pulumi.Output[str]
    """Id of the project's domain."""
    classification_type: pulumi.Output[str | None]
    """'Multiclass' or 'Multilabel' (``None`` for object detection)."""
    target_export_platforms: pulumi.Output[list[str]]
    """Platforms the project's models can be exported to."""

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str] | None = None,
        description: pulumi.Input[str] | None = None,
        import_token: pulumi.Input[str] | None = None,
        domain_id: pulumi.Input[str] | None = None,
        classification_type: pulumi.Input[str] | None = None,
        target_export_platforms: pulumi.Input[list[pulumi.Input[str]]] | None = None,
        settings: pulumi.Input[dict[str, Any]] | None = None,
        force_destroy: pulumi.Input[bool] = False,
        timeouts: pulumi.Input[dict[str, str]] | Timeouts | None = None,
        profile: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a project.

        Args:
            resource_name: The Pulumi name of this resource.
            name: Name of the project (unique in the account); renaming updates in place.
                Defaults to ``resource_name`` when creating; with ``import_token``, unset
                keeps the name the service gives the imported project.
            description: Description of the project.
            import_token: Export token of a project to import (keep it a secret, e.g.
                ``ProjectExport.token``); a new token replaces the project. Tokens expire
                after about 24 hours.
            domain_id: Domain, e.g. ``pulumi_customvision.domains.GENERAL_OBJECT_DETECTION``.
            classification_type: ``"Multiclass"`` or ``"Multilabel"`` (classification only).
            target_export_platforms: Export platforms of a compact domain, e.g. ``["ONNX"]``.
            settings: Further settings (``use_negative_set``, ``detection_parameters``,
                ``image_processing_settings``...); only the keys given are managed.
            force_destroy: Unpublish the project's published iterations when destroying it.
            timeouts: Budgets, e.g. ``{"create": "45m"}`` for a large import.
            profile: Account profile (``customvision:profiles.<name>``); unset: the default.
            opts: Pulumi resource options.
        """
        if name is None and import_token is None:
            name = resource_name
        super().__init__(
            ProjectProvider(),
            resource_name,
            {
                "name": name,
                "description": description,
                "import_token": pulumi.Output.secret(import_token)
                if import_token is not None
                else None,
                "domain_id": domain_id,
                "classification_type": classification_type,
                "target_export_platforms": target_export_platforms,
                "settings": settings,
                "force_destroy": force_destroy,
                "timeouts": timeouts,
                "claim": _claims.claim(pulumi.get_project(), pulumi.get_stack(), resource_name),
                "profile": profile,
            },
            outputs=(
                "status",
                "created",
                "last_modified",
            ),
            opts=opts,
        )
