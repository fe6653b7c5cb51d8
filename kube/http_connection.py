"""An ``httpx.AsyncClient`` to the API server of a loaded ``kubernetes.client.Configuration``, as the same user.

The controllers' writes go through the official client (``kube.client``); their watches are long-lived async
streams, which that client can only hold on a thread each. Both must reach the same cluster with the same
credentials whatever ``--kubeconfig`` and ``--context`` chose, so this client takes everything from the
configuration the writes use: server, CA, client certificate, token (refreshed through the kubeconfig's exec plugin
or auth provider before each request), basic auth, proxy.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Generator
from typing import Any

import httpx


def async_http_client(configuration: Any, *, timeout: float, connect_timeout: float) -> httpx.AsyncClient:
    """A client whose relative URLs are API paths (``/apis/…``) on ``configuration``'s server."""
    return httpx.AsyncClient(
        base_url=str(configuration.host),
        verify=_tls_context(configuration),
        auth=ConfigurationAuth(configuration),
        proxy=configuration.proxy or None,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        headers={"Accept": "application/json"},
    )


class ConfigurationAuth(httpx.Auth):
    """The ``Authorization`` header of a ``kubernetes`` configuration, computed per request so that a token the
    kubeconfig's exec plugin renews is renewed here too."""

    def __init__(self, configuration: Any) -> None:
        self._configuration = configuration

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        header = authorization_header(self._configuration)
        if header is not None:
            request.headers["Authorization"] = header
        yield request


def authorization_header(configuration: Any) -> str | None:
    """The ``Authorization`` header value the configuration's user sends: a bearer token (after the refresh hook
    ran), else basic auth, else none (a client certificate, or no credentials)."""
    refresh = getattr(configuration, "refresh_api_key_hook", None)
    if refresh is not None:
        refresh(configuration)
    api_keys: dict[str, str] = dict(getattr(configuration, "api_key", None) or {})
    token = api_keys.get("BearerToken") or api_keys.get("authorization")
    if token:
        # The kubernetes package keeps either the whole header ("Bearer abc") or the bare token with its prefix apart.
        if " " in token:
            return token
        prefixes: dict[str, str] = dict(getattr(configuration, "api_key_prefix", None) or {})
        prefix = prefixes.get("BearerToken") or prefixes.get("authorization") or "Bearer"
        return f"{prefix} {token}"
    if configuration.username or configuration.password:
        pair = f"{configuration.username or ''}:{configuration.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode()
    return None


def _tls_context(configuration: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    if not configuration.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
