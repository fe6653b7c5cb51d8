"""What every kopf operator of this project shares: the settings of an operator that only observes, and a login
from the controller's own kubeconfig.

In ``rollouts controller`` the controllers observe through ``kube.informer`` and kopf runs only their start-up
and clean-up; given a bare registry they register only ``kopf.on.event`` handlers: they observe and never change
the object, so kopf keeps no progress or diff-base annotations and adds no finalizers — kopf writes nothing to
users' objects. kopf's own Events are off too; the controllers post their own, with Argo's reasons. Nor do they use
kopf's diffs, so kopf gets a diff base that builds none (``ObservedOnly``): its default deep-copies every object of
every watch event.

kopf's built-in logins read only the default kubeconfig; the controllers honour ``--kubeconfig`` and
``--context``, so their watches and their writes must go to the same cluster as the same user.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Protocol

import kopf

# A watch is re-opened after this long even if healthy (API servers cut them at 5–10 minutes anyway);
# re-opening resumes from the last resourceVersion, it does not list again.
WATCH_SERVER_TIMEOUT: Final = 300.0
WATCH_CONNECT_TIMEOUT: Final = 10.0
REQUEST_TIMEOUT: Final = 60.0
STARTUP_RETRY_SECONDS: Final = 2.0


class ObservedOnly(kopf.DiffBaseStorage):
    """A diff base for an operator whose handlers only observe: no essence is built, fetched or stored.

    kopf builds the diff base of every watch event before it looks for handlers, a deep copy of the whole object,
    then copies that essence again to clear its progress records; only change handlers (``on.create``,
    ``on.update``, ``on.field``) and daemons' idle timers read it. With this storage every object's essence is the
    same empty one, so such handlers would never see a change: an operator configured with it registers none.
    """

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[kopf.FieldSpec] | None = None
    ) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        """Nothing to keep: kopf writes no diff base onto users' objects."""


def configure_settings(settings: kopf.OperatorSettings) -> None:
    """kopf's settings for an operator that only observes (idempotent: every controller's start-up may call it)."""
    settings.posting.enabled = False
    settings.persistence.diffbase_storage = ObservedOnly()
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT
    settings.watching.client_timeout = WATCH_SERVER_TIMEOUT + 30
    settings.watching.connect_timeout = WATCH_CONNECT_TIMEOUT
    settings.networking.request_timeout = REQUEST_TIMEOUT
    settings.networking.connect_timeout = WATCH_CONNECT_TIMEOUT


class Lifecycle(Protocol):
    """A controller that kopf starts and stops with the operator."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def register_lifecycle(
    registry: kopf.OperatorRegistry, controller: Lifecycle, name: str, *, configure: bool = False
) -> None:
    """Start ``controller`` with the operator (retried every ``STARTUP_RETRY_SECONDS`` while it fails) and stop it at
    the operator's clean-up, under the handler ids ``<name>-start`` and ``<name>-stop``; ``configure`` also applies
    ``configure_settings`` at start-up, for a controller that registers kopf watches of its own."""

    @kopf.on.startup(registry=registry, id=f"{name}-start", backoff=STARTUP_RETRY_SECONDS)
    async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
        if configure:
            configure_settings(settings)
        await controller.start()

    @kopf.on.cleanup(registry=registry, id=f"{name}-stop")
    async def stop(**_: Any) -> None:
        await controller.stop()


def connection_info(configuration: Any) -> kopf.ConnectionInfo:
    """A ``kopf.ConnectionInfo`` from a loaded ``kubernetes.client.Configuration``.

    Refreshes the token first when the kubeconfig gets it from an exec plugin or an auth provider, so that a
    re-login after a 401 gets a fresh one.
    """
    refresh = getattr(configuration, "refresh_api_key_hook", None)
    if refresh is not None:
        refresh(configuration)
    api_keys: dict[str, str] = dict(getattr(configuration, "api_key", None) or {})
    header = api_keys.get("BearerToken") or api_keys.get("authorization")
    scheme: str | None = None
    token: str | None = None
    if header:
        scheme, _, token = header.partition(" ") if " " in header else ("Bearer", "", header)
    return kopf.ConnectionInfo(
        server=str(configuration.host),
        ca_path=configuration.ssl_ca_cert or None,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file or None,
        private_key_path=configuration.key_file or None,
    )
