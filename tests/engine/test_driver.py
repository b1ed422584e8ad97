"""Tests of the engine driver itself, against the toy provider in ``toy_provider.py``."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine import (
    UNKNOWN,
    CheckFailedError,
    ProviderError,
    ProviderServer,
    Ref,
    Resource,
    Secret,
    Stack,
    live_servers,
    wait_until,
    with_provider,
)
from tests.engine.toy_provider import (
    AlwaysChangesProvider,
    DefaultDiffProvider,
    Store,
    ToyProvider,
)

TOKEN = "tok-123"


@pytest.fixture(scope="module")
def no_leaks() -> Iterator[None]:
    """Torn down last: every server this module started must be gone by then."""
    before = set(live_servers())
    yield
    deadline = time.monotonic() + 5
    while set(live_servers()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(live_servers()) - before == set()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("toy")


@pytest.fixture(scope="module")
def server(no_leaks: None, data_dir: Path) -> Iterator[ProviderServer]:
    """One server for the module (starting one costs about a second)."""
    with ProviderServer({"toy:dataDir": str(data_dir), "toy:token": Secret(TOKEN)}) as srv:
        yield srv


@pytest.fixture
def stack(server: ProviderServer) -> Iterator[Stack]:
    with Stack(server=server) as st:
        yield st


@pytest.fixture
def store(data_dir: Path) -> Store:
    return Store(data_dir)


def ops_for(store: Store, *names: str) -> list[list[Any]]:
    """The toy's op log restricted to the given item names, without reads."""
    return [op for op in store.read()["ops"] if op[2] in names and op[0] != "read"]


def item(name: str, **inputs: Any) -> Resource:
    return Resource(ToyProvider(), {"name": name, **inputs})


def test_create_then_second_up_is_empty(stack: Stack, store: Store) -> None:
    log = stack.up({"c1": item("c1", value="v")})
    assert log.ops() == {"c1": "create"}
    assert stack.last_second_up is not None and stack.last_second_up.ops() == {"c1": "same"}
    outs = stack.outputs("c1")
    assert outs["value"] == "v" and outs["revision"] == 1 and outs["item_id"] == stack.id("c1")
    assert store.read()["items"][stack.id("c1")]["name"] == "c1"
    # __provider is in state, secret, as pulumi.dynamic.Resource makes it.
    assert isinstance(stack.state("c1").inputs["__provider"], Secret)


def test_check_normalizes_and_fails(stack: Stack) -> None:
    stack.up({"n1": item("n1", value="  padded ")})
    assert stack.outputs("n1")["value"] == "padded"
    with pytest.raises(CheckFailedError, match="name must be a non-empty string") as err:
        stack.up({"n1": item("n1"), "n2": Resource(ToyProvider(), {"name": ""})})
    assert [(f.property, f.reason) for f in err.value.failures] == [
        ("name", "name must be a non-empty string")
    ]
    assert "n2" not in stack.resources


def test_update_in_place(stack: Stack, store: Store) -> None:
    stack.up({"u1": item("u1", value=1)})
    first_id = stack.id("u1")
    log = stack.up({"u1": item("u1", value=2)})
    assert log.ops() == {"u1": "update"}
    assert log.step("u1").changed_keys == ["value"]
    assert stack.id("u1") == first_id
    assert stack.outputs("u1")["revision"] == 2 and stack.outputs("u1")["value"] == 2
    assert [op[0] for op in ops_for(store, "u1")] == ["create", "update"]


def test_replace_create_before_delete(stack: Stack, store: Store) -> None:
    stack.up({"r1": item("r1", replace_key="a")})
    old_id = stack.id("r1")
    log = stack.up({"r1": item("r1", replace_key="b")})
    step = log.step("r1")
    assert step.op == "replace" and step.replaces == ["replace_key"]
    assert not step.delete_before_replace and step.old_id == old_id
    assert stack.id("r1") != old_id
    ops = ops_for(store, "r1")
    assert ops[1:] == [["create", stack.id("r1"), "r1"], ["delete", old_id, "r1"]]
    assert old_id not in store.read()["items"]
    assert stack.pending_deletes == []


def test_replace_delete_before_replace(stack: Stack, store: Store) -> None:
    stack.up({"r2": item("r2", replace_key="a", dbr=True)})
    old_id = stack.id("r2")
    log = stack.up({"r2": item("r2", replace_key="b", dbr=True)})
    assert log.step("r2").delete_before_replace
    assert ops_for(store, "r2")[1:] == [["delete", old_id, "r2"], ["create", stack.id("r2"), "r2"]]


def test_delete_before_replace_resource_option(stack: Stack, store: Store) -> None:
    stack.up({"r3": item("r3", replace_key="a")})
    old_id = stack.id("r3")
    decl = Resource(ToyProvider(), {"name": "r3", "replace_key": "b"}, delete_before_replace=True)
    stack.up({"r3": decl})
    assert [op[0] for op in ops_for(store, "r3")] == ["create", "delete", "create"]
    assert ops_for(store, "r3")[1][1] == old_id
    # ... and False overrides a provider that asks for delete-before-replace.
    stack.up({"r4": item("r4", replace_key="a", dbr=True)})
    decl = Resource(
        ToyProvider(), {"name": "r4", "replace_key": "b", "dbr": True}, delete_before_replace=False
    )
    assert not stack.up({"r4": decl}).step("r4").delete_before_replace
    assert [op[0] for op in ops_for(store, "r4")] == ["create", "create", "delete"]


def test_refs_and_removal_in_reverse_order(stack: Stack, store: Store) -> None:
    decls = {
        "a": item("d-a"),
        "b": item("d-b", value=Ref("a", "item_id")),
        "c": item("d-c", value=Ref("b", "note")),
    }
    stack.up(decls)
    assert stack.outputs("b")["value"] == stack.id("a")
    assert stack.outputs("c")["value"] == "item d-b"
    log = stack.up({"a": decls["a"]})
    assert [(s.name, s.op) for s in log] == [("a", "same"), ("c", "delete"), ("b", "delete")]
    assert [op[2] for op in ops_for(store, "d-b", "d-c") if op[0] == "delete"] == ["d-c", "d-b"]
    assert list(stack.resources) == ["a"]


def test_ref_path_reaches_into_map_and_list_outputs(stack: Stack) -> None:
    value = {"ids": {"https://x/1.png": "id-1", "https://x/2.png": "id-2"}, "list": [1, 2]}
    decls = {
        "m": item("k-m", value=value),
        "one": item("k-one", value=Ref("m", "value", "ids", "https://x/2.png")),
        "deep": item("k-deep", value=Ref("m", "value", "list", 1)),
        "secret": item("k-secret", value=Secret(value)),
        "from-secret": item(
            "k-from-secret", value=Ref("secret", "value", "ids", "https://x/1.png")
        ),
    }
    stack.up(decls)
    assert stack.outputs("one")["value"] == "id-2"
    assert stack.outputs("deep")["value"] == 2
    # secret along the path
    assert stack.resources["from-secret"].outputs["value"] == Secret("id-1")
    assert Ref("m", "value") == Ref("m", "value", *())  # no path: the whole output

    # A path into an output that is unknown in preview is unknown; a missing step raises.
    assert (
        stack.preview({"n": item("k-n"), "p": item("k-p", value=Ref("n", "note", "x"))}).ops()["p"]
        == "create"
    )
    with pytest.raises(KeyError, match=r"has no 'https://x/3\.png'"):
        stack.up({**decls, "bad": item("k-bad", value=Ref("m", "value", "ids", "https://x/3.png"))})


def test_replacement_propagates_through_refs(stack: Stack) -> None:
    decls = {"a": item("p-a", replace_key="1"), "b": item("p-b", value=Ref("a", "item_id"))}
    stack.up(decls)
    decls["a"] = item("p-a", replace_key="2")
    log = stack.up(decls)
    assert log.ops() == {"a": "replace", "b": "update"}
    assert stack.outputs("b")["value"] == stack.id("a")


def test_preview_with_unknown_ref_calls_no_create(stack: Stack, store: Store) -> None:
    decls = {
        "a": item("v-a", value="x"),
        "b": item("v-b", value=Ref("a", "item_id"), echo=Ref("a", "value")),
    }
    before = len(store.read()["ops"])
    calls_before = len(stack.server.calls)
    log = stack.preview(decls)
    assert log.ops() == {"a": "create", "b": "create"}
    assert "Create" not in stack.server.calls[calls_before:]
    assert len(store.read()["ops"]) == before and stack.resources == {}

    stack.up(decls)
    # Replacing a makes its id unknown in preview; b then shows an update of value.
    decls["a"] = item("v-a", value="x", replace_key="new")
    calls_before = len(stack.server.calls)
    log = stack.preview(decls)
    assert log.ops() == {"a": "replace", "b": "update"}
    assert log.step("b").changed_keys == ["value"]
    assert set(stack.server.calls[calls_before:]) == {"Check", "Diff"}


def test_preview_unknown_reaches_check_and_echoes_inputs(stack: Stack) -> None:
    # name is unknown in preview: toy check lets unknowns through, so no failure.
    decls = {"a": item("w-a", value="known"), "b": Resource(ToyProvider(), {"name": Ref("a")})}
    assert stack.preview(decls).ops() == {"a": "create", "b": "create"}
    # The raw server round-trips the unknown sentinel through Check.
    result = stack.server.check({}, with_provider(ToyProvider(), {"name": UNKNOWN}))
    assert result.failures == [] and result.inputs["name"] == UNKNOWN


def test_configure_reaches_provider_with_secret_unwrapped(stack: Stack, store: Store) -> None:
    stack.up({"cfg": item("cfg")})
    configured = store.read()["configured"]
    assert configured, "provider.configure was never called"
    entry = configured[-1]
    assert entry["token"] == TOKEN and entry["token_type"] == "str"
    assert entry["pid"] == stack.server.pid


def test_provider_exception_surfaces_as_provider_error(stack: Stack) -> None:
    with pytest.raises(ProviderError, match="toy create failed for e1") as err:
        stack.up({"e1": item("e1", fail_on="create")})
    assert err.value.exception_type == "ValueError"
    assert err.value.message == "toy create failed for e1"
    assert err.value.resource == "e1" and not err.value.crashed
    assert "e1" not in stack.resources  # a failed create leaves nothing in state

    stack.up({"e2": item("e2", value=1)})
    with pytest.raises(ProviderError, match="toy update failed"):
        stack.up({"e2": item("e2", value=2, fail_on="update")})
    assert stack.outputs("e2")["value"] == 1  # a failed update keeps the old state


def test_failed_replaced_delete_stays_pending(stack: Stack) -> None:
    stack.up({"f1": item("f1", replace_key="a", fail_on="delete")})
    old_id = stack.id("f1")
    with pytest.raises(ProviderError, match="toy delete failed"):
        stack.up({"f1": item("f1", replace_key="b")})
    assert stack.id("f1") != old_id  # the replacement exists
    assert [st.id for st in stack.pending_deletes] == [old_id]
    stack.pending_deletes[0].outputs.pop("fail_on")  # "fix" the service, then retry
    log = stack.up({"f1": item("f1", replace_key="b")})
    assert ("f1", "delete") in [(s.name, s.op) for s in log] and stack.pending_deletes == []


def test_refresh_drift_and_deletion(stack: Stack, store: Store) -> None:
    stack.up({"g1": item("g1", value="v"), "g2": item("g2")})
    with store.edit() as data:
        data["items"][stack.id("g1")]["value"] = "drifted"
        del data["items"][stack.id("g2")]
    log = stack.refresh()
    assert log.ops() == {"g1": "read", "g2": "deleted"}
    assert log.step("g1").changed_keys == ["value"]
    assert stack.outputs("g1")["value"] == "drifted" and "g2" not in stack.resources
    log = stack.up({"g1": item("g1", value="v"), "g2": item("g2")})
    assert log.ops() == {"g1": "update", "g2": "create"}


def test_destroy_in_reverse_order(stack: Stack, store: Store) -> None:
    stack.up({"h1": item("h1"), "h2": item("h2", value=Ref("h1"))})
    ids = [stack.id("h1"), stack.id("h2")]
    log = stack.destroy()
    assert [(s.name, s.op) for s in log] == [("h2", "delete"), ("h1", "delete")]
    assert stack.resources == {}
    assert not set(ids) & set(store.read()["items"])


def test_engine_diff_when_provider_says_unknown(stack: Stack) -> None:
    decl = Resource(DefaultDiffProvider(), {"name": "dd", "value": 1})
    stack.up({"dd": decl})
    assert stack.last_second_up is not None
    assert stack.last_second_up.step("dd").diff_source == "engine"
    log = stack.up({"dd": Resource(DefaultDiffProvider(), {"name": "dd", "value": 2})})
    assert log.step("dd").op == "update" and log.step("dd").changed_keys == ["value"]


def test_non_empty_second_up_is_reported(stack: Stack) -> None:
    with pytest.raises(AssertionError, match="second up was not empty: update always"):
        stack.up({"always": Resource(AlwaysChangesProvider(), {"name": "always"})})
    stack.up(
        {"always": Resource(AlwaysChangesProvider(), {"name": "always"})},
        expect_empty_second_up=False,
    )


def test_secrets_in_inputs_and_outputs(stack: Stack) -> None:
    decl = Resource(
        ToyProvider(), {"name": "s1", "value": Secret("hush")}, additional_secret_outputs=["note"]
    )
    stack.up({"s1": decl})
    outs = stack.state("s1").outputs
    assert outs["value"] == Secret("hush")  # annotated from the secret input
    assert outs["note"] == Secret("item s1")  # additional_secret_outputs
    assert stack.outputs("s1")["value"] == "hush"


def test_kill_mid_create_then_restart(data_dir: Path, store: Store, no_leaks: None) -> None:
    with Stack({"toy:dataDir": str(data_dir)}) as st:
        op = st.up_in_background({"k1": item("k1", create_delay=30)})
        wait_until(lambda: ["create-started"] in [o[:1] for o in ops_for_all(store, "k1")])
        pid = st.server.pid
        st.server.kill()
        with pytest.raises(ProviderError) as err:
            op.wait(timeout=10)
        assert err.value.crashed and err.value.resource == "k1"
        assert not st.server.alive and "k1" not in st.resources
        assert pid is not None and not _pid_running(pid)

        st.restart_server()
        assert st.server.alive and st.server.pid != pid
        assert st.up({"k1": item("k1")}).ops() == {"k1": "create"}


def ops_for_all(store: Store, name: str) -> list[list[Any]]:
    return [op for op in store.read()["ops"] if op[2] == name]


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers; check its state.
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "zombie" not in status


def test_close_stops_the_process(no_leaks: None, data_dir: Path) -> None:
    srv = ProviderServer({"toy:dataDir": str(data_dir)})
    pid = srv.pid
    assert srv.alive and srv in live_servers()
    srv.close()
    srv.close()  # idempotent
    assert not srv.alive and srv not in live_servers()
    assert pid is not None and not _pid_running(pid)
