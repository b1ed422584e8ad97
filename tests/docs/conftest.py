"""The README snippets use the example tests' second emulator (the prod account)."""

from tests.examples.conftest import prod_emulator, prod_emulator_server

__all__ = ["prod_emulator", "prod_emulator_server"]
