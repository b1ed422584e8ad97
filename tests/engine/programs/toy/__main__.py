"""A tiny Pulumi program over the toy provider, for the mocks harness tests."""

import pulumi

from tests.engine.toy_provider import Item

config = pulumi.Config()
first = Item("first", name=config.require("firstName"), value="one")
second = Item("second", name="second", value=first.item_id)
ref = pulumi.StackReference("org/other/prod")

pulumi.export("first_id", first.id)
pulumi.export("first_note", first.note)
pulumi.export("second_value", second.value)
pulumi.export("password", config.require_secret("password"))
pulumi.export("other_endpoint", ref.get_output("endpoint"))
pulumi.export("static", {"n": 1, "l": [1, 2]})
