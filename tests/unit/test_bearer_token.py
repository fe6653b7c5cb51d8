"""The blocking client's Authorization header is the one the ``kubernetes`` package's ``param_serialize`` sets for
``auth_settings=["BearerToken"]``, with the configuration's token refresh run at most once per interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from kube.bearer_token import BearerAuthorization
from kube.client import KubeClient, load_api_client
from kube.resources import CONFIGMAPS
from sandbox.cluster import write_kubeconfig
from tests.recording_api import recording_api
from tests.token_refresh import ManualClock, refreshing


def package_header(configuration: Any) -> str | None:
    """What the kubernetes package itself sends: the expectation, from outside the code under test."""
    _, _, headers, _, _ = k8s.ApiClient(configuration).param_serialize(
        "PATCH", "/api/v1/namespaces/ns/configmaps/x", header_params={}, auth_settings=["BearerToken"]
    )
    value = headers.get("authorization")
    return None if value is None else str(value)


@pytest.mark.parametrize(
    ("api_key", "api_key_prefix"),
    [
        ({"authorization": "Bearer abc"}, {}),  # load_kube_config: the whole header under "authorization"
        ({"BearerToken": "abc"}, {"BearerToken": "Bearer"}),  # by hand: the token and its prefix apart
        ({"BearerToken": "abc"}, {}),  # no prefix: the package sends the bare token
        ({"BearerToken": "abc", "authorization": "Bearer other"}, {}),  # BearerToken wins, as in the package
        ({}, {}),  # no token: no header
    ],
)
def test_the_header_is_the_one_the_kubernetes_package_sends(
    api_key: dict[str, str], api_key_prefix: dict[str, str]
) -> None:
    configuration = k8s.Configuration(host="https://x", api_key=api_key, api_key_prefix=api_key_prefix)
    assert BearerAuthorization(configuration).header() == package_header(configuration)


def test_basic_auth_fields_alone_send_no_header_as_the_packages_bearer_setting_does_not() -> None:
    configuration = k8s.Configuration(host="https://x", username="Aladdin", password="open sesame")
    assert package_header(configuration) is None
    assert BearerAuthorization(configuration).header() is None


def test_a_kubeconfigs_token_is_sent_as_the_package_sends_it(tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:1", token="s3cret-token")
    configuration = load_api_client(str(kubeconfig)).configuration
    assert configuration.refresh_api_key_hook is not None  # the loader's hook is what the throttle is about
    header = BearerAuthorization(configuration).header()
    assert header == package_header(configuration) == "Bearer s3cret-token"


def test_the_refresh_hook_runs_before_the_first_request() -> None:
    configuration = k8s.Configuration(host="https://x", api_key={"authorization": "Bearer token-0"})
    calls = refreshing(configuration)
    assert BearerAuthorization(configuration, clock=ManualClock()).header() == "Bearer token-1"
    assert calls == ["refresh"]


def test_the_refresh_hook_runs_at_most_once_per_interval() -> None:
    configuration = k8s.Configuration(host="https://x", api_key={"authorization": "Bearer token-0"})
    calls = refreshing(configuration)
    clock = ManualClock()
    authorization = BearerAuthorization(configuration, refresh_interval=1.0, clock=clock)
    assert authorization.header() == "Bearer token-1"
    clock.now += 0.5
    assert authorization.header() == "Bearer token-1"  # within the interval: the token as last refreshed
    clock.now += 0.5
    assert authorization.header() == "Bearer token-2"  # a whole interval later: refreshed again
    assert len(calls) == 2


def test_without_a_token_the_refresh_hook_is_not_run_as_in_the_package() -> None:
    configuration = k8s.Configuration(host="https://x")
    calls = refreshing(configuration)
    assert BearerAuthorization(configuration, clock=ManualClock()).header() is None
    assert calls == []


def test_a_patch_carries_the_headers_param_serialize_builds(tmp_path: Path) -> None:
    with recording_api() as (url, seen):
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, token="s3cret-token")
        api = load_api_client(str(kubeconfig))
        _, requested, expected, _, _ = api.param_serialize(
            "PATCH", "/api/v1/namespaces/ns/configmaps/x", auth_settings=["BearerToken"],
            header_params={"Accept": "application/json", "Content-Type": "application/merge-patch+json"},
        )
        client = KubeClient(api)
        try:
            client.patch(CONFIGMAPS, "ns", "x", {"data": {"v": "1"}})
        finally:
            client.close()
    assert requested == f"{url}/api/v1/namespaces/ns/configmaps/x"
    sent = seen[-1].headers
    # The package's own headers (User-Agent, Accept, Content-Type, authorization), each as it builds them; the
    # transport adds only its own (Host, Content-Length, Accept-Encoding, …).
    assert {name.lower(): value for name, value in expected.items()}.items() <= sent.items()
    assert sent["authorization"] == "Bearer s3cret-token"
