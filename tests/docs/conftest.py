"""The README snippets use the example tests' second emulator and shared exports."""

from tests.examples.conftest import prod_emulator, prod_emulator_server, shared_exports

__all__ = ["prod_emulator", "prod_emulator_server", "shared_exports"]
