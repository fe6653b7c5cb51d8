"""Fixtures for the emulator's conformance tests: a served emulator, the official client, raw HTTP, CRDs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emulator_helpers import WIDGET_CRD
from kubernetes import client

from sandbox.emulator import ApiEmulator, EmulatorThread


@pytest.fixture
def emulator_thread() -> Iterator[EmulatorThread]:
    with EmulatorThread(emulator=ApiEmulator(bookmark_interval=0.2)) as thread:
        yield thread


@pytest.fixture
def emulator(emulator_thread: EmulatorThread) -> ApiEmulator:
    return emulator_thread.emulator


@pytest.fixture
def api_client(emulator_thread: EmulatorThread) -> Iterator[client.ApiClient]:
    configuration = client.Configuration(host=emulator_thread.url)
    with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def extensions(api_client: client.ApiClient) -> client.ApiextensionsV1Api:
    return client.ApiextensionsV1Api(api_client)


@pytest.fixture
def http(emulator_thread: EmulatorThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator_thread.url, timeout=10) as session:
        yield session


@pytest.fixture
def widgets(extensions: client.ApiextensionsV1Api) -> dict[str, Any]:
    """The Widget CRD, created through the API as a user would."""
    extensions.create_custom_resource_definition(WIDGET_CRD)
    return WIDGET_CRD
