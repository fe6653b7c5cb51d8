"""The Rollout controller's kopf registration: watch-event observers that feed the controller, and its start-up
and clean-up.

Only ``kopf.on.event`` handlers (see ``kube.kopf_operator``), one per watched kind, and so one watch stream for
the whole cluster (or per namespace) — shared with the analysis controller's handlers where both watch a kind.
VirtualServices and DestinationRules are watched through discovery: while Istio's CRDs are absent kopf logs that
they cannot be served and starts their watches once the CRDs appear.

Given ``informers`` (``kube.informer``, what ``rollouts controller`` runs), the observers ride plain list+watch
streams instead, without kopf's per-event machinery, and the streams' first lists fill the cache (the controller
lists nothing itself); kopf keeps the start-up, clean-up and login.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import kopf

from kube.informer import Informers, Observer
from kube.json_data import JsonObject
from kube.kopf_operator import STARTUP_RETRY_SECONDS, configure_settings
from kube.resources import ResourceKind
from rollouts.controller.cache import watched_kinds
from rollouts.controller.controller import RolloutController


def register_handlers(
    registry: kopf.OperatorRegistry,
    controller: RolloutController,
    *,
    credentials: Callable[[], kopf.ConnectionInfo] | None = None,
    informers: Informers | None = None,
) -> None:
    """Register the controller's handlers in ``registry`` (a fresh ``kopf.OperatorRegistry`` per operator).

    ``credentials`` gives what kopf logs in with (called again on each re-login); without it kopf's own logins
    apply, and only in its default "smart" registry. With ``informers`` the watched kinds are observed through
    them, not through kopf.
    """

    @kopf.on.startup(registry=registry, id="rollouts-start", backoff=STARTUP_RETRY_SECONDS)
    async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
        configure_settings(settings)
        await controller.start()

    @kopf.on.cleanup(registry=registry, id="rollouts-stop")
    async def stop(**_: Any) -> None:
        await controller.stop()

    if credentials is not None:
        log_in = credentials

        @kopf.on.login(registry=registry, id="rollouts-login")
        def login(**_: Any) -> kopf.ConnectionInfo:
            return log_in()

    kinds = watched_kinds(controller.options.namespaces)
    if informers is not None:
        for kind in kinds:
            informers.observe(kind, _informer_observer(controller, kind))
        controller.fill_from(*(partial(informers.listed, kind) for kind in kinds))
        return
    for kind in kinds:
        kopf.on.event(
            group=kind.group, version=kind.version, plural=kind.plural, id=f"observe-{kind.plural}", registry=registry
        )(_observer(controller, kind))


def _observer(controller: RolloutController, kind: ResourceKind) -> Callable[..., Awaitable[None]]:
    async def observe(event: kopf.RawEvent, **_: Any) -> None:
        controller.observe(kind, event.get("type"), dict(event["object"]))

    return observe


def _informer_observer(controller: RolloutController, kind: ResourceKind) -> Observer:
    def observe(event_type: str | None, obj: JsonObject) -> None:
        controller.observe(kind, event_type, dict(obj))

    return observe
