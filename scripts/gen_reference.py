"""Generate the README's per-resource reference tables from the code.

For every resource class that ``pulumi_customvision`` exports, README.md has a block
between ``<!-- reference:<Class>:start -->`` and ``<!-- reference:<Class>:end -->``. This
script fills it with two tables:

* **Inputs**: the keyword arguments of the class, in signature order, each with its type
  and default from the args model (``<Class>Args``), "replaces" or "in place" from the
  ``arg(..., replaces=True)`` declaration, and the ``arg`` description;
* **Outputs**: the class's annotated ``pulumi.Output[...]`` attributes (its own and the
  base class's) with the docstring written under each.

    .venv/bin/python scripts/gen_reference.py           # rewrite README.md
    .venv/bin/python scripts/gen_reference.py --check   # exit 1 if README.md is stale

``tests/docs/test_reference.py`` runs the check, so README and code cannot disagree.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import itertools
import re
import sys
import textwrap
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

import pulumi_customvision as cv
from pulumi_customvision._lifecycle import CustomVisionResource, ResourceArgs

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(
    r"(<!-- reference:(?P<name>\w+):start -->\n)(?P<body>.*?)(<!-- reference:(?P=name):end -->)",
    re.DOTALL,
)
NOT_INPUTS = {"self", "resource_name", "opts"}


class ReferenceError(Exception):
    """The code and the README's markers do not fit together (a message says how)."""


# --------------------------------------------------------------------------- discovery


def resource_classes() -> dict[str, type[CustomVisionResource]]:
    """The public resource classes, by name, in the package's ``__all__`` order."""
    found: dict[str, type[CustomVisionResource]] = {}
    for name in cv.__all__:
        value = getattr(cv, name)
        if isinstance(value, type) and issubclass(value, CustomVisionResource):
            found[name] = value
    return found


def args_model(cls: type[CustomVisionResource]) -> type[ResourceArgs]:
    """The args model of a resource class: ``<Class>Args`` in its module."""
    module = sys.modules[cls.__module__]
    model = getattr(module, f"{cls.__name__}Args", None)
    if not (isinstance(model, type) and issubclass(model, ResourceArgs)):
        raise ReferenceError(f"{cls.__module__} has no {cls.__name__}Args model")
    return model


# --------------------------------------------------------------------------- rendering


def _type_name(annotation: Any) -> str:
    """A reader's name for a field's type: ``str``, ``list[str]``, ``'A' | 'B'``, ``Timeouts``."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin in (list, tuple, set, frozenset):
        item = args[0] if args else Any
        return f"list[{_type_name(item)}]"
    if origin is dict:
        key, value = args if len(args) == 2 else (str, Any)
        return f"dict[{_type_name(key)}, {_type_name(value)}]"
    if annotation is Any:
        return "any"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        # A public model (Timeouts) by name; a nested input model by the public class it
        # stands for (RegionInput -> Region), or as the dict users write.
        for public in (annotation.__name__, annotation.__name__.removesuffix("Input")):
            if public in cv.__all__:
                return public
        return "dict"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default(field: Any, signature_default: Any) -> str:
    if field is not None and field.is_required():
        return "required"
    if field is not None and field.default_factory is not None:
        value = field.default_factory()
    elif field is not None and field.default is not PydanticUndefined:
        value = field.default
    else:
        value = signature_default
    if value is None:
        return "`None`"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{value!r}`"


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def input_rows(cls: type[CustomVisionResource]) -> Iterator[tuple[str, str, str, str, str]]:
    """(name, type, default, replaces/in place, description) for each input of ``cls``."""
    model = args_model(cls)
    fields = model.model_fields
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name in NOT_INPUTS:
            continue
        field = fields.get(name)
        if field is None or not field.description:
            raise ReferenceError(
                f"{cls.__name__}({name}=...) has no described field in {model.__name__}; "
                "declare it with arg(description, ...)"
            )
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        change = "replaces" if extra.get("replaces") else "in place"
        yield (
            f"`{name}`",
            f"`{_cell(_type_name(field.annotation))}`",
            _default(field, parameter.default),
            change,
            _cell(field.description),
        )


def _attribute_docs(cls: type) -> dict[str, str]:
    """The docstrings written under the annotated attributes of ``cls``'s class body."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(following.value.value)
    return docs


_OUTPUT = re.compile(r"^\s*(?:pulumi\.)?Output\[(?P<inner>.*)\]\s*$")


def output_rows(cls: type[CustomVisionResource]) -> Iterator[tuple[str, str, str]]:
    """(name, type, description) for each ``pulumi.Output`` attribute of ``cls`` and its bases."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not (isinstance(klass, type) and issubclass(klass, CustomVisionResource)):
            continue
        docs = _attribute_docs(klass)
        for name, annotation in inspect.get_annotations(klass).items():
            match = _OUTPUT.match(str(annotation))
            if match is None or name in seen:
                continue
            seen.add(name)
            if name not in docs:
                raise ReferenceError(
                    f"{klass.__name__}.{name} has no docstring; write one under the annotation"
                )
            yield f"`{name}`", f"`{_cell(match.group('inner'))}`", _cell(docs[name])


def render_block(cls: type[CustomVisionResource]) -> str:
    """The Markdown between a resource's markers."""
    lines = [
        f"Inputs of `{cls.__name__}`:",
        "",
        "| input | type | default | on change | description |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in input_rows(cls)),
        "",
        f"Outputs of `{cls.__name__}` (besides `id`):",
        "",
        "| output | type | description |",
        "|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in output_rows(cls)),
        "",
    ]
    return "\n".join(lines)


def render(readme: str) -> str:
    """``readme`` with every reference block regenerated.

    Raises:
        ReferenceError: a public resource has no block, or a block names no resource.
    """
    classes = resource_classes()
    named = [m.group("name") for m in MARKER.finditer(readme)]
    unknown = sorted(set(named) - set(classes))
    missing = [name for name in classes if name not in named]
    if unknown:
        raise ReferenceError(f"README.md has reference blocks for unknown resources: {unknown}")
    if missing:
        raise ReferenceError(
            f"README.md has no reference block for {missing}; add "
            + ", ".join(f"<!-- reference:{n}:start --><!-- reference:{n}:end -->" for n in missing)
        )

    def fill(match: re.Match[str]) -> str:
        return match.group(1) + render_block(classes[match.group("name")]) + match.group(4)

    return MARKER.sub(fill, readme)


def main(argv: list[str] | None = None) -> int:
    """Rewrite README.md, or with ``--check`` report whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    parser.add_argument("--readme", type=Path, default=README)
    options = parser.parse_args(argv)
    current = options.readme.read_text()
    try:
        fresh = render(current)
    except ReferenceError as exc:
        print(f"gen_reference: {exc}", file=sys.stderr)
        return 2
    if options.check:
        if fresh != current:
            print(
                "README.md's reference tables are out of date; run "
                "`.venv/bin/python scripts/gen_reference.py`",
                file=sys.stderr,
            )
            return 1
        return 0
    if fresh != current:
        options.readme.write_text(fresh)
        print(f"updated {options.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
