"""Well-known Custom Vision domain ids, for ``Project(domain_id=...)``.

A domain is the base model a project trains from. The ids are the service's own (the
same in every region; ``GetDomains`` lists them). *Compact* domains make models that can
be exported (``target_export_platforms``) and run offline.

Example::

    project = cv.Project("parts", name="parts", domain_id=cv.domains.GENERAL_OBJECT_DETECTION)
"""

from __future__ import annotations

# --------------------------------------------------------------------------- classification

GENERAL_CLASSIFICATION = "ee85a74c-405e-4adc-bb47-ffa8ca0c9f31"
"""General (classification): the default domain of a new project."""
GENERAL_A1_CLASSIFICATION = "a8e3c40f-fb4a-466f-832a-5e457ae4a344"
"""General [A1] (classification): more accurate, slower training."""
GENERAL_A2_CLASSIFICATION = "2e37d7fb-3a54-486a-b4d6-cfc369af0018"
"""General [A2] (classification): more accurate, faster inference than A1."""
FOOD_CLASSIFICATION = "c151d5b5-dd07-472a-acc8-15d29dea8518"
"""Food (classification)."""
LANDMARKS_CLASSIFICATION = "ca455789-012d-4b50-9fec-5bb63841c793"
"""Landmarks (classification)."""
RETAIL_CLASSIFICATION = "b30a91ae-e3c1-4f73-a81e-c270bff27c39"
"""Retail (classification)."""
GENERAL_COMPACT_CLASSIFICATION = "0732100f-1a38-4e49-a514-c9b44c697ab5"
"""General (compact) (classification): exportable."""
GENERAL_COMPACT_S1_CLASSIFICATION = "a1db07ca-a19a-4830-bae8-e004a42dc863"
"""General (compact) [S1] (classification): exportable."""
FOOD_COMPACT_CLASSIFICATION = "8882951b-82cd-4c32-970b-d5f8cb8bf6d7"
"""Food (compact) (classification): exportable."""
LANDMARKS_COMPACT_CLASSIFICATION = "b5cfd229-2ac7-4b2b-8d0a-2b0661344894"
"""Landmarks (compact) (classification): exportable."""
RETAIL_COMPACT_CLASSIFICATION = "6b4faeda-8396-481b-9f8b-177b9fa3097f"
"""Retail (compact) (classification): exportable."""

# --------------------------------------------------------------------------- object detection

GENERAL_OBJECT_DETECTION = "da2e3a8a-40a5-4171-82f4-58522f70fbc1"
"""General (object detection)."""
LOGO_OBJECT_DETECTION = "1d8ffafe-ec40-4fb2-8f90-72b3b6cecea4"
"""Logo (object detection)."""
PRODUCTS_ON_SHELVES_OBJECT_DETECTION = "3780a898-81c3-4516-81ae-3a139614e1f3"
"""Products on Shelves (object detection)."""
GENERAL_COMPACT_OBJECT_DETECTION = "a27d5ca5-bb19-49d8-a70a-fec086c47f5b"
"""General (compact) (object detection): exportable."""
GENERAL_COMPACT_S1_OBJECT_DETECTION = "7ec2ac80-887b-48a6-8df9-8b1357765430"
"""General (compact) [S1] (object detection): exportable."""

CLASSIFICATION_DOMAINS = frozenset(
    {
        GENERAL_CLASSIFICATION,
        GENERAL_A1_CLASSIFICATION,
        GENERAL_A2_CLASSIFICATION,
        FOOD_CLASSIFICATION,
        LANDMARKS_CLASSIFICATION,
        RETAIL_CLASSIFICATION,
        GENERAL_COMPACT_CLASSIFICATION,
        GENERAL_COMPACT_S1_CLASSIFICATION,
        FOOD_COMPACT_CLASSIFICATION,
        LANDMARKS_COMPACT_CLASSIFICATION,
        RETAIL_COMPACT_CLASSIFICATION,
    }
)
"""The classification domains above."""

OBJECT_DETECTION_DOMAINS = frozenset(
    {
        GENERAL_OBJECT_DETECTION,
        LOGO_OBJECT_DETECTION,
        PRODUCTS_ON_SHELVES_OBJECT_DETECTION,
        GENERAL_COMPACT_OBJECT_DETECTION,
        GENERAL_COMPACT_S1_OBJECT_DETECTION,
    }
)
"""The object-detection domains above (their projects have no classification type)."""

COMPACT_DOMAINS = frozenset(
    {
        GENERAL_COMPACT_CLASSIFICATION,
        GENERAL_COMPACT_S1_CLASSIFICATION,
        FOOD_COMPACT_CLASSIFICATION,
        LANDMARKS_COMPACT_CLASSIFICATION,
        RETAIL_COMPACT_CLASSIFICATION,
        GENERAL_COMPACT_OBJECT_DETECTION,
        GENERAL_COMPACT_S1_OBJECT_DETECTION,
    }
)
"""The compact (exportable) domains above: only these accept ``target_export_platforms``."""

__all__ = [
    "CLASSIFICATION_DOMAINS",
    "COMPACT_DOMAINS",
    "FOOD_CLASSIFICATION",
    "FOOD_COMPACT_CLASSIFICATION",
    "GENERAL_A1_CLASSIFICATION",
    "GENERAL_A2_CLASSIFICATION",
    "GENERAL_CLASSIFICATION",
    "GENERAL_COMPACT_CLASSIFICATION",
    "GENERAL_COMPACT_OBJECT_DETECTION",
    "GENERAL_COMPACT_S1_CLASSIFICATION",
    "GENERAL_COMPACT_S1_OBJECT_DETECTION",
    "GENERAL_OBJECT_DETECTION",
    "LANDMARKS_CLASSIFICATION",
    "LANDMARKS_COMPACT_CLASSIFICATION",
    "LOGO_OBJECT_DETECTION",
    "OBJECT_DETECTION_DOMAINS",
    "PRODUCTS_ON_SHELVES_OBJECT_DETECTION",
    "RETAIL_CLASSIFICATION",
    "RETAIL_COMPACT_CLASSIFICATION",
]
