"""A kopf operator runs cleanly against the emulator: finalizer, timer, status patches, deletion, no retries."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kopf
import pytest
from emulator_helpers import WIDGET_CRD, eventually, widget
from kopf.testing import KopfRunner
from kubernetes import client

from sandbox.emulator import ApiEmulator, EmulatorThread

OPERATOR = Path(__file__).with_name("kopf_operator_app.py")
GROUP, VERSION, PLURAL = "sandbox.test", "v1", "widgets"
KOPF_FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"

# Signs of an operator fighting the API: kopf's retry/backoff wording and failed HTTP calls.
TROUBLE = re.compile(r"will retry|Patching failed|Could not apply the patch|APIError|APIClientError|"
                     r"\b(4\d\d|5\d\d) [A-Z][a-z]+|Traceback|Unprocessable|Conflict", re.IGNORECASE)


@pytest.fixture
def own_registry() -> Iterator[kopf.OperatorRegistry]:
    # kopf loads the operator's handlers into its process-wide default registry; give them a registry of
    # their own and put the previous one back, so other tests' operators never see these handlers.
    previous = kopf.get_default_registry()
    registry = kopf.OperatorRegistry()
    try:
        yield registry
    finally:
        kopf.set_default_registry(previous)


@pytest.fixture
def operator_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorThread]:
    # Bookmarks every 0.3 s: kopf must take them in its stride.
    with EmulatorThread(emulator=ApiEmulator(bookmark_interval=0.3)) as thread:
        monkeypatch.setenv("EMULATOR_TEST_API_URL", thread.url)
        yield thread


def _get(custom: client.CustomObjectsApi, name: str) -> dict[str, Any] | None:
    try:
        obj: dict[str, Any] = custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, name)
        return obj
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def test_kopf_operator_handles_lifecycle_without_retries(operator_cluster: EmulatorThread,
                                                         own_registry: kopf.OperatorRegistry) -> None:
    emulator = operator_cluster.emulator
    with client.ApiClient(client.Configuration(host=operator_cluster.url)) as api:
        client.ApiextensionsV1Api(api).create_custom_resource_definition(WIDGET_CRD)
        custom = client.CustomObjectsApi(api)
        args = ["run", "-A", "--standalone", "--verbose", str(OPERATOR)]
        with KopfRunner(args, timeout=10, registry=own_registry) as runner:
            custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, widget("w1"))

            def ticked_twice() -> bool:
                status = (_get(custom, "w1") or {}).get("status", {})
                return status.get("phase") == "Created" and status.get("ticks", 0) >= 2

            eventually(ticked_twice, timeout=8)
            live = _get(custom, "w1")
            assert live is not None
            assert KOPF_FINALIZER in live["metadata"]["finalizers"]
            assert live["metadata"]["generation"] == 1  # status patches never bump it

            custom.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "w1")
            eventually(lambda: _get(custom, "w1") is None, timeout=5)
            watched_requests = len(emulator.requests)

    output = runner.output
    assert runner.exit_code == 0, output
    assert runner.exception is None
    assert output.count("CREATE-HANDLER-RAN w1") == 1
    assert output.count("Handler 'created' succeeded") == 1
    assert output.count("TIMER-TICKED") >= 2
    assert output.count("DELETE-HANDLER-RAN w1") == 1
    assert "Removing the finalizer" in output
    assert "Deleted, really deleted" in output
    assert not TROUBLE.search(output), TROUBLE.search(output)

    by_kind = Counter((r.verb, r.resource, r.subresource) for r in emulator.requests if r.resource == PLURAL)
    failures = [r for r in emulator.requests if r.code >= 400 and not (r.verb == "get" and r.code == 404)]
    assert failures == []
    assert by_kind[("create", PLURAL, None)] == 1
    assert by_kind[("delete", PLURAL, None)] == 1
    assert by_kind[("patch", PLURAL, "status")] >= 2  # the create handler's phase and the timer's ticks
    assert watched_requests < 80, by_kind  # a retry loop would run into hundreds within the test
