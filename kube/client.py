"""Plain-dict access to the Kubernetes API through the official client's transport.

Typed models of the `kubernetes` package are slow to build and refuse partial bodies; the controllers and the CLI
work on plain dicts, so requests go through `ApiClient.call_api` and responses are decoded as JSON.
"""

from __future__ import annotations

import asyncio
import builtins
import contextvars
import json
import os
from collections.abc import Callable, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, Final, ParamSpec, TypedDict, TypeVar, Unpack
from urllib.parse import urlencode

import kubernetes.client
import kubernetes.config
import urllib3.exceptions
import yaml

from kube.bearer_token import BearerAuthorization
from kube.errors import ApiError, ConfigError, Unreachable, api_error
from kube.json_data import JsonObject as JsonObject  # re-exported: code written against this module keeps working
from kube.resources import ResourceKind

P = ParamSpec("P")
R = TypeVar("R")

PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}

# What the kubernetes package lets escape from a kubeconfig that is not YAML, or not a mapping of the fields it
# expects: it checks only the fields of a well-formed file, and trips over the rest in its parser or its lookups.
_MALFORMED = (yaml.YAMLError, TypeError, AttributeError, KeyError, ValueError)


# Connections kept open to one API server. The package's default (5 per core) is smaller than what one process
# holds at once — a long-lived watch per watched type (the Application controller watches every namespaced type of
# a project that monitors orphans) plus the workers' requests — and urllib3 then opens and discards a connection per
# request beyond it, with a warning each time.
CONNECTION_POOL_SIZE: Final = 64


def load_api_client(kubeconfig: str | None = None, context: str | None = None) -> kubernetes.client.ApiClient:
    """An ApiClient for a kubeconfig file and context (default: $KUBECONFIG or ~/.kube/config, then in-cluster).

    ``kubeconfig`` may list files separated by ``os.pathsep``, as $KUBECONFIG does. A kubeconfig that is missing,
    unreadable, not a kubeconfig, or without the context raises ConfigError naming the file (and the context).
    """
    # The kubernetes package reads $KUBECONFIG as it was when it was imported; name what it actually read.
    path: str = kubeconfig if kubeconfig is not None else kubernetes.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    if kubeconfig is not None and not any(
        os.path.exists(os.path.expanduser(part)) for part in kubeconfig.split(os.pathsep) if part
    ):
        # The package skips missing files of a list, as kubectl does for $KUBECONFIG; with none left it says only
        # "No configuration found", naming no file.
        raise ConfigError(f'kubeconfig "{kubeconfig}" does not exist')
    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    except kubernetes.config.ConfigException as error:
        if kubeconfig is not None or context is not None:
            raise _unusable(path, context, error) from error
        try:
            # Nothing was asked for and no kubeconfig works: a pod has its service account instead.
            kubernetes.config.load_incluster_config(client_configuration=configuration)
        except kubernetes.config.ConfigException:
            raise ConfigError(
                f"no kubeconfig found ({error}); pass --kubeconfig PATH or set KUBECONFIG"
            ) from error
    except _MALFORMED as error:
        # Not in-cluster even by default: a kubeconfig that is there but broken is a mistake to report, not skip.
        raise ConfigError(f'kubeconfig "{path}" is not a valid kubeconfig: {_malformed_reason(error)}') from error
    except OSError as error:  # a directory, no permission
        raise ConfigError(f'cannot read kubeconfig "{path}": {error}') from error
    configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize, CONNECTION_POOL_SIZE)
    return kubernetes.client.ApiClient(configuration)


def _unusable(path: str, context: str | None, error: Exception) -> ConfigError:
    """A well-formed kubeconfig the package refused; an unknown context is named with the ones there are."""
    reason = " ".join(str(error).split())
    if context is None:
        return ConfigError(f'cannot use kubeconfig "{path}": {reason}')
    names = _context_names(path)
    if names is not None and context not in names:
        listed = ", ".join(names) or "none"
        return ConfigError(f'context "{context}" not found in kubeconfig "{path}" (its contexts: {listed})')
    return ConfigError(f'cannot use context "{context}" of kubeconfig "{path}": {reason}')


def _context_names(path: str) -> builtins.list[str] | None:
    """The kubeconfig's context names; None when the package cannot list them (it needs a current-context)."""
    try:
        contexts, _ = kubernetes.config.list_kube_config_contexts(config_file=path)
    except (kubernetes.config.ConfigException, *_MALFORMED, OSError):
        return None
    return [str(entry.get("name")) for entry in contexts or [] if isinstance(entry, dict)]


def _malformed_reason(error: Exception) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"not YAML ({error.problem or 'syntax error'} at line {mark.line + 1}, column {mark.column + 1})"
    if isinstance(error, yaml.YAMLError):
        return f"not YAML ({' '.join(str(error).split())})"
    if isinstance(error, UnicodeDecodeError):
        return f"not text ({error})"
    # A list or a scalar where a mapping belongs, at the top or in a field: the package's own words are cryptic.
    return f"unexpected structure ({type(error).__name__}: {' '.join(str(error).split())})"


class KubeClient:
    """Blocking client over plain dicts; see :class:`AsyncKubeClient` for use inside an event loop."""

    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        *,
        timeout: float = 30.0,
        write_guard: Callable[[], None] | None = None,
    ) -> None:
        """``write_guard`` is called right before every request that is not a GET and may refuse it by raising
        (the leader-election fence: checked on the thread that sends, so no queued write slips past it)."""
        self._api = api_client
        self._timeout = timeout
        self._write_guard = write_guard
        self._authorization = BearerAuthorization(api_client.configuration)

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str | None = None, context: str | None = None) -> KubeClient:
        return cls(load_api_client(kubeconfig, context))

    @property
    def server(self) -> str:
        return str(self._api.configuration.host)

    @property
    def configuration(self) -> Any:
        """The ``kubernetes.client.Configuration`` the requests use (server, credentials): for the watch streams'
        own HTTP client (``kube.http_connection``), which must reach the same cluster as the same user."""
        return self._api.configuration

    def close(self) -> None:
        self._api.close()

    # -- reads ---------------------------------------------------------------------------------------------

    def get(self, kind: ResourceKind, namespace: str | None, name: str, subresource: str | None = None) -> JsonObject:
        """One object; raises NotFound when it does not exist."""
        return kind.manifest(self._request("GET", kind.path(namespace, name, subresource)))

    def get_or_none(self, kind: ResourceKind, namespace: str | None, name: str) -> JsonObject | None:
        try:
            return self.get(kind, namespace, name)
        except ApiError as error:
            if error.code == 404:
                return None
            raise

    def list(
        self, kind: ResourceKind, namespace: str | None = None, **selectors: Unpack[Selectors]
    ) -> builtins.list[JsonObject]:
        """Every object of a kind (in a namespace, or everywhere), with apiVersion and kind filled in."""
        return [kind.manifest(item) for item in self.list_page(kind, namespace, **selectors)[0]]

    def list_page(
        self, kind: ResourceKind, namespace: str | None = None, **selectors: Unpack[Selectors]
    ) -> tuple[builtins.list[JsonObject], str]:
        """The items and the collection's resourceVersion, to start a watch from."""
        body = self._request("GET", kind.path(namespace) + _query(**selector_query(selectors)))
        return list(body.get("items") or []), str(body.get("metadata", {}).get("resourceVersion", ""))

    def watch(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        resource_version: str = "",
        timeout_seconds: int | None = None,
        **selectors: Unpack[Selectors],
    ) -> Iterator[JsonObject]:
        """Watch events ({type, object}) until the server closes the stream."""
        query = _query(
            watch="true",
            resourceVersion=resource_version or None,
            timeoutSeconds=timeout_seconds,
            **selector_query(selectors),
        )
        response = self._send("GET", kind.path(namespace) + query, stream=True)
        try:
            pending = b""
            for chunk in response.response.stream(4096, decode_content=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        finally:
            response.response.release_conn()

    # -- writes --------------------------------------------------------------------------------------------

    def create(self, kind: ResourceKind, namespace: str | None, body: Mapping[str, Any]) -> JsonObject:
        return kind.manifest(self._request("POST", kind.path(namespace), dict(kind.manifest(dict(body)))))

    def patch(
        self,
        kind: ResourceKind,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
    ) -> JsonObject:
        """Patch an object (merge patch by default); ``subresource='status'`` writes only the status."""
        return kind.manifest(
            self._request(
                "PATCH",
                kind.path(namespace, name, subresource),
                patch,
                content_type=PATCH_CONTENT_TYPES[patch_type],
            )
        )

    def replace(self, kind: ResourceKind, namespace: str | None, name: str, body: Mapping[str, Any]) -> JsonObject:
        return kind.manifest(self._request("PUT", kind.path(namespace, name), dict(body)))

    def delete(
        self, kind: ResourceKind, namespace: str | None, name: str, *, propagation: str | None = None
    ) -> None:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation} if propagation else None
        self._request("DELETE", kind.path(namespace, name), body)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str | None] | None = None,
        content_type: str = "application/json",
    ) -> JsonObject:
        """Any request by path and query parameters (discovery documents, ``dryRun``, ``fieldManager``, apply
        patches); raises the same errors as the typed methods."""
        return self._request(method, path + _query(**dict(params or {})), body, content_type=content_type)

    # -- transport -----------------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, body: Any = None, *, content_type: str = "application/json"
    ) -> JsonObject:
        response = self._send(method, path, body, content_type=content_type)
        data = response.read()
        decoded: JsonObject = json.loads(data) if data else {}
        return decoded

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        stream: bool = False,
    ) -> Any:
        if self._write_guard is not None and method != "GET":
            self._write_guard()
        # What ``ApiClient.param_serialize(method, path, header_params, auth_settings=["BearerToken"])`` builds,
        # without its per-request serialisation and token refresh (see kube.bearer_token).
        headers = {"Accept": "application/json", "Content-Type": content_type, **self._api.default_headers}
        if self._api.cookie:
            headers["Cookie"] = self._api.cookie
        authorization = self._authorization.header()
        if authorization is not None:
            headers["authorization"] = authorization
        url = self._api.configuration.host + path
        try:
            # The transport JSON-encodes the body itself for every JSON content type.
            response = self._api.call_api(
                method, url, header_params=headers, body=body, _request_timeout=None if stream else self._timeout
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise Unreachable(f"cannot reach the Kubernetes API at {self.server}: {_root_cause(error)}") from error
        except kubernetes.client.ApiException as error:
            raise Unreachable(f"cannot reach the Kubernetes API at {self.server}: {error.reason}") from error
        if response.status >= 400:
            raise _status_error(response.status, response.read())
        return response


def _on_pool(
    method: Callable[Concatenate[KubeClient, P], R],
) -> Callable[Concatenate[AsyncKubeClient, P], Coroutine[Any, Any, R]]:
    """The blocking client's ``method`` as a coroutine method of :class:`AsyncKubeClient`, run on its thread pool."""
    name = method.__name__

    async def on_pool(self: AsyncKubeClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        # Looked up on the instance, so a client that overrides the method is honoured.
        bound: Callable[P, R] = getattr(self.sync, name)
        # In the caller's context (as asyncio.to_thread does): a write guard may read whose pass the write is for.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, lambda: context.run(bound, *args, **kwargs)
        )

    on_pool.__name__, on_pool.__qualname__, on_pool.__doc__ = name, f"AsyncKubeClient.{name}", method.__doc__
    return on_pool


class AsyncKubeClient:
    """The same operations for code running in an event loop: each blocking call runs on a bounded thread pool."""

    def __init__(self, client: KubeClient, *, workers: int = 16) -> None:
        self.sync = client
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kube-client")

    get = _on_pool(KubeClient.get)
    get_or_none = _on_pool(KubeClient.get_or_none)
    list = _on_pool(KubeClient.list)
    create = _on_pool(KubeClient.create)
    patch = _on_pool(KubeClient.patch)
    replace = _on_pool(KubeClient.replace)
    delete = _on_pool(KubeClient.delete)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.sync.close()


class Selectors(TypedDict, total=False):
    """Which objects a list or a watch is about: the API's ``labelSelector`` and ``fieldSelector``, as written for
    it (``app=web,tier!=db``, ``metadata.name=web``); an absent or None selector selects every object."""

    label_selector: str | None
    field_selector: str | None


def selector_query(selectors: Selectors) -> dict[str, str | None]:
    """The query parameters ``selectors`` stand for."""
    return {"labelSelector": selectors.get("label_selector"), "fieldSelector": selectors.get("field_selector")}


def _query(**params: Any) -> str:
    present = {key: value for key, value in params.items() if value is not None}
    return "?" + urlencode(present) if present else ""


def _status_error(code: int, data: bytes) -> ApiError:
    try:
        status = json.loads(data)
    except ValueError:
        return api_error(code, "", data.decode("utf-8", "replace").strip()[:200])
    if not isinstance(status, dict):
        return api_error(code, "", str(status)[:200])
    return api_error(code, str(status.get("reason", "")), str(status.get("message", "")))


def _root_cause(error: BaseException) -> str:
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    reason = getattr(error, "reason", None)
    return str(reason or error)
