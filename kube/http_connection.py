"""An ``httpx.AsyncClient`` to the API server of a loaded ``kubernetes.client.Configuration``, as the same user.

The controllers' writes go through the official client (``kube.client``); their watches are long-lived async
streams, which that client can only hold on a thread each. Both must reach the same cluster with the same
credentials whatever ``--kubeconfig`` and ``--context`` chose, so this client takes everything from the
configuration the writes use: server, CA, client certificate, token (the same header the writes send, from
``kube.bearer_token``: refreshed through the kubeconfig's exec plugin or auth provider at most once a second),
basic auth, proxy.
"""

from __future__ import annotations

import base64
import ssl
import time
from collections.abc import Callable, Generator
from typing import Any

import httpx

from kube.bearer_token import BearerAuthorization


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
    kubeconfig's exec plugin renews is renewed here too (its refresh hook run at most once a second, as the blocking
    client runs it)."""

    def __init__(self, configuration: Any, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._configuration = configuration
        self._bearer = BearerAuthorization(configuration, clock=clock)

    def header(self) -> str | None:
        """The ``Authorization`` header value for the next request: the bearer token as the blocking client sends
        it, else basic auth, else none (a client certificate, or no credentials)."""
        token = self._bearer.header()
        if token is not None:
            return token
        configuration = self._configuration
        if configuration.username or configuration.password:
            pair = f"{configuration.username or ''}:{configuration.password or ''}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        header = self.header()
        if header is not None:
            request.headers["Authorization"] = header
        yield request


def _tls_context(configuration: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    if not configuration.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
