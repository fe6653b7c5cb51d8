"""The Application controller assembled: watches of Applications, AppProjects, repository Secrets and ``argocd-cm``
in the controller's namespace, the live cache, the work queue and its workers, the periodic refresh, the push
webhook, and the Events — around ``AppReconciler``, which does one pass.

The watches are ``kube.informer`` streams: the process's ``Informers`` (shared with the other controllers, the
ApplicationSet controller's Applications included), or the controller's own when it runs alone. Their observers run
on the event loop. Start-up waits for the first lists and the cluster's discovery before any pass, as client-go
waits for its caches. Every pass runs on a worker thread; its Events are posted from the event loop afterwards.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gitops.clusters import LOCAL_CLUSTER, clusters_from_secrets
from gitops.compare.tracking import owning_app
from gitops.controller.api_resources import ApiResources, discover
from gitops.controller.cluster_connections import ClusterConnection, ClusterConnections, remote_connection
from gitops.controller.live_cache import LiveCache
from gitops.controller.metrics import AppMetrics
from gitops.controller.reconciler import AppReconciler, PassResult, ReconcilerSettings
from gitops.controller.refresh import poll_delay
from gitops.controller.resource_ops import ResourceOperations
from gitops.controller.revision_cache import RevisionCache
from gitops.controller.webhook import PushEvent, push_refreshes
from gitops.controller.webhook_server import WebhookServer, serve_webhook
from gitops.project.admission import project_name
from gitops.project.permissions import DEFAULT_PROJECT_NAME, default_project
from gitops.repo_server import RepoServer
from kube.client import AsyncKubeClient, KubeClient
from kube.controller_runner import GONE, ControllerRunner, Gone, WorkerOptions
from kube.controller_startup import CacheFirstController
from kube.deleted_objects import DeletedObjects
from kube.errors import Conflict, KubeError
from kube.events import EventRecorder
from kube.http_connection import async_http_client
from kube.informer import Informers, first_answers
from kube.json_data import JsonObject
from kube.kopf_operator import REQUEST_TIMEOUT, WATCH_CONNECT_TIMEOUT
from kube.object_meta import ObjectKey
from kube.resources import APP_PROJECTS, APPLICATIONS, CONFIGMAPS, SECRETS
from kube.timestamps import Clock, utc_now

logger = logging.getLogger(__name__)


DEFAULT_APP_NAMESPACE: Final = "argocd"
DEFAULT_WORKERS: Final = 20  # Argo CD's --status-processors
DEFAULT_POLL_SECONDS: Final = 180.0  # Argo CD's timeout.reconciliation
DEFAULT_RENDER_TIMEOUT: Final = 90.0  # Argo CD's repo-server timeout is 60 s + the controller's margin
DEFAULT_WEBHOOK_PORT: Final = 8083
SECRET_TYPE_LABEL: Final = "argocd.argoproj.io/secret-type"
ARGOCD_CM: Final = "argocd-cm"
ARGOCD_SECRET: Final = "argocd-secret"
HEALTH_PREFIX: Final = "resource.customizations.health."
TRACKING_KEY: Final = "application.resourceTrackingMethod"
TRACKING_METHODS: Final = ("annotation", "label", "annotation+label")
SYNC_TIMEOUT: Final = 30.0


AppKey = ObjectKey
"""An Application by namespace and name: the work queue's key."""


@dataclass(frozen=True, kw_only=True)
class AppControllerOptions(WorkerOptions):
    """How the Application controller runs; ``webhook_port`` 0 serves no webhook, ``poll_seconds`` 0 never
    refreshes on a timer."""

    namespace: str = DEFAULT_APP_NAMESPACE
    workers: int = DEFAULT_WORKERS
    resync_seconds: float = 0.0
    """Off: the periodic refresh is a timer per Application (``poll_seconds``, jittered; the pass says when)."""
    poll_seconds: float = DEFAULT_POLL_SECONDS
    poll_jitter_seconds: float = 0.0
    render_timeout: float = DEFAULT_RENDER_TIMEOUT
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    webhook_address: str = "0.0.0.0"
    cache_dir: Path | None = None
    # Child Applications have a health (Synced and Healthy) so an App of Apps' waves wait for them; off, as Argo CD.
    application_health: bool = False


class AppController(CacheFirstController[KubeClient, AppControllerOptions]):
    """Everything the process runs for Applications; ``start``/``stop`` on the event loop."""

    def __init__(
        self,
        client: KubeClient,
        options: AppControllerOptions,
        *,
        metrics: AppMetrics | None = None,
        repo_server: RepoServer | None = None,
        clock: Clock = utc_now,
        informers: Informers | None = None,
    ) -> None:
        """``informers``: the process's streams, not started yet (the controller's own when None)."""
        super().__init__(client, options, clock)
        self.metrics = metrics if metrics is not None else AppMetrics()
        self._apps: dict[str, JsonObject] = {}
        # Applications a DELETED event removed: the late answer to a write of ours must not bring one back.
        self._deleted_apps = DeletedObjects()
        self._secrets: dict[str, JsonObject] = {}
        self._settings_cm: JsonObject = {}
        self._projects: dict[str, JsonObject] = {}
        self._lock = threading.Lock()
        self._resources = ApiResources()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.runner: ControllerRunner[AppKey] = ControllerRunner(
            options.runner_options("application"), self._reconcile_key,
            self._keys, self.metrics,
        )
        self._owns_informers = informers is None
        self.informers = informers if informers is not None else Informers(
            async_http_client(client.configuration, timeout=REQUEST_TIMEOUT, connect_timeout=WATCH_CONNECT_TIMEOUT)
        )
        namespace = (options.namespace,)
        self.informers.observe(APPLICATIONS, self._app_event, namespaces=namespace)
        self.informers.observe(SECRETS, self._secret_event, namespaces=namespace)
        self.informers.observe(CONFIGMAPS, self._configmap_event, namespaces=namespace)
        self.informers.observe(APP_PROJECTS, self._project_event, namespaces=namespace)
        self.cache = LiveCache(self.informers, self._owner, self._objects_changed)
        cache_dir = options.cache_dir or Path.home() / ".cache" / "rollouts" / "repositories"
        self.repo_server = repo_server if repo_server is not None else RepoServer(
            cache_dir, credentials=self.repository_secrets
        )
        self._render_pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, options.workers // 2),
                                                                  thread_name_prefix="render")
        self._pass_pool = concurrent.futures.ThreadPoolExecutor(max_workers=options.workers,
                                                                thread_name_prefix="app-pass")
        self._async_client = AsyncKubeClient(client, workers=4)
        self.events = EventRecorder(self._async_client, component="argocd-application-controller")
        operations = ResourceOperations(client, lambda: self._resources, self._rediscover, self.cache.record,
                                        self.cache.record_deleted)
        revisions = RevisionCache()

        def reconciler(cache: LiveCache, resources: Callable[[], ApiResources],
                       operations: ResourceOperations) -> AppReconciler:
            """The reconciler of one destination cluster; the Applications themselves are always written here."""
            return AppReconciler(
                client=client, repo_server=self.repo_server, cache=cache, resources=resources,
                operations=operations, metrics=self.metrics,
                settings=ReconcilerSettings(options.poll_seconds, options.render_timeout,
                                            application_health=options.application_health,
                                            control_namespace=options.namespace),
                control=self, clock=clock, render_pool=self._render_pool, written=self._app_written,
                revisions=revisions, app_exists=self._app_known,
            )

        self.reconciler = reconciler(self.cache, lambda: self._resources, operations)
        # Every cluster the cluster Secrets declare, each with its own client, discovery, cache and reconciler.
        self.clusters = ClusterConnections(
            ClusterConnection(LOCAL_CLUSTER, client, self._resources, self.cache, self.reconciler, local=True,
                              discovered=True),
            lambda cluster: remote_connection(cluster, owner=self._owner, on_change=self._objects_changed,
                                              reconciler=reconciler, loop=self._running_loop()),
        )
        self.webhook: WebhookServer | None = None
        # Others refreshed by the same push (the ApplicationSet controller's git generators): each returns how many
        # of its objects the push queued.
        self.push_listeners: list[Callable[[PushEvent], int]] = []

    # -- settings from the controller namespace ---------------------------------------------------------

    def repository_secrets(self) -> list[JsonObject]:
        """Argo CD's repository and repo-creds Secrets (values stay base64 in ``data``; never logged)."""
        with self._lock:
            return [s for s in self._secrets.values()
                    if ((s.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE_LABEL)
                    in ("repository", "repo-creds")]

    def webhook_secrets(self) -> dict[str, str]:
        import base64

        with self._lock:
            secret = self._secrets.get(ARGOCD_SECRET) or {}
        decoded = {}
        for key, value in (secret.get("data") or {}).items():
            with contextlib.suppress(ValueError):
                decoded[key] = base64.b64decode(str(value)).decode()
        decoded.update({k: str(v) for k, v in (secret.get("stringData") or {}).items()})
        return decoded

    def health_overrides(self) -> Mapping[str, str]:
        """Lua health checks from ``argocd-cm``: ``resource.customizations.health.<group>_<Kind>``."""
        data = (self._settings_cm.get("data") or {})
        return {key[len(HEALTH_PREFIX):]: str(value) for key, value in data.items() if key.startswith(HEALTH_PREFIX)}

    def projects(self) -> dict[str, JsonObject]:
        """The AppProjects by name; ``default`` is always there, as Argo CD creates it when missing."""
        with self._lock:
            found = dict(self._projects)
        found.setdefault(DEFAULT_PROJECT_NAME, default_project(self.options.namespace))
        return found

    def tracking_method(self) -> str:
        """argocd-cm's ``application.resourceTrackingMethod`` (``annotation`` when unset, as Argo CD 3.x)."""
        method = str((self._settings_cm.get("data") or {}).get(TRACKING_KEY) or "annotation")
        return method if method in TRACKING_METHODS else "annotation"

    def _app_known(self, name: str) -> bool:
        with self._lock:
            return name in self._apps

    def _owner(self, obj: JsonObject) -> str | None:
        owner: str | None = owning_app(obj, self.tracking_method())
        return owner

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def _fill_cache(self) -> None:
        """Discover the API and wait for the first lists of the control namespace's streams."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.cache.bind(loop)
        self._resources.merge(await loop.run_in_executor(self._pass_pool, discover, self.client))
        # In the controller process the streams are open already (its start-up opens them before this one runs).
        await self.informers.start()
        for kind in (APPLICATIONS, SECRETS, CONFIGMAPS, APP_PROJECTS):
            if not await first_answers(self.informers, kind, namespaces=(self.options.namespace,),
                                       timeout=SYNC_TIMEOUT):
                logger.warning("%s in %s: no first list after %gs; starting without it", kind.plural,
                               self.options.namespace, SYNC_TIMEOUT)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the application controller is not started")
        return self._loop

    def _before_workers(self) -> None:
        """Create the default project and serve the webhook."""
        self._create_default_project()
        if self.options.webhook_port:
            try:
                self.webhook = serve_webhook(self.options.webhook_port, self.options.webhook_address,
                                             secrets=self.webhook_secrets, on_push=self.push)
            except OSError as error:
                # Another process holds the port (a replica that lost the Lease but has not exited yet): the
                # Applications are still refreshed by the poll and the annotation, so this is no reason to stop.
                logger.warning("cannot serve the push webhook on %s:%d: %s; refreshing on the poll and on "
                               "request only", self.options.webhook_address, self.options.webhook_port, error)
            else:
                logger.info("serving the push webhook on %s:%d/api/webhook", self.options.webhook_address,
                            self.webhook.port)

    def _workers_started(self) -> None:
        logger.info("application controller started: %d applications in %s, %d workers, refresh every %gs",
                    len(self._apps), self.options.namespace, self.options.workers, self.options.poll_seconds)

    async def stop(self) -> None:
        """Stop the workers (a pass in flight finishes on its thread; its writes are idempotent), the watches,
        the webhook; wait for Events being posted."""
        await self.runner.stop()
        for connection in self.clusters.connections():
            await connection.cache.close()
        self.clusters.stop()
        if self._owns_informers:
            await self.informers.stop()
            await self.informers.http.aclose()
        if self.webhook is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.webhook.close)
            self.webhook = None
        # A pass in flight finishes its writes (each is idempotent, but one cut in half is not recorded).
        await asyncio.get_running_loop().run_in_executor(None, lambda: self._pass_pool.shutdown(
            wait=True, cancel_futures=True))
        self._render_pool.shutdown(wait=False, cancel_futures=True)
        await self.events.drain()

    # -- inputs ------------------------------------------------------------------------------------------

    def push(self, event: PushEvent) -> int:
        """A push webhook (called from the webhook thread): mark and queue the Applications it touches, then tell
        the ``push_listeners``; how many objects it refreshes."""
        with self._lock:
            apps = list(self._apps.values())
        self.reconciler.forget_revisions(list(event.repo_urls))
        names = [str(app["metadata"]["name"]) for app in apps if push_refreshes(app, event)]
        for name in names:
            self.clusters.mark_pushed(name)
        self._queue_threadsafe(set(names))
        return len(names) + sum(listener(event) for listener in self.push_listeners)

    def _objects_changed(self, names: set[str]) -> None:
        self._queue_threadsafe(names)

    def _queue_threadsafe(self, names: set[str]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or not names:
            return
        with self._lock:
            known = [name for name in names if name in self._apps]
        for name in known:
            loop.call_soon_threadsafe(self.runner.add, AppKey(self.options.namespace, name))

    def _app_event(self, event_type: str | None, obj: JsonObject) -> None:
        name = str(obj["metadata"]["name"])
        if event_type == "DELETED":
            with self._lock:
                self._deleted_apps.record(obj)
                self._apps.pop(name, None)
            self.clusters.forget(name)
            self.metrics.forget_app(str(obj["metadata"].get("namespace") or ""), name)
            return
        with self._lock:
            cached = self._apps.get(name)
            if cached is not None and _resource_version(cached) >= _resource_version(obj):
                return  # our own write, already recorded
            if self._deleted_apps.is_deleted(obj):
                return
            self._apps[name] = obj
        self._queue_threadsafe({name})

    def _app_written(self, obj: JsonObject) -> None:
        """Our own write's answer (on a pass's thread): newer than the cached copy unless a watch event won.

        The answer may carry what someone else changed just before our write landed — a deletion, a new spec. Their
        watch events are then older than the recorded answer and are skipped, so the answer itself queues the
        Application (else a deletion would wait for the next poll)."""
        name = str(obj["metadata"]["name"])
        with self._lock:
            if self._deleted_apps.is_deleted(obj):
                return  # answered after the Application's DELETED event: it is gone, not back
            cached = self._apps.get(name)
            if cached is None or _resource_version(cached) < _resource_version(obj):
                self._apps[name] = obj
            else:
                return
        if cached is not None and _changed_by_others(cached, obj):
            self._queue_threadsafe({name})

    def _secret_event(self, event_type: str | None, obj: JsonObject) -> None:
        with self._lock:
            previous = self._secrets.get(str(obj["metadata"]["name"]))
            _apply_event(self._secrets, event_type, obj)
        # A deletion seen by a re-list carries no labels: the cached copy tells whether it was a cluster's.
        if any(_is_cluster_secret(secret) for secret in (obj, previous) if secret is not None):
            self._clusters_changed()

    def _clusters_changed(self) -> None:
        """The cluster Secrets changed: connections follow, and every Application is looked at again (one whose
        destination was unknown may now have one)."""
        with self._lock:
            secrets = list(self._secrets.values())
        if self.clusters.set_clusters(clusters_from_secrets(secrets)):
            self._queue_threadsafe(set(self._apps))

    def _configmap_event(self, event_type: str | None, obj: JsonObject) -> None:
        if str(obj["metadata"]["name"]) == ARGOCD_CM:
            self._settings_cm = {} if event_type == "DELETED" else obj

    def _project_event(self, event_type: str | None, obj: JsonObject) -> None:
        with self._lock:
            name = _apply_event(self._projects, event_type, obj)
            affected = {app_name for app_name, app in self._apps.items() if project_name(app) == name}
        self._queue_threadsafe(affected)

    def _create_default_project(self) -> None:
        """Argo CD creates the ``default`` AppProject when it is missing; so does this controller, as leader."""
        with self._lock:
            if DEFAULT_PROJECT_NAME in self._projects:
                return
        try:
            self.client.create(APP_PROJECTS, self.options.namespace, default_project(self.options.namespace))
            logger.info("created the default AppProject in %s", self.options.namespace)
        except Conflict:
            return  # someone created it first
        except KubeError as error:
            # Without it the controller still treats `default` as permitting everything; only kubectl misses it.
            logger.warning("cannot create the default AppProject in %s: %s", self.options.namespace, error)

    def _rediscover(self) -> ApiResources:
        self._resources.merge(discover(self.client))
        return self._resources

    # -- workers -----------------------------------------------------------------------------------------

    def _keys(self) -> list[AppKey]:
        with self._lock:
            return [AppKey(self.options.namespace, name) for name in self._apps]

    async def _reconcile_key(self, key: AppKey) -> float | Gone | None:
        """One pass on a worker thread (its I/O blocks), then its Events from the loop; when to look again."""
        with self._lock:
            app = self._apps.get(key.name)
        if app is None:
            self.clusters.forget(key.name)
            return GONE
        loop = asyncio.get_running_loop()
        result: PassResult = await loop.run_in_executor(self._pass_pool, self.clusters.reconcile, app)
        for obj, event in result.events:
            self.events.emit(obj, event)
        if result.forget:
            self.clusters.forget(key.name)
            return GONE
        delay = result.requeue_after
        if delay is not None and delay > 0 and self.options.poll_seconds > 0 and (
                delay >= self.options.poll_seconds * 0.5):
            delay = poll_delay(key.name, delay, self.options.poll_jitter_seconds)
        return delay


def _changed_by_others(before: JsonObject, after: JsonObject) -> bool:
    """Whether ``after`` differs from ``before`` in what only others write: the deletion, or the spec."""
    deleting = bool((after.get("metadata") or {}).get("deletionTimestamp"))
    was_deleting = bool((before.get("metadata") or {}).get("deletionTimestamp"))
    return deleting != was_deleting or after.get("spec") != before.get("spec")


def _is_cluster_secret(secret: JsonObject) -> bool:
    return ((secret.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE_LABEL) == "cluster"


def _apply_event(objects: dict[str, JsonObject], event_type: str | None, obj: JsonObject) -> str:
    """Keep ``objects`` (by name) as a watch event of ``obj`` leaves them; returns its name."""
    name = str(obj["metadata"]["name"])
    if event_type == "DELETED":
        objects.pop(name, None)
    else:
        objects[name] = obj
    return name


def _resource_version(obj: JsonObject) -> int:
    value = str((obj.get("metadata") or {}).get("resourceVersion") or "0")
    return int(value) if value.isdigit() else 0
