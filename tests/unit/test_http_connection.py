"""The watch streams' Authorization header is the one the kubernetes client sends for the same configuration."""

from __future__ import annotations

import httpx
import pytest
from kubernetes import client as k8s

from kube.http_connection import ConfigurationAuth
from tests.token_refresh import ManualClock, refreshing


def authorization_header(configuration: k8s.Configuration) -> str | None:
    """The header a fresh watch client sends with its first request (its token refreshed now)."""
    return ConfigurationAuth(configuration).header()


@pytest.mark.parametrize(
    ("api_key", "api_key_prefix", "expected"),
    [
        # load_kube_config stores the whole header under "authorization".
        ({"authorization": "Bearer abc"}, {}, "Bearer abc"),
        # A configuration built by hand: the token and its prefix apart, as the client's auth_settings joins them.
        ({"BearerToken": "abc"}, {"BearerToken": "Bearer"}, "Bearer abc"),
        # No prefix: the bare token, as Configuration.get_api_key_with_prefix returns it (no "Bearer " added).
        ({"BearerToken": "abc"}, {}, "abc"),
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
    refreshing(configuration, name="new")
    assert authorization_header(configuration) == "Bearer new-1"
    assert authorization_header(configuration) == "Bearer new-2"


def package_header(configuration: k8s.Configuration) -> str | None:
    """The header the kubernetes package itself builds for its BearerToken setting: the expectation from outside."""
    _, _, headers, _, _ = k8s.ApiClient(configuration).param_serialize(
        "GET", "/api/v1/configmaps", header_params={}, auth_settings=["BearerToken"]
    )
    value = headers.get("authorization")
    return None if value is None else str(value)


async def sent_authorizations(auth: ConfigurationAuth, requests: int) -> list[str | None]:
    """The Authorization header of each of ``requests`` GETs sent through an httpx client using ``auth``."""
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, json={})

    async with httpx.AsyncClient(base_url="https://x", auth=auth, transport=httpx.MockTransport(answer)) as client:
        for _ in range(requests):
            await client.get("/api/v1/configmaps")
    return seen


async def test_the_watch_client_sends_a_bare_token_bare_as_the_kubernetes_package_does() -> None:
    configuration = k8s.Configuration(host="https://x", api_key={"BearerToken": "abc"})
    expected = package_header(configuration)
    assert expected == "abc"  # the package's rule, pinned: no "Bearer " is added to a token without a prefix
    assert await sent_authorizations(ConfigurationAuth(configuration), 1) == [expected]


async def test_the_watch_clients_token_refresh_runs_at_most_once_per_second() -> None:
    configuration = k8s.Configuration(host="https://x", api_key={"authorization": "Bearer old"})
    refreshed = refreshing(configuration, name="new")
    clock = ManualClock()
    auth = ConfigurationAuth(configuration, clock=clock)
    assert await sent_authorizations(auth, 5) == ["Bearer new-1"] * 5
    assert len(refreshed) == 1  # five requests within one second: one refresh
    clock.now += 0.999
    assert await sent_authorizations(auth, 1) == ["Bearer new-1"]
    clock.now += 0.001
    assert await sent_authorizations(auth, 1) == ["Bearer new-2"]  # a whole second after the first: renewed
    assert len(refreshed) == 2
