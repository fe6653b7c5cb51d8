"""The change recorder: every stored write of the chosen resource types, with the moment it was stored."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from sandbox.cluster import SandboxThread
from sandbox.recorder import ChangeRecorder, Resource

CONFIGMAPS = Resource("", "v1", "configmaps")
SECRETS = Resource("", "v1", "secrets")
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(simulate_workloads=False) as running:
        yield running


def test_writes_over_http_are_recorded_in_order_with_when_and_what(sandbox: SandboxThread) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    with ChangeRecorder(sandbox.emulator, [CONFIGMAPS]) as recorder, httpx.Client(base_url=sandbox.url) as http:
        before = time.time()
        http.post(path, json={"metadata": {"name": "weights"}, "data": {"canary": "0"}}).raise_for_status()
        http.patch(f"{path}/weights", json={"data": {"canary": "20"}}, headers=MERGE).raise_for_status()
        http.delete(f"{path}/weights").raise_for_status()
        after = time.time()
        changes = list(recorder.changes_since(0))
    assert [(c.type, c.name, c.namespace, c.plural) for c in changes] == [
        ("ADDED", "weights", "default", "configmaps"),
        ("MODIFIED", "weights", "default", "configmaps"),
        ("DELETED", "weights", "default", "configmaps"),
    ]
    assert before <= changes[0].at <= changes[1].at <= changes[2].at <= after
    assert changes[1].object["data"] == {"canary": "20"}
    assert changes[1].previous is not None and changes[1].previous["data"] == {"canary": "0"}


def test_only_the_chosen_types_and_only_while_started(sandbox: SandboxThread) -> None:
    emulator = sandbox.emulator
    recorder = ChangeRecorder(emulator, [SECRETS])
    emulator.create_object("", "v1", "secrets", {"metadata": {"name": "before"}}, "default")
    recorder.start()
    emulator.create_object("", "v1", "configmaps", {"metadata": {"name": "other-type"}}, "default")
    emulator.create_object("", "v1", "secrets", {"metadata": {"name": "during"}}, "default")
    recorder.stop()
    emulator.create_object("", "v1", "secrets", {"metadata": {"name": "after"}}, "default")
    assert [c.name for c in recorder.changes_since(0)] == ["during"]
    assert len(recorder) == 1 and list(recorder.changes_since(1)) == []


def test_wait_returns_as_soon_as_a_change_arrives(sandbox: SandboxThread) -> None:
    with ChangeRecorder(sandbox.emulator, [CONFIGMAPS]) as recorder:
        assert recorder.wait(0, timeout=0.05) is False
        writer = threading.Timer(0.1, lambda: sandbox.emulator.create_object(
            "", "v1", "configmaps", {"metadata": {"name": "awaited"}}, "default"))
        writer.start()
        assert recorder.wait(0, timeout=5) is True  # woken by the change (a timeout returns False)
        assert len(recorder) == 1
        writer.join()


def test_an_unknown_resource_is_refused(sandbox: SandboxThread) -> None:
    with pytest.raises(ValueError, match="serves no widgets"):
        ChangeRecorder(sandbox.emulator, [Resource("example.com", "v1", "widgets")])
