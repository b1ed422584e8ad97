"""A one-resource program run by module name in ``test_mocks.py``."""

import pulumi

from tests.engine.toy_provider import Item

only = Item("only", name="only", value=1)
pulumi.export("only_id", only.id)
