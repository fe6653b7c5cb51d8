"""The serving layer: Status errors, the request log, kmock reactions, and the two ways to run the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import kmock
import pytest
from emulator_helpers import GROUP, VERSION, configmap, patch_headers, read_events, widget

from sandbox.emulator import ApiEmulator, EmulatorThread, RequestRecord, running_emulator

CM = "/api/v1/namespaces/default/configmaps"


def _assert_status(response: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    status: dict[str, Any] = response.json()
    assert status["kind"] == "Status"
    assert status["apiVersion"] == "v1"
    assert status["status"] == "Failure"
    assert status["code"] == code
    assert status["reason"] == reason
    assert status["message"]
    return status


def test_errors_are_status_objects_with_kubernetes_reasons(http: httpx.Client, widgets: dict[str, Any]) -> None:
    status = _assert_status(http.get(f"{CM}/ghost"), 404, "NotFound")
    assert status["details"] == {"name": "ghost", "kind": "configmaps"}

    http.post(CM, json=configmap("a")).raise_for_status()
    status = _assert_status(http.post(CM, json=configmap("a")), 409, "AlreadyExists")
    assert status["details"]["name"] == "a"

    stale = configmap("a")
    stale["metadata"]["resourceVersion"] = "1"
    _assert_status(http.put(f"{CM}/a", json=stale), 409, "Conflict")

    invalid = _assert_status(http.post(CM, json={"metadata": {}}), 422, "Invalid")
    assert invalid["details"]["kind"] == "ConfigMap"

    _assert_status(http.post(CM, content=b"{not json", headers={"Content-Type": "application/json"}),
                   400, "BadRequest")
    http.post(f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets", json=widget("w")).raise_for_status()
    _assert_status(http.patch(f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets/w",
                              headers=patch_headers("strategic"), json={}), 415, "UnsupportedMediaType")
    _assert_status(http.post(f"{CM}/a", json=configmap("a")), 405, "MethodNotAllowed")
    _assert_status(http.get("/apis/nothing.example/v1/things"), 404, "NotFound")
    status = _assert_status(http.put("/apis/apps/v1/namespaces/default/deployments/ghost/scale", json={}),
                            404, "NotFound")
    assert status["details"] == {"name": "ghost", "group": "apps", "kind": "deployments"}


def test_gone_is_reported_as_expired_status() -> None:
    with EmulatorThread(emulator=ApiEmulator(history_limit=1)) as thread, \
            httpx.Client(base_url=thread.url) as http:
        for name in ("a", "b", "c"):
            http.post(CM, json=configmap(name)).raise_for_status()
        with http.stream("GET", CM, params={"watch": "true", "resourceVersion": "1"}) as stream:
            (event,) = read_events(stream)
    assert event["object"]["code"] == 410
    assert event["object"]["reason"] == "Expired"


def test_requests_are_recorded_with_kubernetes_verbs(http: httpx.Client, emulator: ApiEmulator) -> None:
    emulator.requests.clear()
    http.post(CM, json=configmap("a")).raise_for_status()
    http.get(f"{CM}/a").raise_for_status()
    http.get(CM).raise_for_status()
    http.put(f"{CM}/a", json=configmap("a")).raise_for_status()
    http.patch(f"{CM}/a", headers=patch_headers("merge"), json={"data": {}}).raise_for_status()
    with http.stream("GET", CM, params={"watch": "true", "timeoutSeconds": "1"}) as stream:
        read_events(stream, 1)
    http.delete(f"{CM}/a").raise_for_status()
    http.delete(CM).raise_for_status()
    http.get("/apis/apps/v1/namespaces/default/deployments/web/scale")
    http.get("/api/v1").raise_for_status()
    assert [(r.verb, r.resource, r.namespace, r.name) for r in emulator.requests] == [
        ("create", "configmaps", "default", None),
        ("get", "configmaps", "default", "a"),
        ("list", "configmaps", "default", None),
        ("update", "configmaps", "default", "a"),
        ("patch", "configmaps", "default", "a"),
        ("watch", "configmaps", "default", None),
        ("delete", "configmaps", "default", "a"),
        ("deletecollection", "configmaps", "default", None),
        ("get", "deployments", "default", "web"),
        ("get", "", None, None),
    ]
    scale = emulator.requests[-2]
    assert (scale.group, scale.version, scale.subresource, scale.code) == ("apps", "v1", "scale", 404)
    assert emulator.requests[0] == RequestRecord("create", "", "v1", "configmaps", None, "default", None,
                                                 code=201, path=CM)


def test_write_count_counts_writes(http: httpx.Client, emulator: ApiEmulator) -> None:
    before = emulator.write_count()
    http.post(CM, json=configmap("a")).raise_for_status()
    http.get(f"{CM}/a").raise_for_status()
    http.patch(f"{CM}/a", headers=patch_headers("merge"), json={"data": {"x": "1"}}).raise_for_status()
    http.post(CM, json=configmap("a"))  # refused, but still a write request served
    http.delete(f"{CM}/a").raise_for_status()
    assert emulator.write_count() - before == 4


def test_kmock_reactions_take_precedence(emulator: ApiEmulator, http: httpx.Client) -> None:
    emulator["get /api/v1/namespaces/default/configmaps/injected"] << 503 << {"injected": True}
    response = http.get(f"{CM}/injected")
    assert response.status_code == 503
    assert response.json() == {"injected": True}
    assert http.get(f"{CM}/other").status_code == 404  # everything else is still the API


def test_protobuf_namespace_create_is_decoded(http: httpx.Client) -> None:
    # What `kubectl create namespace x` sends: a k8s-framed protobuf Namespace.
    body = (b"k8s\x00\n\x0f\n\x02v1\x12\tNamespace\x12\x19\n\x11\n\x01x\x12\x00\x1a\x00\"\x00*\x002\x008\x00B\x00"
            b"\x12\x00\x1a\x02\n\x00\x1a\x00\"\x00")
    response = http.post("/api/v1/namespaces", content=body,
                         headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert response.status_code == 201, response.text
    assert response.json()["metadata"]["name"] == "x"


def test_unsupported_protobuf_kind_is_unsupported_media_type(http: httpx.Client) -> None:
    body = b"k8s\x00\n\x10\n\x02v1\x12\nLimitRange\x12\x00"
    response = http.post("/api/v1/namespaces/default/limitranges", content=body,
                         headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    _assert_status(response, 415, "UnsupportedMediaType")


def test_yaml_bodies_are_accepted(http: httpx.Client) -> None:
    response = http.post(CM, content=b"metadata: {name: y}\ndata: {k: v}\n",
                         headers={"Content-Type": "application/yaml"})
    assert response.status_code == 201
    assert response.json()["data"] == {"k": "v"}


async def test_running_emulator_serves_on_the_current_loop() -> None:
    async with running_emulator() as handle, httpx.AsyncClient(base_url=handle.url) as http:
        assert handle.url.startswith("http://127.0.0.1:")
        assert isinstance(handle.server, kmock.Server)
        response = await http.post(CM, json=configmap("a"))
        assert response.status_code == 201
        assert handle.emulator.get_object("", "v1", "configmaps", "default", "a") is not None
        async with http.stream("GET", CM, params={"watch": "true"}) as stream:
            line = await anext(stream.aiter_lines())
            assert '"ADDED"' in line
        # an open watch must not hold the shutdown
        watcher = asyncio.ensure_future(http.get(CM, params={"watch": "true"}))
        await asyncio.sleep(0.05)
    watcher.cancel()


def test_emulator_thread_call_runs_on_the_emulator_loop(emulator_thread: EmulatorThread) -> None:
    async def loop_of() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert emulator_thread.call(loop_of) is emulator_thread.loop


def test_two_emulators_stop_in_any_order() -> None:
    first, second = EmulatorThread(), EmulatorThread()
    first.start()
    second.start()
    assert first.url != second.url
    first.stop()  # not LIFO: kmock's resolver patching would refuse this
    with httpx.Client(base_url=second.url) as http:
        assert http.get("/version").status_code == 200
    second.stop()


def test_emulator_thread_stop_is_idempotent_and_url_needs_start() -> None:
    thread = EmulatorThread()
    with pytest.raises(RuntimeError):
        _ = thread.url
    thread.stop()  # never started: nothing to do
