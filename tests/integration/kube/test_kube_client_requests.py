"""kube.client's requests against the API emulator over HTTP, with a kubeconfig's token as the controller has it:
every verb from the event loop, the API's refusals as the same ``ApiError`` classes with the server's reason and
message, an unreachable server named, the write guard refusing before anything is sent, and the token in no error.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kube.client import AsyncKubeClient, KubeClient, load_api_client
from kube.errors import ApiError, Conflict, NotFound, Unreachable
from kube.resources import CONFIGMAPS
from sandbox.cluster import write_kubeconfig
from sandbox.emulator import ApiEmulator, EmulatorThread

TOKEN = "client-test-s3cret-token"
NAMESPACE = "default"


class Refused(Exception):
    """The test's write guard: this process may not write now."""


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(emulator=ApiEmulator()) as thread:
        # Only once it answers: the thread's own readiness probe sends no token. A request without the
        # kubeconfig's token is refused (401), so every answer below also proves the header was sent.
        thread.emulator.bearer_token = TOKEN
        yield thread


@pytest.fixture
def writing() -> list[bool]:
    """Whether the guard lets writes through; a test flips it."""
    return [True]


@pytest.fixture
async def kube(emulator: EmulatorThread, tmp_path: Path, writing: list[bool]) -> AsyncIterator[AsyncKubeClient]:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", emulator.url, token=TOKEN)

    def guard() -> None:
        if not writing[0]:
            raise Refused("not the leader: refusing to write")

    client = AsyncKubeClient(KubeClient(load_api_client(str(kubeconfig)), timeout=10, write_guard=guard))
    try:
        yield client
    finally:
        client.close()


def configmap(name: str, value: str = "1") -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": NAMESPACE}, "data": {"v": value}}


async def test_create_get_list_and_delete_round_trip_one_object(kube: AsyncKubeClient) -> None:
    created = await kube.create(CONFIGMAPS, NAMESPACE, configmap("round-trip"))
    assert (created["apiVersion"], created["kind"]) == ("v1", "ConfigMap")  # kind.manifest fills them in
    fetched = await kube.get(CONFIGMAPS, NAMESPACE, "round-trip")
    assert fetched["metadata"]["uid"] == created["metadata"]["uid"]
    listed = await kube.list(CONFIGMAPS, NAMESPACE, field_selector="metadata.name=round-trip")
    assert [item["metadata"]["name"] for item in listed] == ["round-trip"]
    assert listed[0]["kind"] == "ConfigMap"
    await kube.delete(CONFIGMAPS, NAMESPACE, "round-trip")
    assert await kube.get_or_none(CONFIGMAPS, NAMESPACE, "round-trip") is None


@pytest.mark.parametrize(
    ("patch_type", "patch", "expected"),
    [
        ("merge", {"data": {"v": "2"}}, {"v": "2"}),
        ("json", [{"op": "add", "path": "/data/w", "value": "3"}], {"v": "1", "w": "3"}),
        ("strategic", {"data": {"v": "4"}}, {"v": "4"}),
    ],
)
async def test_each_patch_type_is_sent_with_its_content_type(
    kube: AsyncKubeClient, patch_type: str, patch: object, expected: dict[str, str]
) -> None:
    name = f"patched-{patch_type}"
    await kube.create(CONFIGMAPS, NAMESPACE, configmap(name))
    patched = await kube.patch(CONFIGMAPS, NAMESPACE, name, patch, patch_type=patch_type)
    assert patched["data"] == expected
    assert (await kube.get(CONFIGMAPS, NAMESPACE, name))["data"] == expected


async def test_replace_writes_the_whole_object(kube: AsyncKubeClient) -> None:
    created = await kube.create(CONFIGMAPS, NAMESPACE, configmap("replaced"))
    body = {**configmap("replaced", "9"), "metadata": created["metadata"]}
    replaced = await kube.replace(CONFIGMAPS, NAMESPACE, "replaced", body)
    assert replaced["data"] == {"v": "9"}


async def test_a_missing_object_is_not_found_with_the_servers_message(kube: AsyncKubeClient) -> None:
    with pytest.raises(NotFound) as raised:
        await kube.get(CONFIGMAPS, NAMESPACE, "absent")
    assert (raised.value.code, raised.value.reason) == (404, "NotFound")
    assert '"absent" not found' in raised.value.message  # Kubernetes' words: configmaps "absent" not found


async def test_creating_an_existing_object_is_a_conflict(kube: AsyncKubeClient) -> None:
    await kube.create(CONFIGMAPS, NAMESPACE, configmap("twice"))
    with pytest.raises(Conflict) as raised:
        await kube.create(CONFIGMAPS, NAMESPACE, configmap("twice"))
    assert (raised.value.code, raised.value.reason) == (409, "AlreadyExists")


async def test_an_invalid_object_is_an_api_error_422_naming_the_field(kube: AsyncKubeClient) -> None:
    with pytest.raises(ApiError) as raised:
        await kube.create(CONFIGMAPS, NAMESPACE, configmap("Not_A_DNS_Name"))
    assert (raised.value.code, raised.value.reason) == (422, "Invalid")
    assert "metadata.name" in raised.value.message


async def test_a_refused_write_is_never_sent_and_reads_go_on(
    kube: AsyncKubeClient, emulator: EmulatorThread, writing: list[bool]
) -> None:
    await kube.create(CONFIGMAPS, NAMESPACE, configmap("fenced"))
    writing[0] = False
    sent_before = len(emulator.emulator.requests)
    for write in (
        kube.patch(CONFIGMAPS, NAMESPACE, "fenced", {"data": {"v": "2"}}),
        kube.create(CONFIGMAPS, NAMESPACE, configmap("fenced-2")),
        kube.replace(CONFIGMAPS, NAMESPACE, "fenced", configmap("fenced", "3")),
        kube.delete(CONFIGMAPS, NAMESPACE, "fenced"),
    ):
        with pytest.raises(Refused):
            await write
    assert (await kube.get(CONFIGMAPS, NAMESPACE, "fenced"))["data"] == {"v": "1"}
    assert [record.verb for record in emulator.emulator.requests[sent_before:]] == ["get"]


async def test_an_error_never_carries_the_token(kube: AsyncKubeClient) -> None:
    with pytest.raises(NotFound) as raised:
        await kube.patch(CONFIGMAPS, NAMESPACE, "absent", {"data": {"v": "1"}})
    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(raised.value.__dict__)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_server_is_named_and_the_token_is_not(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, token=TOKEN)
    kube = AsyncKubeClient(KubeClient(load_api_client(str(kubeconfig)), timeout=5))
    try:
        with pytest.raises(Unreachable) as raised:
            await kube.patch(CONFIGMAPS, NAMESPACE, "x", {"data": {"v": "1"}})
    finally:
        kube.close()
    assert f"cannot reach the Kubernetes API at {url}" in str(raised.value)
    assert TOKEN not in str(raised.value)
