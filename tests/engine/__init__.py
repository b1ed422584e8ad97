"""Engine-level test driver: plays the Pulumi engine against real dynamic providers.

- :class:`ProviderServer` runs the SDK's dynamic-provider server (``python -m
  pulumi.dynamic``) and speaks its gRPC interface with plain dicts.
- :class:`Stack` keeps stack state and runs ``up``/``preview``/``refresh``/``destroy``
  with the engine's order of calls, returning a :class:`StepLog`.
- :mod:`tests.engine.mocks` runs whole Pulumi programs under ``pulumi.runtime.set_mocks``
  with dynamic resources handed to their real providers.

See ``docs/testing.md`` ("The engine driver") for how it maps onto the engine.
"""

from .server import (
    DYNAMIC_RESOURCE_TYPE,
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ProviderError,
    ProviderServer,
    ProviderServerError,
    ReadResult,
    live_servers,
    make_urn,
    provider_server,
)
from .stack import (
    BackgroundOp,
    CheckFailedError,
    Resource,
    ResourceState,
    Stack,
    Step,
    StepLog,
    wait_until,
)
from .values import (
    PROVIDER_KEY,
    UNKNOWN,
    Ref,
    Secret,
    serialize_provider_property,
    unwrap_secrets,
    with_provider,
)

__all__ = [
    "DYNAMIC_RESOURCE_TYPE",
    "PROVIDER_KEY",
    "UNKNOWN",
    "BackgroundOp",
    "CheckFailedError",
    "CheckFailure",
    "CheckResult",
    "CreateResult",
    "DiffResult",
    "ProviderError",
    "ProviderServer",
    "ProviderServerError",
    "ReadResult",
    "Ref",
    "Resource",
    "ResourceState",
    "Secret",
    "Stack",
    "Step",
    "StepLog",
    "live_servers",
    "make_urn",
    "provider_server",
    "serialize_provider_property",
    "unwrap_secrets",
    "wait_until",
    "with_provider",
]
