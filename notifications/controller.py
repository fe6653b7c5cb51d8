"""The notification controllers: one for Rollouts (Event-keyed, Argo Rollouts' triggers) and one for Applications
(level-triggered, Argo CD's), each on the shared runner (``kube.controller_runner``) with a delivery queue of its own.

A pass reads the object from the watch cache (and, for a Rollout, the Events about it: listed once when the
controller starts delivering, then handed over by the Rollout controller's recorder as it stores them, as Argo
Rollouts notifies from its recorder; ``observe_event``), the configuration (the
ConfigMap and Secret, read again at most every ``config_seconds``), plans (``notifications.decisions``), removes the
state keys whose condition stopped holding, and offers each notification to the delivery queue; the state key is
recorded on the object only once the notification was delivered, so a restart neither resends nor misses one.
The controller never writes anything but the ``notified.notifications.argoproj.io`` annotation.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from prometheus_client import CollectorRegistry

from kube.client import AsyncKubeClient
from kube.controller_runner import GONE, ControllerRunner, Gone, WorkerOptions
from kube.controller_startup import CacheFirstController
from kube.deleted_objects import DeletedObjects
from kube.errors import Conflict, KubeError, NotFound
from kube.json_data import JsonObject
from kube.object_meta import ObjectKey, is_older, object_key
from kube.resources import CONFIGMAPS, EVENTS, SECRETS
from kube.timestamps import Clock, utc_now
from kube.watch_events import DELETED
from kube.work_queue import cancel_tasks
from notifications import decisions, services
from notifications.config import ConfigError, NotificationConfig, parse_config
from notifications.defaults import APPLICATION_NOTIFICATIONS, ROLLOUT_NOTIFICATIONS, NotifiedKind
from notifications.delivery import DeliveryJob, DeliveryQueue, Permanent, RetryPolicy
from notifications.metrics import NotificationMetrics
from notifications.state import annotation_patch, read_state, with_changes
from notifications.subscriptions import ANNOTATION_PREFIX
from notifications.templates import RenderError, render_notification

logger = logging.getLogger(__name__)

STATE_WRITE_ATTEMPTS: Final = 5
KEPT_VERSIONS: Final = 16
KEPT_EVENTS: Final = 64
"""Events kept per object (the latest), so that memory does not grow with an object's history."""


@dataclass(frozen=True, kw_only=True)
class NotificationOptions(WorkerOptions):
    """Where the configuration lives and how the controller runs and delivers (under ``leader_election`` only once
    this process leads, so that standbys never send)."""

    namespace: str
    """Namespace of the notification ConfigMap and Secret (the controller's, or the Applications')."""
    workers: int = 2
    resync_seconds: float = 60.0
    config_seconds: float = 5.0
    delivery_workers: int = 4
    queue_capacity: int = 1000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    event_grace_seconds: float = 300.0
    """At a first start, Events this much older than the start still notify (see ``decisions.events_since``)."""
    watched_namespaces: tuple[str, ...] = ()
    """Where the objects are (all namespaces when empty): where the Events about them are listed at start."""


def notification_controllers(
    client: AsyncKubeClient,
    rollouts: NotificationOptions,
    applications_namespace: str | None,
    registry: CollectorRegistry | None = None,
) -> list[NotificationController]:
    """The Rollout notification controller, and the Application one when Applications are reconciled in
    ``applications_namespace`` (its ConfigMap lives there, as Argo CD's does); counted in ``registry``."""
    controllers = [NotificationController(client, ROLLOUT_NOTIFICATIONS, rollouts, registry=registry)]
    if applications_namespace is not None:
        controllers.append(NotificationController(client, APPLICATION_NOTIFICATIONS,
                                                  dataclasses.replace(rollouts, namespace=applications_namespace),
                                                  registry=registry))
    return controllers


class _NoPassMetrics:
    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None:
        pass

    def count_error(self, namespace: str, name: str) -> None:
        pass

    def forget(self, namespace: str, name: str) -> None:
        pass


class NotificationController(CacheFirstController[AsyncKubeClient, NotificationOptions]):
    """Notifications about one kind of object; ``observe*`` are fed by the watches (``notifications.handlers``)."""

    def __init__(
        self,
        client: AsyncKubeClient,
        kind: NotifiedKind,
        options: NotificationOptions,
        *,
        clock: Clock = utc_now,
        http: httpx.AsyncClient | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        super().__init__(client, options, clock)
        self.kind = kind
        self._http = http
        self.objects: dict[ObjectKey, JsonObject] = {}
        self.events: dict[ObjectKey, dict[str, JsonObject]] = {}
        self.versions: dict[ObjectKey, dict[str, JsonObject]] = {}
        self.unplanned: dict[ObjectKey, list[JsonObject]] = {}
        """Level-triggered kinds: the versions the watch brought since the object's last pass (the last 16)."""
        self.delivery = DeliveryQueue(capacity=options.queue_capacity, workers=options.delivery_workers,
                                      retry=options.retry)
        self.runner: ControllerRunner[ObjectKey] = ControllerRunner(
            options.runner_options(f"{kind.variable} notifications"),
            self.reconcile, lambda: list(self.objects), _NoPassMetrics(),
        )
        self._config: NotificationConfig | None = None
        self._config_read_at = -float("inf")
        self._config_lock = asyncio.Lock()
        self._state_locks: dict[ObjectKey, asyncio.Lock] = {}
        self._reported: set[str] = set()
        self.started_at = clock()
        self._listing: asyncio.Task[None] | None = None
        self.metrics = NotificationMetrics(registry, event_keyed=kind.event_keyed)
        # Objects a DELETED event removed: the late answer to our annotation write must not bring one back.
        self._deleted = DeletedObjects()

    # -- watches -------------------------------------------------------------------------------------------

    def observe(self, event_type: str | None, obj: JsonObject) -> None:
        key = object_key(obj)
        if key is None:
            return
        if event_type == DELETED:
            self._deleted.record(obj)
            self.objects.pop(key, None)
            self.events.pop(key, None)
            self.versions.pop(key, None)
            self.unplanned.pop(key, None)
            self._state_locks.pop(key, None)
            return
        if self._deleted.is_deleted(obj):
            return
        cached = self.objects.get(key)
        if cached is not None and is_older(obj, cached):
            return
        self.objects[key] = obj
        if self.kind.event_keyed:
            if self.may_subscribe(obj):
                self._remember_version(key, obj)
            else:
                # Nothing about it can notify: its Events and versions are not worth their memory.
                self.events.pop(key, None)
                self.versions.pop(key, None)
        elif self.may_subscribe(obj):
            unplanned = self.unplanned.setdefault(key, [])
            unplanned.append(obj)
            del unplanned[:-KEPT_VERSIONS]
        else:
            self.unplanned.pop(key, None)
        self.runner.add(key)

    def may_subscribe(self, obj: JsonObject) -> bool:
        """Whether the object subscribes to anything: an annotation, or ConfigMap subscriptions (assumed until the
        ConfigMap has been read, so that no Event is dropped at start-up; none without a usable ConfigMap)."""
        if _subscribes(obj):
            return True
        if self._config_read_at == -float("inf"):
            return True
        return self._config is not None and bool(self._config.subscriptions)

    def _remember_version(self, key: ObjectKey, obj: JsonObject) -> None:
        """Keep the last few versions of a subscribed object: an Event names the version it was recorded about
        (``involvedObject.resourceVersion``), and its notification is rendered from that version, as Argo renders
        it from the object it records the Event with."""
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        if not version:
            return
        versions = self.versions.setdefault(key, {})
        versions[version] = obj
        while len(versions) > KEPT_VERSIONS:
            del versions[next(iter(versions))]

    def version_for(self, key: ObjectKey, event: JsonObject | None, current: JsonObject) -> JsonObject:
        """The object as the Event saw it, when that version is still known; else as it is now. The Rollout
        controller's recorder hands each repeat over with the version it was recorded about (``kube.events``), as Argo
        renders from the object it records the Event with; a repeat listed from the API still names its first
        occurrence's version, which is no longer kept after a restart, so it is rendered from the object as it is
        now."""
        if event is None:
            return current
        version = str((event.get("involvedObject") or {}).get("resourceVersion") or "")
        return self.versions.get(key, {}).get(version, current)

    def observe_event(self, event_type: str | None, event: JsonObject) -> None:
        """A core/v1 Event: indexed under the object it is about, when that is one of this controller's kind."""
        involved = event.get("involvedObject") or {}
        if not self.kind.event_keyed or involved.get("kind") != self.kind.resource.kind:
            return
        key = ObjectKey(str(involved.get("namespace") or ""), str(involved.get("name") or ""))
        name = str((event.get("metadata") or {}).get("name") or "")
        if event_type == DELETED:
            self.events.get(key, {}).pop(name, None)
            return
        obj = self.objects.get(key)
        if obj is not None and not self.may_subscribe(obj):
            return
        events = self.events.setdefault(key, {})
        known = events.get(name)
        if known is not None and is_older(event, known):
            return  # the start-up list's copy of an Event whose count was raised since
        events.pop(name, None)  # re-inserted last: the oldest Events are the first dropped
        events[name] = event
        while len(events) > KEPT_EVENTS:
            del events[next(iter(events))]
        if obj is not None:
            self.runner.add(key)

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def _fill_cache(self) -> None:
        """Nothing to list: the cache fills from the watches. The HTTP client the deliveries share opens here."""
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)

    def _before_workers(self) -> None:
        self.started_at = self.clock()
        self.delivery.start()

    def _workers_started(self) -> None:
        if self.kind.event_keyed and self._listing is None:
            self._listing = asyncio.get_running_loop().create_task(self._list_events(), name="notification events")

    async def _list_events(self) -> None:
        """Read, once, the Events recorded before this process delivers (by a previous process, or the leader this
        one takes over from); the controller's own come from its recorder (``kube.events.EventRecorder.listeners``),
        so no watch of every Event in the cluster is kept. Retried until it succeeds."""
        selector = f"involvedObject.kind={self.kind.resource.kind}"
        delay = 1.0
        while True:
            try:
                listed = [event for namespace in (self.options.watched_namespaces or (None,))
                          for event in await self.client.list(EVENTS, namespace, field_selector=selector)]
            except KubeError as error:
                logger.warning("notifications: cannot list the Events of %s (retrying in %gs): %s",
                               self.kind.resource.plural, delay, error)
                await asyncio.sleep(delay)
                delay = min(30.0, delay * 2)
                continue
            for event in sorted(listed, key=decisions.event_order):
                self.observe_event(None, event)
            return

    async def stop(self) -> None:
        listing, self._listing = self._listing, None
        if listing is not None:
            await cancel_tasks([listing])
        await self.runner.stop()
        await self.delivery.stop()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- one pass ------------------------------------------------------------------------------------------

    async def reconcile(self, key: ObjectKey) -> float | Gone | None:
        config = await self.config()
        # A record of this object's state on its way (a delivery's ``sent``) is stored on the server before its
        # response updates the cache: planning meanwhile would read the state from before it. So the pass waits for
        # it, under the lock the writes hold, and then reads; from the read to the offers nothing yields, so a
        # delivery cannot record its key (and leave the pending set) between this read of the state and the offer.
        async with self._state_lock(key):
            obj = self.objects.get(key)
            if obj is None:
                return GONE
            plan = self._plan(key, obj, config) if config is not None else None
            if plan is None or config is None:
                return None
            self._report(key, plan)
            for firing in plan.send:
                seen = firing.seen if firing.seen is not None else obj
                self.delivery.offer(self._job(key, dict(seen), firing, self._variables(seen, config), config))
        if plan.forget:
            await self.write_state(key, {}, set(plan.forget))
        return None

    def _variables(self, obj: Mapping[str, Any], config: NotificationConfig) -> dict[str, Any]:
        """What the conditions and templates read: the object and the context."""
        return {self.kind.variable: obj, "context": {**self.kind.context_defaults, **config.context}}

    def _plan(self, key: ObjectKey, obj: JsonObject, config: NotificationConfig) -> decisions.NotificationPlan | None:
        """This pass's plan over the cached object (None when nothing can notify about it)."""
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if not config.subscriptions and not any(name.startswith(ANNOTATION_PREFIX) for name in annotations):
            self.unplanned.pop(key, None)
            return None
        state = read_state(obj)
        if self.kind.event_keyed:
            since = decisions.events_since(state, self.started_at, self.options.event_grace_seconds)
            return decisions.plan_events(obj, self.events.get(key, {}).values(), self._variables(obj, config), config,
                                         state, since)
        # Every version the watch brought since the last pass, the cached one last: a state that lasted less than
        # the time between two passes (an automated sync's Running) still notifies.
        version = _version(obj)
        versions = [seen for seen in self.unplanned.pop(key, []) if _version(seen) != version] + [obj]
        return decisions.plan_observed_conditions(versions, lambda seen: self._variables(seen, config), config, state)

    def _report(self, key: ObjectKey, plan: decisions.NotificationPlan) -> None:
        for problem in plan.problems:
            line = f"{self.kind.resource.kind} {key}: {problem}"
            if line not in self._reported:
                self._reported.add(line)
                logger.warning("notifications: %s", line)

    def _job(
        self,
        key: ObjectKey,
        obj: JsonObject,
        firing: decisions.Firing,
        variables: Mapping[str, Any],
        config: NotificationConfig,
    ) -> DeliveryJob:
        service = config.services[firing.destination.service]
        data = dict(variables)
        if firing.event is not None:
            data[self.kind.variable] = self.version_for(key, dict(firing.event), obj)
            data["event"] = dict(firing.event)

        async def send() -> None:
            try:
                notification = render_notification(config.templates, firing.templates, data, service.type)
            except RenderError as error:
                raise Permanent(str(error)) from None
            assert self._http is not None
            try:
                await services.send(firing.destination.service, service, notification, firing.destination,
                                    self._http, config.secrets)
            except services.DeliveryError:
                self.metrics.count(key, firing.trigger, firing.destination.service, firing.event, succeeded=False)
                raise
            self.metrics.count(key, firing.trigger, firing.destination.service, firing.event, succeeded=True)
            logger.info("notification %s about %s %s sent to %s", firing.trigger, self.kind.resource.kind, key,
                        firing.destination)

        async def sent() -> None:
            await self.write_state(key, {firing.key: int(self.clock().timestamp())}, set())

        return DeliveryJob((key, firing.key), f"{firing.trigger} about {key} to {firing.destination}", send, sent)

    # -- I/O -----------------------------------------------------------------------------------------------

    async def config(self) -> NotificationConfig | None:
        """The configuration, read again when older than ``config_seconds``; None without the ConfigMap (nothing is
        sent then, as in Argo) or when it is invalid (said once in the log)."""
        async with self._config_lock:
            if time.monotonic() - self._config_read_at < self.options.config_seconds:
                return self._config
            namespace = self.options.namespace
            try:
                configmap = await self.client.get_or_none(CONFIGMAPS, namespace, self.kind.configmap)
                secret = await self.client.get_or_none(SECRETS, namespace, self.kind.secret)
            except KubeError as error:
                logger.warning("notifications: cannot read %s/%s: %s", namespace, self.kind.configmap, error)
                return self._config
            self._config_read_at = time.monotonic()
            if configmap is None:
                self._config = None
                return None
            try:
                self._config = parse_config(
                    {str(k): str(v) for k, v in (configmap.get("data") or {}).items()},
                    _decoded(secret),
                    defaults=self.kind.defaults,
                    source=f"ConfigMap {namespace}/{self.kind.configmap}",
                )
            except ConfigError as error:
                line = str(error)
                if line not in self._reported:
                    self._reported.add(line)
                    logger.warning("notifications: %s", line)
                self._config = None
            return self._config

    def _state_lock(self, key: ObjectKey) -> asyncio.Lock:
        """The lock an object's state writes hold, and its passes wait for."""
        return self._state_locks.setdefault(key, asyncio.Lock())

    async def write_state(self, key: ObjectKey, recorded: Mapping[str, int], forgotten: set[str]) -> None:
        """Record and forget state keys on the object: read, change, write with the read resourceVersion, and again
        on a conflict (the Rollout controller writes the same object)."""
        async with self._state_lock(key):
            for _ in range(STATE_WRITE_ATTEMPTS):
                try:
                    current = await self.client.get(self.kind.resource, key.namespace, key.name)
                except NotFound:
                    return
                state = read_state(current)
                changed = with_changes(state, recorded, forgotten)
                if changed == state:
                    return
                patch = annotation_patch(changed)
                patch["metadata"]["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
                try:
                    updated = await self.client.patch(self.kind.resource, key.namespace, key.name, patch)
                except Conflict:
                    continue
                except NotFound:
                    return
                cached = self.objects.get(key)
                if not self._deleted.is_deleted(updated) and (cached is None or not is_older(updated, cached)):
                    self.objects[key] = updated
                return
            logger.warning("notifications: %s %s: the notified state kept conflicting; the next pass retries",
                           self.kind.resource.kind, key)


def _version(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _subscribes(obj: JsonObject) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return any(str(name).startswith(ANNOTATION_PREFIX) for name in annotations)


def _decoded(secret: JsonObject | None) -> dict[str, str]:
    if secret is None:
        return {}
    values = {str(k): str(v) for k, v in (secret.get("stringData") or {}).items()}
    for name, encoded in (secret.get("data") or {}).items():
        try:
            values[str(name)] = base64.b64decode(str(encoded)).decode()
        except ValueError:
            continue
    return values
