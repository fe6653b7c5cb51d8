"""The ApplicationSet controller: generators → desired Applications → creates, updates, deletes → status.

Observe (watches of ApplicationSets, their Applications and the cluster Secrets in the controller's namespace:
``kube.informer`` streams, the Applications' and the Secrets' shared with the Application controller in the
controller process; its observers run on the event loop), decide (``gitops.appset``: pure), act (the writes, then
one status patch when the status changed). A pass that cannot generate — a repository that does not answer, a
template error, two Applications with one name — writes only its conditions: nothing is created and, above all,
nothing is deleted on the strength of missing input.

Kubernetes' garbage collector deletes the generated Applications when their ApplicationSet goes (they carry a
controller ownerReference); the sandbox's emulator has none, so the controller deletes what it owns when it sees
its ApplicationSet deleted, which a real cluster would have done anyway.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gitops.appset.application_writes import owned_by, plan_application_writes, resource_entries
from gitops.appset.conditions import appset_conditions
from gitops.appset.desired_applications import GenerationError, Sources, desired_applications
from gitops.appset.generators.git import GitReader
from gitops.appset.requeue import (
    application_change_requeues,
    appset_change_requeues,
    owned_fields_changed,
    status_requeue_delay,
)
from gitops.clusters import SECRET_TYPE_LABEL, clusters_from_secrets
from gitops.resources import JsonObject
from gitops.sources.errors import SourceError
from gitops.sources.urls import normalize_git_url
from kube.client import KubeClient
from kube.controller_runner import GONE, ControllerRunner, Gone, WorkerOptions
from kube.controller_startup import CacheFirstController
from kube.errors import ApiError, Conflict, KubeError, NotFound
from kube.http_connection import async_http_client
from kube.informer import Informers, Observer, first_answers
from kube.kopf_operator import REQUEST_TIMEOUT, WATCH_CONNECT_TIMEOUT
from kube.object_meta import ObjectKey
from kube.resources import APPLICATION_SETS, APPLICATIONS, SECRETS, ResourceKind
from kube.timestamps import Clock, format_time, utc_now

logger = logging.getLogger(__name__)

WATCHED_KINDS: Final = (APPLICATION_SETS, APPLICATIONS, SECRETS)
DEFAULT_REQUEUE_SECONDS: Final = 180.0  # Argo CD's git generator requeueAfterSeconds
DEFAULT_WORKERS: Final = 4
DEFAULT_STATUS_REQUEUE_SECONDS: Final = 2.0
DEFAULT_STATUS_PASS_SHARE: Final = 0.2


@dataclass(frozen=True, kw_only=True)
class AppSetControllerOptions(WorkerOptions):
    """Where ApplicationSets live, how many workers reconcile them, how often generators are read again."""

    namespace: str = "argocd"
    workers: int = DEFAULT_WORKERS
    requeue_seconds: float = DEFAULT_REQUEUE_SECONDS
    # A change of an owned Application that status.resources only reports (its sync or health status) queues a
    # pass this much later, so that the changes of a thousand Applications syncing at once share one pass (each
    # regenerates and re-plans the whole set) instead of running back to back.
    status_requeue_seconds: float = DEFAULT_STATUS_REQUEUE_SECONDS
    # …and later still when passes are long: passes for such changes alone take at most this share of the time.
    status_pass_share: float = DEFAULT_STATUS_PASS_SHARE


class _NoMetrics:
    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None:
        return None

    def count_error(self, namespace: str, name: str) -> None:
        return None

    def forget(self, namespace: str, name: str) -> None:
        return None


def requeue_after(appset: Mapping[str, Any], default: float) -> float:
    """The shortest ``requeueAfterSeconds`` of the ApplicationSet's generators (nested ones included)."""
    found: list[float] = []

    def visit(generators: Iterable[Any]) -> None:
        for generator in generators:
            if not isinstance(generator, Mapping):
                continue
            for spec in generator.values():
                if isinstance(spec, Mapping):
                    if isinstance(spec.get("requeueAfterSeconds"), int | float):
                        found.append(float(spec["requeueAfterSeconds"]))
                    visit(spec.get("generators") or [])

    visit((appset.get("spec") or {}).get("generators") or [])
    return min(found) if found else default


def git_repositories(appset: Mapping[str, Any]) -> set[str]:
    """The repository URLs the ApplicationSet's git generators read (for push webhooks)."""
    found: set[str] = set()

    def visit(generators: Iterable[Any]) -> None:
        for generator in generators:
            if not isinstance(generator, Mapping):
                continue
            git = generator.get("git")
            if isinstance(git, Mapping) and git.get("repoURL"):
                found.add(str(git["repoURL"]))
            for spec in generator.values():
                if isinstance(spec, Mapping):
                    visit(spec.get("generators") or [])

    visit((appset.get("spec") or {}).get("generators") or [])
    return found


class AppSetController(CacheFirstController[KubeClient, AppSetControllerOptions]):
    """Watches, a runner, and the pass; ``start``/``stop`` on the event loop, passes on worker threads."""

    def __init__(
        self,
        client: KubeClient,
        git: GitReader,
        options: AppSetControllerOptions,
        *,
        clock: Clock = utc_now,
        informers: Informers | None = None,
    ) -> None:
        """``informers``: the process's streams, not started yet (the controller's own when None)."""
        super().__init__(client, options, clock)
        self.git = git
        self._lock = threading.Lock()
        self._appsets: dict[ObjectKey, JsonObject] = {}
        self._applications: dict[str, JsonObject] = {}
        self._cluster_secrets: dict[str, JsonObject] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pass_seconds: dict[ObjectKey, float] = {}  # the last pass's duration, per ApplicationSet
        self.runner: ControllerRunner[ObjectKey] = ControllerRunner(
            options.runner_options("applicationset"),
            self._reconcile,
            self._keys,
            _NoMetrics(),
        )
        self._owns_informers = informers is None
        self.informers = informers if informers is not None else Informers(
            async_http_client(client.configuration, timeout=REQUEST_TIMEOUT, connect_timeout=WATCH_CONNECT_TIMEOUT)
        )
        # Every Secret of the namespace (not only the clusters'): the stream the Application controller has.
        for kind in WATCHED_KINDS:
            self.informers.observe(kind, self._observer(kind), namespaces=(options.namespace,))

    # -- lifecycle -------------------------------------------------------------------------------------

    async def _fill_cache(self) -> None:
        """Wait for the streams' first lists (in the controller process they are open already)."""
        self._loop = asyncio.get_running_loop()
        await self.informers.start()
        for kind in WATCHED_KINDS:
            # No time limit: a pass from a half-listed cache could plan from missing Applications. A list that
            # fails answers too (its stream keeps trying), so only a server that never answers holds this.
            await first_answers(self.informers, kind, namespaces=(self.options.namespace,), timeout=None)

    async def stop(self) -> None:
        if self._owns_informers:
            await self.informers.stop()
            await self.informers.http.aclose()
        await self.runner.stop()

    def refresh_repository(self, repo_url: str) -> int:
        """Queue every ApplicationSet whose git generators read ``repo_url`` (a push webhook); how many."""
        return self.refresh_repositories([repo_url])

    def refresh_repositories(self, repo_urls: Iterable[str]) -> int:
        """Queue every ApplicationSet whose git generators read one of ``repo_urls`` — the several URLs a forge
        gives one repository (web, HTTPS clone, SSH) — once each; how many."""
        wanted = {normalize_git_url(url) for url in repo_urls}
        with self._lock:
            keys = [key for key, appset in self._appsets.items()
                    if any(normalize_git_url(url) in wanted for url in git_repositories(appset))]
        for key in keys:
            self._queue(key)
        return len(keys)

    # -- observation -----------------------------------------------------------------------------------

    def _keys(self) -> list[ObjectKey]:
        with self._lock:
            return list(self._appsets)

    def _queue(self, key: ObjectKey, delay: float = 0.0) -> None:
        loop = self._loop
        if loop is not None and self.runner.started:
            if delay > 0:
                loop.call_soon_threadsafe(self.runner.queue.add_after, key, delay)
            else:
                loop.call_soon_threadsafe(self.runner.add, key)

    def _observer(self, kind: ResourceKind) -> Observer:
        return lambda event_type, obj: self._on_event(kind, event_type, obj)

    def _on_event(self, kind: ResourceKind, event_type: str | None, obj: JsonObject) -> None:
        """One object as a stream delivered it (``event_type`` None: seen by a list)."""
        name = str((obj.get("metadata") or {}).get("name", ""))
        status_only = False
        if kind is SECRETS and not _is_cluster_secret(obj):
            # Not (or no longer) a cluster's Secret: gone from the clusters if it was one.
            event_type = "DELETED"
        with self._lock:
            if kind is APPLICATION_SETS:
                key = _key(obj)
                if event_type == "DELETED":
                    self._appsets.pop(key, None)
                    self._pass_seconds.pop(key, None)
                else:
                    previous_appset = self._appsets.get(key)
                    self._appsets[key] = obj
                    if not appset_change_requeues(previous_appset, obj):
                        return  # only its status changed: the echo of our own status patch
                keys = [key]
            elif kind is APPLICATIONS:
                if event_type == "DELETED":
                    previous = self._applications.pop(name, None)
                else:
                    previous = self._applications.get(name)
                    if previous is not None and _resource_version(previous) >= _resource_version(obj):
                        return  # our own write, already recorded from its answer
                    self._applications[name] = obj
                if event_type != "DELETED" and not owned_fields_changed(previous, obj):
                    if not application_change_requeues(previous, obj):
                        return
                    status_only = True
                keys = [key for key, appset in self._appsets.items() if owned_by(obj, appset)]
            else:
                if event_type == "DELETED":
                    if self._cluster_secrets.pop(name, None) is None:
                        return  # not a cluster's Secret
                else:
                    self._cluster_secrets[name] = obj
                keys = list(self._appsets)
        for key in keys:
            delay = status_requeue_delay(self.options.status_requeue_seconds, self._pass_seconds.get(key),
                                         self.options.status_pass_share) if status_only else 0.0
            self._queue(key, delay)

    # -- one pass --------------------------------------------------------------------------------------

    async def _reconcile(self, key: ObjectKey) -> float | Gone | None:
        return await asyncio.to_thread(self.reconcile, key)

    def reconcile(self, key: ObjectKey) -> float | Gone | None:
        """One pass over one ApplicationSet; when to look again."""
        started = time.monotonic()
        try:
            return self._pass(key)
        finally:
            self._pass_seconds[key] = time.monotonic() - started

    def _pass(self, key: ObjectKey) -> float | Gone | None:
        with self._lock:
            appset = self._appsets.get(key)
            applications = list(self._applications.values())
            secrets = list(self._cluster_secrets.values())
        if appset is None:
            return GONE
        owned = [app for app in applications if owned_by(app, appset)]
        if (appset.get("metadata") or {}).get("deletionTimestamp"):
            self._delete_all(owned)
            return None
        sources = Sources(git=self.git, clusters=clusters_from_secrets(secrets))
        generation_error: tuple[str, str] | None = None
        write_errors: dict[str, str] = {}
        desired: list[JsonObject] = []
        try:
            desired = desired_applications(appset, sources)
        except GenerationError as error:
            generation_error = (error.reason, str(error))
        except SourceError as error:
            generation_error = ("ApplicationParamsGenerationError", str(error))
        if generation_error is None:
            write_errors = self._write(appset, desired, applications)
            with self._lock:  # with the answers to this pass's writes, so that status.resources lists them
                applications = list(self._applications.values())
        self._write_status(appset, desired, applications, generation_error, write_errors)
        return requeue_after(appset, self.options.requeue_seconds)

    def _write(self, appset: JsonObject, desired: list[JsonObject], applications: list[JsonObject]) -> dict[str, str]:
        writes = plan_application_writes(appset, desired, applications)
        errors: dict[str, str] = dict(writes.refused)
        namespace = str((appset.get("metadata") or {}).get("namespace") or self.options.namespace)
        for body in writes.create:
            name = str(body["metadata"]["name"])
            try:
                self._written(self.client.create(APPLICATIONS, body["metadata"].get("namespace") or namespace, body))
                logger.info("applicationset %s: created Application %s", key_text(appset), name)
            except KubeError as error:
                errors[name] = f"cannot create Application {name}: {error}"
        for body in writes.update:
            name = str(body["metadata"]["name"])
            try:
                self._written(self.client.replace(APPLICATIONS, body["metadata"].get("namespace") or namespace, name,
                                                  body))
                logger.info("applicationset %s: updated Application %s", key_text(appset), name)
            except Conflict:
                continue  # the watch brings the newer Application and the next pass tries again
            except KubeError as error:
                errors[name] = f"cannot update Application {name}: {error}"
        for app in writes.delete:
            name = str(app["metadata"]["name"])
            try:
                self.client.delete(APPLICATIONS, app["metadata"].get("namespace") or namespace, name)
                logger.info("applicationset %s: deleted Application %s", key_text(appset), name)
            except NotFound:
                continue
            except KubeError as error:
                errors[name] = f"cannot delete Application {name}: {error}"
        return errors

    def _written(self, obj: JsonObject) -> None:
        """Our own write's answer: newer than the cached copy unless a watch event won. Recorded at once, so that
        a pass starting before the watch delivers it neither creates the Application again (a conflict) nor
        misses it in status.resources."""
        name = str(obj["metadata"]["name"])
        with self._lock:
            cached = self._applications.get(name)
            if cached is None or _resource_version(cached) < _resource_version(obj):
                self._applications[name] = obj

    def _delete_all(self, owned: list[JsonObject]) -> None:
        for app in owned:
            metadata = app.get("metadata") or {}
            if metadata.get("deletionTimestamp"):
                continue
            try:
                self.client.delete(APPLICATIONS, str(metadata.get("namespace") or self.options.namespace),
                                   str(metadata["name"]))
            except NotFound:
                continue

    def _write_status(
        self,
        appset: JsonObject,
        desired: list[JsonObject],
        applications: list[JsonObject],
        generation_error: tuple[str, str] | None,
        write_errors: dict[str, str],
    ) -> None:
        previous = appset.get("status") or {}
        now = format_time(self.clock())
        conditions = appset_conditions(previous.get("conditions") or [], generation_error=generation_error,
                                       write_errors=write_errors, now=now)
        status: JsonObject = {"conditions": conditions}
        if generation_error is None:
            status["resources"] = resource_entries(desired, applications)
            status["resourcesCount"] = len(status["resources"])
        else:
            # Keep what was last known about the Applications: they were left as they were.
            for field in ("resources", "resourcesCount"):
                if field in previous:
                    status[field] = previous[field]
        if _comparable(status) == _comparable({key: previous.get(key) for key in status}):
            return
        metadata = appset["metadata"]
        try:
            self.client.patch(APPLICATION_SETS, metadata.get("namespace"), metadata["name"], {"status": status},
                              subresource="status")
        except (Conflict, NotFound):
            return
        except ApiError as error:
            logger.warning("applicationset %s: cannot write status: %s", key_text(appset), error)


def _comparable(status: Mapping[str, Any]) -> Any:
    """The status without the conditions' transition times. Only the conditions carry them: the thousand entries
    of ``resources`` are compared as they are, not rebuilt on every pass."""

    def strip(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: strip(item) for key, item in value.items() if key != "lastTransitionTime"}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    return {key: strip(value) if key == "conditions" else value for key, value in status.items()}


def _is_cluster_secret(secret: Mapping[str, Any]) -> bool:
    return ((secret.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE_LABEL) == "cluster"


def _resource_version(obj: Mapping[str, Any]) -> int:
    value = str((obj.get("metadata") or {}).get("resourceVersion") or "0")
    return int(value) if value.isdigit() else 0


def _key(obj: Mapping[str, Any]) -> ObjectKey:
    metadata = obj.get("metadata") or {}
    return ObjectKey(str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def key_text(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return f"{metadata.get('namespace')}/{metadata.get('name')}"
