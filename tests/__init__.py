"""Test suites of pulumi-customvision (a package so ``tests.engine`` imports everywhere)."""
