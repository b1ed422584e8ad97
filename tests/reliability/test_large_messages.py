"""Large states go through the provider protocol as they do under the engine.

At 100,000 regions an ImageRegions' Create answer is about 4.7 MB. The engine accepts
provider messages up to 400 MiB (``rpcutil.MaxRPCMessageSize``; the Python SDK's
dynamic-provider server is set to the same, ``_MAX_RPC_MESSAGE_SIZE``), so the engine
driver that plays it in the tests must too, or large resources cannot be tested.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, ResourceProvider

from tests.engine import Resource, Stack


class BigOutputsProvider(ResourceProvider):
    """Creates nothing; answers with outputs of the requested size."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("big", {"blob": "x" * int(props["size"])})


def test_a_create_answer_over_four_megabytes_reaches_the_state() -> None:
    size = 5 * 1024 * 1024
    with Stack({}) as stack:
        stack.up({"big": Resource(BigOutputsProvider(), {"size": size})})
        assert len(stack.outputs("big")["blob"]) == size
