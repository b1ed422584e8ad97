"""Helpers for the emulator tests: a raw HTTP client per API version and test images."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from customvision_emulator.samples import png
from customvision_emulator.testing import RunningEmulator

GENERAL_CLASSIFICATION = "ee85a74c-405e-4adc-bb47-ffa8ca0c9f31"
GENERAL_DETECTION = "da2e3a8a-40a5-4171-82f4-58522f70fbc1"
PREDICTION_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.CognitiveServices/accounts/prediction"
)


class Api:
    """A thin raw client of one API version of the emulator."""

    def __init__(self, emu: RunningEmulator, version: str = "3.3") -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Training-Key"] = emu.training_key
        self.version = version
        segment = "Training" if version.startswith("2.") else "training"
        self.base = f"{emu.url}/customvision/v{version}/{segment}"

    def at(self, version: str) -> Api:
        """The same emulator, another version."""
        return Api(self.emu, version)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request; ``path`` is relative to the version's base."""
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base + path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """Send and assert the status; the JSON body (None if empty)."""
        r = self.call(method, path, **kwargs)
        assert r.status_code == status, (r.status_code, r.text)
        return r.json() if r.content else None

    def error(self, method: str, path: str, status: int, code: str, **kwargs: Any) -> Any:
        """Send and assert a service error ``{"code", "message"}``."""
        r = self.call(method, path, **kwargs)
        assert r.status_code == status, (r.status_code, r.text)
        body = r.json()
        assert body["code"] == code, body
        assert body["message"]
        return body

    # shortcuts
    def project(self, name: str = "p", domain: str = GENERAL_CLASSIFICATION, **params: Any) -> Any:
        return self.ok("POST", "/projects", params={"name": name, "domainId": domain, **params})

    def tag(self, pid: str, name: str) -> Any:
        return self.ok("POST", f"/projects/{pid}/tags", params={"name": name})

    def images(self, pid: str, seeds: range | list[int], tag_ids: list[str]) -> list[str]:
        files = [("imageData", (f"{s}.png", png(s), "image/png")) for s in seeds]
        body = self.ok(
            "POST", f"/projects/{pid}/images", params={"tagIds": ",".join(tag_ids)}, files=files
        )
        assert body["isBatchSuccessful"], body
        return [i["image"]["id"] for i in body["images"]]

    def trainable(self, name: str = "p") -> tuple[str, list[str]]:
        """A classification project with 2 tags x 5 images (the minimum to train)."""
        pid = self.project(name)["id"]
        tags = [self.tag(pid, "a")["id"], self.tag(pid, "b")["id"]]
        self.images(pid, range(0, 5), [tags[0]])
        self.images(pid, range(5, 10), [tags[1]])
        return pid, tags

    def wait_iteration(self, pid: str, iid: str, status: str, timeout: float = 10) -> Any:
        """Poll the iteration until its status is ``status`` (asserted within ``timeout``)."""
        return self._wait(f"/projects/{pid}/iterations/{iid}", status, timeout)

    def wait_project(self, pid: str, status: str, timeout: float = 10) -> Any:
        """Poll the project until its status is ``status`` (asserted within ``timeout``)."""
        return self._wait(f"/projects/{pid}", status, timeout)

    def _wait(self, path: str, status: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = self.ok("GET", path)
            if found["status"] == status or time.monotonic() > deadline:
                assert found["status"] == status, found
                return found
            time.sleep(0.05)


@pytest.fixture
def api(customvision_emulator: RunningEmulator) -> Iterator[Api]:
    """A v3.3 client of a freshly reset emulator."""
    client = Api(customvision_emulator)
    yield client
    client.session.close()
