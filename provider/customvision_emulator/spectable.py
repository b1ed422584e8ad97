"""Condense the Custom Vision Training Swagger specs into the emulator's operation table.

The emulator routes and shapes its responses from ``data/api.json``, which this module
generates from the specs in ``shared/specs`` (run ``python -m customvision_emulator.spectable
SPEC_DIR``). Keeping only paths, parameters, status codes and model property names keeps the
packaged file small and the start-up fast, while the specs stay the single source of truth.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

VERSIONS = ["2.0", "2.1", "2.2", "3.0", "3.1", "3.2", "3.3", "3.4-preview"]
DATA_FILE = Path(__file__).with_name("data") / "api.json"


def _schema(node: dict[str, Any] | None) -> Any:
    """Reduce a Swagger schema to a ref name, ``[item]`` for arrays or a primitive type."""
    if not node:
        return None
    if "$ref" in node:
        return node["$ref"].rsplit("/", 1)[-1]
    if node.get("type") == "array":
        return [_schema(node.get("items"))]
    return node.get("type")


def condense(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the operations and model property maps of one spec version."""
    shared_params: dict[str, Any] = spec.get("parameters", {})
    operations: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            params = []
            for p in op.get("parameters", []):
                if "$ref" in p:
                    p = shared_params[p["$ref"].rsplit("/", 1)[-1]]
                if p.get("in") == "header":
                    continue
                params.append(
                    {
                        k: v
                        for k, v in {
                            "name": p["name"],
                            "in": p["in"],
                            "type": p.get("type") or _schema(p.get("schema")),
                            "required": p.get("required", False),
                            "maxItems": p.get("maxItems"),
                            "collectionFormat": p.get("collectionFormat"),
                        }.items()
                        if v is not None
                    }
                )
            responses = {
                code: _schema(r.get("schema"))
                for code, r in op["responses"].items()
                if code != "default"
            }
            operations[op["operationId"]] = {
                "method": method.upper(),
                "path": path,
                "params": params,
                "responses": responses,
            }
    models = {
        name: {prop: _schema(p) for prop, p in d.get("properties", {}).items()}
        for name, d in spec["definitions"].items()
    }
    return {"basePath": spec["basePath"], "operations": operations, "models": models}


def build(spec_dir: Path) -> dict[str, Any]:
    """Condense every version found in ``spec_dir``."""
    return {
        v: condense(json.loads((spec_dir / f"customvision-training-v{v}.json").read_text()))
        for v in VERSIONS
    }


def load() -> dict[str, Any]:
    """Load the packaged operation table."""
    table: dict[str, Any] = json.loads(DATA_FILE.read_text())
    return table


def main() -> None:
    """Regenerate ``data/api.json`` from the spec directory given as the only argument."""
    spec_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/specs")
    DATA_FILE.write_text(json.dumps(build(spec_dir), indent=1, sort_keys=True) + "\n")
    print(f"wrote {DATA_FILE}")


if __name__ == "__main__":
    main()
