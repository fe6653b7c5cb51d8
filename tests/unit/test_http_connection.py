"""The watch streams' Authorization header is the one the kubernetes client sends for the same configuration."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s

from kube.http_connection import authorization_header


@pytest.mark.parametrize(
    ("api_key", "api_key_prefix", "expected"),
    [
        # load_kube_config stores the whole header under "authorization".
        ({"authorization": "Bearer abc"}, {}, "Bearer abc"),
        # A configuration built by hand: the token and its prefix apart, as the client's auth_settings joins them.
        ({"BearerToken": "abc"}, {"BearerToken": "Bearer"}, "Bearer abc"),
        ({"BearerToken": "abc"}, {}, "Bearer abc"),
    ],
)
def test_a_token_is_sent_as_the_kubernetes_client_sends_it(
    api_key: dict[str, str], api_key_prefix: dict[str, str], expected: str
) -> None:
    configuration = k8s.Configuration(host="https://x", api_key=api_key, api_key_prefix=api_key_prefix)
    assert authorization_header(configuration) == expected


def test_basic_auth_is_the_base64_of_user_colon_password() -> None:
    # RFC 7617's example: Aladdin / open sesame.
    configuration = k8s.Configuration(host="https://x", username="Aladdin", password="open sesame")
    assert authorization_header(configuration) == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_no_credentials_send_no_header() -> None:
    # A client certificate authenticates in the TLS handshake instead.
    assert authorization_header(k8s.Configuration(host="https://x")) is None


def test_an_exec_plugins_token_is_refreshed_before_each_request() -> None:
    configuration = k8s.Configuration(host="https://x", api_key={"authorization": "Bearer old"})
    refreshed: list[int] = []

    def refresh(config: Any) -> None:
        refreshed.append(1)
        config.api_key["authorization"] = f"Bearer new-{len(refreshed)}"

    configuration.refresh_api_key_hook = refresh  # type: ignore[assignment]  # the stubs say None only
    assert authorization_header(configuration) == "Bearer new-1"
    assert authorization_header(configuration) == "Bearer new-2"
