"""The bearer token the configuration's user sends, as both clients send it: the ``kubernetes`` package's
``BearerToken`` setting, with the configuration's token refresh run at most once a second rather than before every
request.

The blocking client (``kube.client``) and the watch streams' HTTP client (``kube.http_connection``) both ask a
``BearerAuthorization`` for the header, so the two reach the API server as the same user with the same header.

The package's ``ApiClient.param_serialize`` runs the refresh hook on every request; the kubeconfig loader's hook
re-assigns every connection field each time (the host's setter scans the environment for proxies) and parses the
token's expiry. That was a tenth of the controller's write path (``bench/results/write-path-profile.md``). Throttling
it loses nothing: the loader renews a token five minutes before it expires
(``kubernetes.config.kube_config.EXPIRY_SKEW_PREVENTION_DELAY``) and re-reads an in-cluster token file once a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Final

REFRESH_INTERVAL: Final = 1.0


class BearerAuthorization:
    """The header value ``ApiClient.param_serialize`` would set for ``auth_settings=["BearerToken"]`` (None when
    the configuration has no token), refreshed through the configuration's hook at most once per interval."""

    def __init__(
        self,
        configuration: Any,
        *,
        refresh_interval: float = REFRESH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._configuration = configuration
        self._interval = refresh_interval
        self._clock = clock
        self._refreshed_at: float | None = None
        # The pool's threads ask at once; one of them refreshes, the others read what it left.
        self._lock = threading.Lock()

    def header(self) -> str | None:
        """The ``authorization`` header's value for the next request."""
        configuration = self._configuration
        api_key: dict[str, str] = configuration.api_key
        if "BearerToken" not in api_key and "authorization" not in api_key:
            return None  # as the package: no token, no hook
        hook = configuration.refresh_api_key_hook
        if hook is not None:
            with self._lock:
                now = self._clock()
                if self._refreshed_at is None or now - self._refreshed_at >= self._interval:
                    hook(configuration)
                    self._refreshed_at = now
        # ``Configuration.get_api_key_with_prefix("BearerToken", alias="authorization")``, without its refresh: the
        # key under either name, joined to its prefix when one is set. A bare token without a prefix is sent bare, as
        # the package sends it (load_kube_config stores the whole header, "Bearer …", under "authorization").
        key = api_key.get("BearerToken", api_key.get("authorization"))
        if not key:
            return None
        prefixes: dict[str, str] = configuration.api_key_prefix
        prefix = prefixes.get("BearerToken", prefixes.get("authorization"))
        return f"{prefix} {key}" if prefix else str(key)
