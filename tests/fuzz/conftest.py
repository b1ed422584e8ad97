"""Hypothesis profiles of the fuzz suite, chosen with ``CV_FUZZ_EXAMPLES``.

The default run tries 100 inputs per resource; ``CV_FUZZ_EXAMPLES=1000`` (or more) is the
full run the issue asks for. Examples are derandomized (a fixed seed), so runs repeat.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("CV_FUZZ_EXAMPLES", "100"))

settings.register_profile(
    "cv-fuzz",
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
settings.load_profile("cv-fuzz")
