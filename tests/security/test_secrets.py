"""No secret leaks: the training keys never appear anywhere, export tokens only as secrets.

The promotion program (dev project, training, export, import into a prod account,
publication) runs through the engine driver with the provider's logs on at DEBUG. Then
everything that leaves the provider is scanned:

- the state (inputs and outputs of every resource, ``__provider`` decoded from its dill
  bytes): no training key anywhere, export/import tokens only inside secret-marked values;
- what the provider process printed (its logs at DEBUG and its progress messages): no key,
  no token;
- the text of provider errors (message and the traceback the engine shows) for failures that
  involve the key or a token (a rejected key, an invalid or expired import token): neither.

And the emulator: it binds 127.0.0.1 unless told otherwise and refuses a wrong key.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pytest

from customvision_emulator.settings import DEFAULT_HOST, TEST_DEFAULTS, Settings
from customvision_emulator.testing import RunningEmulator, run_emulator
from tests.engine import ProviderError, ProviderServer, Ref, Secret, Stack
from tests.lifecycle.model_support import (
    add_training_data,
    client_for,
    config,
    export,
    project,
    with_profile,
)
from tests.lifecycle.model_support import (
    promotion_program as program,
)
from tests.reliability.support import hooked_env

DEV_KEY = "dev-" + secrets.token_hex(16)
PROD_KEY = "prod-" + secrets.token_hex(16)


@pytest.fixture(scope="module")
def dev() -> Iterator[RunningEmulator]:
    with run_emulator(**{**TEST_DEFAULTS, "training_key": DEV_KEY}) as emu:
        yield emu


@pytest.fixture(scope="module")
def prod() -> Iterator[RunningEmulator]:
    with run_emulator(**{**TEST_DEFAULTS, "training_key": PROD_KEY}) as emu:
        yield emu


def spellings(secret: str) -> set[str]:
    """A secret as it may appear in text: raw, URL-encoded, base64."""
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(secret.encode()).decode().rstrip("="),
    }


def _walk(value: Any, in_secret: bool, path: str) -> Iterator[tuple[str, bool, str]]:
    """(path, inside a secret, text) for every string (and key) in ``value``."""
    if isinstance(value, Secret):
        yield from _walk(value.value, True, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", in_secret, str(key)
            yield from _walk(item, in_secret, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, in_secret, f"{path}[{index}]")
    elif value is not None:
        yield path, in_secret, str(value)


def _provider_bytes(serialized: str) -> str:
    """The dill bytes of a serialized provider, as text with every byte kept."""
    return base64.b64decode(serialized).decode("latin-1")


def scan_state(stack: Stack, keys: set[str], tokens: set[str]) -> list[str]:
    """Leaks in the state: any key anywhere; a token outside a secret."""
    leaks: list[str] = []
    for name, st in stack.resources.items():
        for part, values in (("inputs", st.inputs), ("outputs", st.outputs)):
            for path, in_secret, text in _walk(values, False, f"{name}.{part}"):
                if path.endswith(".__provider"):
                    text = _provider_bytes(text)
                for key in keys:
                    if any(s in text for s in spellings(key)):
                        leaks.append(f"training key in {path}")
                for token in tokens:
                    if not in_secret and any(s in text for s in spellings(token)):
                        leaks.append(f"token outside a secret in {path}")
    return leaks


def scan_text(where: str, text: str, keys: set[str], tokens: set[str]) -> list[str]:
    """Leaks in ``text``: each names the line it is on, with the secret masked."""
    leaks: list[str] = []
    for kind, values in (("training key", keys), ("token", tokens)):
        for value in values:
            for spelling in spellings(value):
                for line in text.splitlines():
                    if spelling in line:
                        shown = line.replace(spelling, f"<{kind.upper()}>")[:300]
                        leaks.append(f"{kind} in {where}: {shown}")
    return leaks


@dataclasses.dataclass
class Material:
    """Everything that left the provider during the promotion run and its failures."""

    keys: set[str]
    tokens: set[str]
    state_leaks: list[str]
    own_output: str
    third_party_output: str
    errors: list[ProviderError]


def _split_output(text: str) -> tuple[str, str]:
    """(the provider's own lines: its logs, progress, prints; other libraries' log lines)."""
    own, others = [], []
    for line in text.splitlines():
        body = line.partition(": ")[2]
        if body.startswith("log ") and " pulumi_customvision" not in body.split(":")[0]:
            others.append(line)
        else:
            own.append(line)
    return "\n".join(own), "\n".join(others)


@pytest.fixture(scope="module")
def material(dev: RunningEmulator, prod: RunningEmulator) -> Iterator[Material]:
    """Run the promotion program and its failures once, with every log at DEBUG."""
    dev.admin.reset()
    prod.admin.reset()
    cfg = with_profile(config(dev), "prod", prod, key=PROD_KEY)
    errors: list[ProviderError] = []
    server = ProviderServer(cfg, env=hooked_env(log_level="DEBUG"))
    try:
        stack = Stack(server=server)
        stack.up({"dev": program(1)["dev"]})
        add_training_data(client_for(dev), stack.id("dev"))
        stack.up(program(1))
        stack.refresh()
        stack.preview(program(2))
        token = stack.outputs("export")["token"]
        assert token and isinstance(stack.state("export").outputs["token"], Secret)
        assert isinstance(stack.state("prod").inputs["import_token"], Secret)

        # Failures that involve a token: an invalid one, a mangled one, an expired one.
        bad_token = "bad-" + secrets.token_hex(24)
        for broken in (bad_token, token + "x"):
            with pytest.raises(ProviderError) as failure:
                stack.up({"other": project(import_token=Secret(broken), name="p2")})
            errors.append(failure.value)
        dev.admin.configure(export_token_ttl_seconds=0.001)
        expiring = {
            **program(1),
            "export2": export(project_id=Ref("dev", "id"), triggers={"again": 2}),
            "prod2": project(import_token=Ref("export2", "token"), name="p3", profile="prod"),
        }
        with pytest.raises(ProviderError) as failure:
            stack.up(expiring)
        errors.append(failure.value)
        dev.admin.configure(export_token_ttl_seconds=24 * 3600)
        tokens = {token, bad_token, token + "x", stack.outputs("export2")["token"]}
        state_leaks = scan_state(stack, {DEV_KEY, PROD_KEY}, tokens)
        stack.destroy()
    finally:
        server.close()
    output = server.output()

    # A rejected key: the provider must not echo it (nor the right one).
    wrong = "wrong-" + secrets.token_hex(16)
    wrong_server = ProviderServer(
        {**config(dev), "customvision:trainingKey": Secret(wrong)},
        env=hooked_env(log_level="DEBUG"),
    )
    try:
        with pytest.raises(ProviderError) as failure:
            Stack(server=wrong_server).up({"p": project(name="nope")})
        errors.append(failure.value)
        assert "key" in failure.value.message.lower(), failure.value.message
    finally:
        wrong_server.close()
    own, others = _split_output(output + "\n" + wrong_server.output())
    yield Material({DEV_KEY, PROD_KEY, wrong}, tokens, state_leaks, own, others, errors)


def test_state_holds_no_key_and_tokens_only_as_secrets(material: Material) -> None:
    assert not material.state_leaks, "\n".join(material.state_leaks)


def test_provider_logs_and_progress_hold_no_key_or_token(material: Material) -> None:
    leaks = scan_text("provider output", material.own_output, material.keys, material.tokens)
    assert not leaks, "\n".join(sorted(set(leaks)))
    # The scan looked at real material: debug logs and progress messages.
    assert "log DEBUG pulumi_customvision" in material.own_output
    assert "pulumi-customvision: waiting for" in material.own_output


def test_error_text_holds_no_key_or_token(material: Material) -> None:
    assert len(material.errors) == 4
    leaks: list[str] = []
    for error in material.errors:
        leaks += scan_text("error message", error.message, material.keys, material.tokens)
        leaks += scan_text("error details", error.details, material.keys, material.tokens)
    assert not leaks, "\n".join(sorted(set(leaks)))


def test_library_debug_logs_in_the_provider_process_hold_no_token(material: Material) -> None:
    """urllib3 logs every request line at DEBUG; ImportProject carries the token in its
    query string, so a process with DEBUG logging on writes the token to its logs unless the
    client filters urllib3's records."""
    leaks = scan_text("library logs", material.third_party_output, material.keys, material.tokens)
    assert not leaks, "\n".join(sorted(set(leaks)))


def test_the_emulator_binds_loopback_by_default() -> None:
    assert DEFAULT_HOST == "127.0.0.1" and Settings().host == "127.0.0.1"
    from customvision_emulator import cli

    assert cli.parse_args([]).host == "127.0.0.1"
    with run_emulator(**TEST_DEFAULTS) as emu:
        host = urlsplit(emu.url).hostname
        assert host == "127.0.0.1"
        # Nothing answers on another interface of this machine at that port.
        port = urlsplit(emu.url).port
        assert port is not None
        outward = _outward_address()
        if outward is not None:
            with socket.socket() as probe:
                probe.settimeout(1)
                assert probe.connect_ex((outward, port)) != 0


def _outward_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("key", [None, "", "wrong-key", DEV_KEY.upper()])
def test_the_emulator_refuses_a_wrong_key(dev: RunningEmulator, key: str | None) -> None:
    request = urllib.request.Request(f"{dev.url}/customvision/v3.3/training/projects")
    if key is not None:
        request.add_header("Training-Key", key)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    body = refused.value.read().decode()
    assert DEV_KEY not in body and (not key or key not in body)
    json.loads(body)


def test_the_emulator_accepts_the_right_key_in_any_header_case(dev: RunningEmulator) -> None:
    request = urllib.request.Request(f"{dev.url}/customvision/v3.3/training/projects")
    request.add_header("training-KEY", DEV_KEY)
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
