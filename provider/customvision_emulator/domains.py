"""The Custom Vision domains with their real ids (from the service documentation)."""

from __future__ import annotations

from typing import Any

_PLATFORMS = ["CoreML", "TensorFlow", "DockerFile", "ONNX", "VAIDK", "OpenVino"]

# (id, name, type, exportable)
_DOMAINS: list[tuple[str, str, str, bool]] = [
    ("ee85a74c-405e-4adc-bb47-ffa8ca0c9f31", "General", "Classification", False),
    ("a8e3c40f-fb4a-466f-832a-5e457ae4a344", "General [A1]", "Classification", False),
    ("2e37d7fb-3a54-486a-b4d6-cfc369af0018", "General [A2]", "Classification", False),
    ("c151d5b5-dd07-472a-acc8-15d29dea8518", "Food", "Classification", False),
    ("ca455789-012d-4b50-9fec-5bb63841c793", "Landmarks", "Classification", False),
    ("b30a91ae-e3c1-4f73-a81e-c270bff27c39", "Retail", "Classification", False),
    ("0732100f-1a38-4e49-a514-c9b44c697ab5", "General (compact)", "Classification", True),
    ("a1db07ca-a19a-4830-bae8-e004a42dc863", "General (compact) [S1]", "Classification", True),
    ("8882951b-82cd-4c32-970b-d5f8cb8bf6d7", "Food (compact)", "Classification", True),
    ("b5cfd229-2ac7-4b2b-8d0a-2b0661344894", "Landmarks (compact)", "Classification", True),
    ("6b4faeda-8396-481b-9f8b-177b9fa3097f", "Retail (compact)", "Classification", True),
    ("da2e3a8a-40a5-4171-82f4-58522f70fbc1", "General", "ObjectDetection", False),
    ("1d8ffafe-ec40-4fb2-8f90-72b3b6cecea4", "Logo", "ObjectDetection", False),
    ("3780a898-81c3-4516-81ae-3a139614e1f3", "Products on Shelves", "ObjectDetection", False),
    ("a27d5ca5-bb19-49d8-a70a-fec086c47f5b", "General (compact)", "ObjectDetection", True),
    ("7ec2ac80-887b-48a6-8df9-8b1357765430", "General (compact) [S1]", "ObjectDetection", True),
]

GENERAL_CLASSIFICATION = "ee85a74c-405e-4adc-bb47-ffa8ca0c9f31"
GENERAL_OBJECT_DETECTION = "da2e3a8a-40a5-4171-82f4-58522f70fbc1"

DOMAINS: dict[str, dict[str, Any]] = {
    did: {
        "id": did,
        "name": name,
        "type": dtype,
        "exportable": exportable,
        "enabled": True,
        "exportablePlatforms": list(_PLATFORMS) if exportable else [],
        "modelInformation": None,
    }
    for did, name, dtype, exportable in _DOMAINS
}


def is_detection(domain_id: str) -> bool:
    """True for an object-detection domain."""
    return bool(DOMAINS[domain_id]["type"] == "ObjectDetection")
