"""Measurements of pulumi-customvision, each printing a table; ``python -m benchmarks`` runs all."""
