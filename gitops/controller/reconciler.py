"""One pass over one Application: observe → render → compare → automation → sync step → act → status.

Thin by design: every decision is a pure function of another module (``refresh``, ``compare_app``,
``auto_sync_operation``/``retry_after``, ``plan_sync_step``, ``deletion_step``, ``app_status``); this module only
gathers their inputs, performs the writes they ask for, and writes the status when it changed. A pass runs on a
worker thread (its I/O is blocking); the controller emits the Events it returns on the event loop.

Safety rules that live here because they are about I/O: a render that fails leaves the last comparison and every
live object as they were (a ``ComparisonError`` condition says why), and a render runs in a thread of its own with
a timeout, so a hung ``git`` cannot hold a worker.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

from gitops.clusters import LOCAL_CLUSTER
from gitops.compare.comparison import Comparison, compare_app, resource_status_entries
from gitops.compare.tracking import owning_app, with_tracking
from gitops.controller import app_events
from gitops.controller.api_resources import ApiResources
from gitops.controller.app_status import (
    condition,
    health_with_transition,
    images_of,
    merge_conditions,
    status_changed,
    status_patch,
)
from gitops.controller.deletion import deletion_step
from gitops.controller.destination import Destination, resolve
from gitops.controller.live_cache import LiveCache
from gitops.controller.metrics import AppMetrics
from gitops.controller.multi_source import RenderedSources, generate_sources
from gitops.controller.orphans import OrphanMonitor
from gitops.controller.refresh import (
    Depth,
    annotation_removal,
    refresh_need,
    requested_refresh,
    source_fingerprint,
)
from gitops.controller.resource_ops import ResourceOperations
from gitops.controller.revision_cache import RevisionCache
from gitops.controller.spec_checks import spec_problems
from gitops.health import resource_health
from gitops.models import RESOURCES_FINALIZER
from gitops.project.admission import find_project, resource_permission, sync_blocked
from gitops.project.admission import spec_problems as project_problems
from gitops.project.orphaned_resources import orphan_entries, orphaned_condition
from gitops.project.sync_windows import BLOCKED_MESSAGE as WINDOW_BLOCKED
from gitops.repo_server import Manifests, RenderError, RepoServer, SourceError
from gitops.resources import ResourceKey
from gitops.sync.actions import NAMESPACE
from gitops.sync.automation import decide_auto_sync
from gitops.sync.history import append_history
from gitops.sync.results import new_operation_state
from gitops.sync.source_revisions import (
    app_sources,
    has_multiple_sources,
    label_revisions,
    multi_source_operation,
    multi_source_state,
    operation_revisions,
    sync_status,
)
from gitops.sync.step import ActionResult, SyncAction, plan_sync_step, record_results
from kube.client import KubeClient
from kube.errors import Conflict, KubeError, NotFound
from kube.event_records import EventRecord
from kube.json_data import JsonObject
from kube.resources import APPLICATIONS
from kube.timestamps import format_time

logger = logging.getLogger(__name__)


REQUEUE_ON_CONFLICT: Final = 1.0
DELETION_POLL_SECONDS: Final = 1.0
RUNNING_POLL_SECONDS: Final = 2.0
# How soon a sync held back by a sync window is looked at again (windows open on minute boundaries).
WINDOW_POLL_SECONDS: Final = 30.0


@dataclass(frozen=True)
class Rendered:
    """The manifests of the last render: placed (destination namespace) and tracked, with where they came from."""

    fingerprint: str
    revision: str
    targets: tuple[JsonObject, ...]
    source_type: str
    at: float
    # A multi-source Application's: one per source (``revision`` is then their label, see source_revisions).
    revisions: tuple[str, ...] = ()
    source_types: tuple[str, ...] = ()


@dataclass
class PassResult:
    """What the controller does after a pass: when to look again, and which Events to post."""

    requeue_after: float | None = None
    events: list[tuple[JsonObject, EventRecord]] = field(default_factory=list)
    forget: bool = False


@dataclass(frozen=True)
class ReconcilerSettings:
    poll_seconds: float
    render_timeout: float
    # --application-health: child Applications get a health (Synced and Healthy), so waves wait for them.
    application_health: bool = False
    # Where the Applications, argocd-cm and the AppProjects live.
    control_namespace: str = "argocd"


class ControlNamespaceSettings(Protocol):
    """What a pass reads, as it is now, from the control namespace (the Application controller keeps it current)."""

    def health_overrides(self) -> Mapping[str, str]:
        """argocd-cm's ``resource.customizations.health.<group_kind>`` Lua health checks, by group kind."""
        ...

    def tracking_method(self) -> str:
        """argocd-cm's ``application.resourceTrackingMethod``: annotation (Argo CD 3.x's default), label,
        annotation+label."""
        ...

    def projects(self) -> Mapping[str, JsonObject]:
        """The AppProjects by name."""
        ...


class AppReconciler:
    """Holds the per-Application memory a pass reuses (the last render) and performs passes."""

    def __init__(
        self,
        *,
        client: KubeClient,
        repo_server: RepoServer,
        cache: LiveCache,
        resources: Callable[[], ApiResources],
        operations: ResourceOperations,
        metrics: AppMetrics,
        settings: ReconcilerSettings,
        control: ControlNamespaceSettings,
        clock: Callable[[], datetime],
        render_pool: concurrent.futures.ThreadPoolExecutor,
        written: Callable[[JsonObject], None] = lambda app: None,
        app_exists: Callable[[str], bool] = lambda name: True,
        revisions: RevisionCache | None = None,
    ) -> None:
        self._client = client
        self._repo = repo_server
        self._cache = cache
        self._resources = resources
        self._ops = operations
        self._metrics = metrics
        self._settings = settings
        self._control = control
        self._clock = clock
        self._render_pool = render_pool
        # Each Application as our own write returned it: the next pass must not decide from the older copy.
        self._written = written
        # An object tracked to an Application that no longer exists is an orphan (Argo CD's belongToAnotherApp).
        self._orphans = OrphanMonitor(cache, resources, lambda obj: owning_app(obj, control.tracking_method()),
                                     app_exists)
        self._rendered: dict[str, Rendered] = {}
        self._compared: dict[str, tuple[Any, tuple[JsonObject, ...], Comparison]] = {}
        self._pushed: set[str] = set()
        # Shared by the reconcilers of every destination cluster: a revision does not depend on where it goes.
        self._revisions = revisions if revisions is not None else RevisionCache()

    # -- inputs from the controller ----------------------------------------------------------------------

    def mark_pushed(self, name: str) -> None:
        """A webhook push concerns ``name``: its next pass resolves the revision again."""
        self._pushed.add(name)

    def forget_revisions(self, repo_urls: list[str]) -> None:
        """A push changed these repositories: resolve their revisions again."""
        self._revisions.forget_repositories(repo_urls)

    def forget(self, name: str) -> None:
        self._rendered.pop(name, None)
        self._compared.pop(name, None)
        self._pushed.discard(name)
        self._cache.forget_app(name)

    def seconds_until_poll(self, name: str) -> float | None:
        rendered = self._rendered.get(name)
        if rendered is None or self._settings.poll_seconds <= 0:
            return None
        return max(0.0, rendered.at + self._settings.poll_seconds - time.monotonic())

    # -- the pass ----------------------------------------------------------------------------------------

    def reconcile(self, app: JsonObject, destination: Destination | None = None) -> PassResult:
        """One pass over ``app`` (the cached object) to ``destination`` (by default: resolved against the local
        cluster alone); never raises for a problem of the Application itself."""
        if destination is None:
            destination = resolve((app.get("spec") or {}).get("destination") or {}, [LOCAL_CLUSTER])
        if (app.get("metadata") or {}).get("deletionTimestamp"):
            if destination.unreachable is not None:
                return PassResult(requeue_after=destination.retry_after)
            # As Argo CD: the resources of a cluster that is no longer declared cannot be deleted; only the
            # finalizer goes.
            return self._delete(app, cluster_known=destination.invalid is None)
        return self._reconcile(app, destination)

    def _reconcile(self, app: JsonObject, destination: Destination) -> PassResult:
        name = str(app["metadata"]["name"])
        now = self._clock()
        result = PassResult()
        stored: JsonObject = dict(app.get("status") or {})
        conditions: list[JsonObject] = []
        invalid = spec_problems(app)
        if destination.invalid is not None:
            invalid.append(destination.invalid)
        project = find_project(app, self._control.projects())
        if isinstance(project, str):
            invalid.append(project)
        elif destination.invalid is None:
            invalid.extend(project_problems(app, project, self._settings.control_namespace,
                                            cluster=destination.cluster))
        if invalid or isinstance(project, str):
            conditions.extend(condition("InvalidSpecError", message) for message in invalid)
            return self._write(app, stored, {**stored, "sync": {**(stored.get("sync") or {}), "status": "Unknown"}},
                               conditions, now, result, refreshed=requested_refresh(app) is not None)
        if destination.unreachable is not None:
            # Nothing of the cluster can be read: the comparison is unknown, the live objects as they were.
            conditions.append(condition("ComparisonError", destination.unreachable))
            result.requeue_after = destination.retry_after
            return self._write(app, stored, {**stored, "sync": {**(stored.get("sync") or {}), "status": "Unknown"}},
                               conditions, now, result, refreshed=requested_refresh(app) is not None)
        # A new operation syncs to what the target revision names now (argocd's API server resolves it as the
        # operation is requested), not to what the last periodic refresh saw.
        starting = bool(app.get("operation")) and not _running(stored.get("operationState"))
        rendered, render_error = self._render_if_needed(app, force=starting)
        if render_error is not None:
            conditions.append(condition("ComparisonError", render_error))
        if rendered is None:
            desired = {**stored, "sync": {**(stored.get("sync") or {}), "status": "Unknown"}}
            operation = app.get("operation")
            if operation and render_error is not None:
                # Nothing can be applied without manifests: the operation fails, naming why.
                failed = _failed_state(stored.get("operationState"), operation, now, render_error)
                desired["operationState"] = failed
                result.events.append((app, app_events.operation_completed("", "Failed", render_error)))
                self._metrics.count_sync(app, "Failed")
                return self._write(app, stored, desired, conditions, now, result, refreshed=True,
                                   clear_operation=True)
            return self._write(app, stored, desired, conditions, now, result, refreshed=True)
        targets = list(rendered.targets)
        revision = rendered.revision
        live = self._observe(name, targets, stored)
        overrides = dict(self._control.health_overrides())
        comparison = self._compare(app, rendered, targets, live, overrides)
        conditions.extend(comparison.conditions)
        desired = self._compared_status(app, stored, comparison, rendered, live)
        conditions.extend(self._orphans_seen(app, project, comparison, desired))
        operation = app.get("operation")
        state: JsonObject | None = stored.get("operationState")
        clear_operation = False
        if operation:
            desired, clear_operation = self._operate(app, project, operation, state, desired, targets, live,
                                                     comparison, revision, now, overrides, result,
                                                     destination)
        elif not _running(state):
            decision = decide_auto_sync(app, comparison, revision, now)
            blocked = sync_blocked(app, project, now, manual=False) if decision.operation is not None else None
            if blocked is not None:
                logger.info("%s: no automated sync: %s", name, blocked)
                result.requeue_after = WINDOW_POLL_SECONDS
            elif decision.operation is not None:
                if self._start_operation(app, multi_source_operation(app, decision.operation)):
                    result.events.append((app, app_events.automated_sync_started(revision)))
                    result.requeue_after = 0.0
                    return result
                result.requeue_after = REQUEUE_ON_CONFLICT
                return result
            logger.debug("%s: no automated sync: %s", name, decision.reason)
            if decision.condition is not None:
                conditions.append(decision.condition)
            if decision.retry_after is not None:
                result.requeue_after = decision.retry_after
        return self._write(app, stored, desired, conditions, now, result, refreshed=True,
                           clear_operation=clear_operation)

    # -- render ------------------------------------------------------------------------------------------

    def _render_if_needed(self, app: JsonObject, *, force: bool = False) -> tuple[Rendered | None, str | None]:
        name = str(app["metadata"]["name"])
        previous = self._rendered.get(name)
        # Asked for (the annotation, a new operation): resolve the revision now, not from the revision cache.
        fresh = force or requested_refresh(app) is not None
        need = refresh_need(
            app,
            rendered_fingerprint=previous.fingerprint if previous else None,
            seconds_since_render=(time.monotonic() - previous.at) if previous else None,
            poll_seconds=self._settings.poll_seconds,
            pushed=name in self._pushed or force,
        )
        if need.depth is Depth.NONE and previous is not None:
            return previous, None
        self._pushed.discard(name)
        logger.debug("%s: refreshing (%s)", name, need.reason)
        rendered, error = self.render_app(app, revision=None, hard=need.depth is Depth.HARD, fresh=fresh)
        if rendered is not None and previous is not None and need.depth is not Depth.HARD and (
                previous.revision, previous.fingerprint) == (rendered.revision, rendered.fingerprint):
            # The same commit of the same source renders the same manifests: keep the previous ones, so that the
            # comparison memo below still recognises them.
            rendered = dataclasses.replace(previous, at=rendered.at)
        if rendered is None:
            # The last good render stays in use for comparison only after the source is fixed; a failing render
            # compares nothing, so nothing is pruned or synced on its account.
            self._rendered.pop(name, None)
            return None, error
        self._rendered[name] = rendered
        return rendered, None

    def render_app(
        self, app: JsonObject, *, revision: str | None, sources: list[JsonObject] | None = None, hard: bool = False,
        fresh: bool = False,
    ) -> tuple[Rendered | None, str | None]:
        """Generate the Application's manifests from its source, or from every one of its ``spec.sources``
        (``sources`` replaces them, as a rollback to a history entry does; ``revision`` pins the revision, or the
        label of the revisions of several)."""
        if not has_multiple_sources(app):
            source = (sources or app_sources(app) or [{}])[0]
            return self.render(app, source, revision=revision, hard=hard, fresh=fresh)
        chosen = sources if sources is not None else app_sources(app)
        pinned: list[str | None] = list(label_revisions(revision)) if revision else [None] * len(chosen)
        name = str(app["metadata"]["name"])
        namespace = str(((app.get("spec") or {}).get("destination") or {}).get("namespace") or "")

        def generate() -> RenderedSources:
            return generate_sources(
                self._repo, chosen, app_name=name, namespace=namespace, pinned=pinned, hard=hard,
                resolve=lambda source, pin: self._resolved(source, pin, hard=hard, fresh=fresh),
            )

        repos = [str(source.get("repoURL") or "") for source in chosen]
        return self._generated(app, generate, repos)

    def render(
        self, app: JsonObject, source: JsonObject, *, revision: str | None, hard: bool = False, fresh: bool = False,
    ) -> tuple[Rendered | None, str | None]:
        """Generate the manifests of ``source`` (at ``revision``, or its targetRevision resolved — from the revision
        cache unless ``hard`` or ``fresh``), placed in the destination namespace and marked with the tracking; or
        the message of why it failed."""
        name = str(app["metadata"]["name"])
        namespace = str(((app.get("spec") or {}).get("destination") or {}).get("namespace") or "")

        def generate() -> Manifests:
            pinned = self._resolved(source, revision, hard=hard, fresh=fresh)
            return self._repo.generate_manifests(source, app_name=name, namespace=namespace, revision=pinned,
                                                 hard_refresh=hard)

        return self._generated(app, generate, [str(source.get("repoURL") or "")])

    def _resolved(self, source: Mapping[str, Any], revision: str | None, *, hard: bool, fresh: bool) -> str:
        """The commit (or chart version) to render: ``revision`` when pinned, else the targetRevision resolved."""
        repo = str(source.get("repoURL") or "")
        target_revision = str(source.get("targetRevision") or "")
        chart = str(source.get("chart") or "")
        pinned = revision
        if pinned is None and not hard and not fresh:
            pinned = self._revisions.get(repo, target_revision, chart, time.monotonic())
        if pinned is None:
            self._metrics.count_git_request(repo, "ls-remote")
            pinned = self._repo.resolve_revision(repo, revision or target_revision, chart=chart or None)
            if revision is None:
                self._revisions.put(repo, target_revision, chart, pinned, time.monotonic())
        return pinned

    def _generated(
        self, app: JsonObject, generate: Callable[[], Manifests | RenderedSources], repos: list[str]
    ) -> tuple[Rendered | None, str | None]:
        """Run ``generate`` on the render pool under the render timeout; the placed, tracked manifests or why not."""
        name = str(app["metadata"]["name"])
        namespace = str(((app.get("spec") or {}).get("destination") or {}).get("namespace") or "")
        future = self._render_pool.submit(generate)
        try:
            manifests = future.result(timeout=self._settings.render_timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return None, (f"rpc error: manifest generation for {', '.join(repos)} took longer than "
                          f"{self._settings.render_timeout:g}s")
        except (SourceError, RenderError) as error:
            return None, " ".join(str(error).split())
        except Exception as error:  # a renderer bug must not take the controller down; say it and go on
            logger.exception("%s: manifest generation failed", name)
            return None, f"manifest generation failed: {type(error).__name__}: {error}"
        previous = self._rendered.get(name)
        revisions = manifests.revisions if isinstance(manifests, RenderedSources) else (manifests.revision,)
        before = (previous.revisions or (previous.revision,)) if previous is not None else ()
        for index, (repo, revision) in enumerate(zip(repos, revisions, strict=False)):
            if index >= len(before) or before[index] != revision:
                self._metrics.count_git_request(repo, "fetch")
        resources = self._resources()
        targets = tuple(
            with_tracking(place(obj, namespace, resources), name, self._control.tracking_method())
            for obj in manifests.manifests
        )
        if isinstance(manifests, RenderedSources):
            return Rendered(source_fingerprint(app), manifests.revision, targets, "", time.monotonic(),
                            manifests.revisions, manifests.source_types), None
        return Rendered(source_fingerprint(app), manifests.revision, targets, manifests.source_type,
                        time.monotonic()), None

    def _compare(self, app: JsonObject, rendered: Rendered, targets: Sequence[JsonObject],
                 live: Mapping[ResourceKey, JsonObject], overrides: Mapping[str, str]) -> Comparison:
        """``compare_app``, skipped when none of its inputs changed since the last pass of this Application (same
        rendered manifests, same spec and settings, same live objects by resourceVersion): compare_app is pure, so
        its answer would be the same — this keeps a periodic refresh that finds nothing new cheap."""
        name = str(app["metadata"]["name"])
        key = (
            id(rendered.targets),
            json.dumps(app.get("spec"), sort_keys=True, default=str),
            json.dumps(overrides, sort_keys=True),
            self._control.tracking_method(),
            tuple(sorted((str(k), str((o.get("metadata") or {}).get("resourceVersion") or ""))
                         for k, o in live.items())),
        )
        memo = self._compared.get(name)
        if memo is not None and memo[0] == key and memo[1] is rendered.targets:
            return memo[2]
        comparison = compare_app(app, targets, live, tracking_method=self._control.tracking_method(),
                                 health_overrides=overrides, namespaced=self._resources().namespaced,
                                 assess_applications=self._settings.application_health)
        self._compared[name] = (key, rendered.targets, comparison)
        return comparison

    # -- observe -----------------------------------------------------------------------------------------

    def _observe(self, name: str, targets: Sequence[JsonObject], stored: Mapping[str, Any]) -> dict[
            ResourceKey, JsonObject]:
        keys = [ResourceKey.of(obj) for obj in targets]
        resources = self._resources()
        kinds = {}
        for obj in targets:
            found = resources.for_version(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
            if found is not None:
                kinds[(found.group, found.kind)] = found
        for entry in stored.get("resources") or []:
            found = resources.find(str(entry.get("group") or ""), str(entry.get("kind") or ""))
            if found is not None:
                kinds[(found.group, found.kind)] = found
        self._cache.ensure_watched(kinds.values())
        self._cache.set_targets(name, keys)
        return self._cache.live_objects(name, keys)

    def _compared_status(self, app: JsonObject, stored: Mapping[str, Any], comparison: Comparison,
                         rendered: Rendered, live: Mapping[ResourceKey, JsonObject]) -> JsonObject:
        desired: JsonObject = {
            **stored,
            "sync": sync_status(app, comparison.sync_status, rendered.revision),
            "health": comparison.health.to_dict(),
            "resources": resource_status_entries(comparison),
            "summary": {**(stored.get("summary") or {}), "images": images_of(live.values())},
        }
        # One source type, or one per source (Argo CD's sourceType / sourceTypes); never both.
        desired.pop("sourceTypes" if not rendered.revisions else "sourceType", None)
        if rendered.revisions:
            desired["sourceTypes"] = list(rendered.source_types)
        else:
            desired["sourceType"] = rendered.source_type
        if not desired["summary"]["images"]:
            desired["summary"].pop("images")
        return desired

    def _orphans_seen(self, app: JsonObject, project: JsonObject, comparison: Comparison,
                      desired: JsonObject) -> list[JsonObject]:
        """List the orphans in ``desired`` when the project monitors them; the OrphanedResourceWarning, if any."""
        permission = resource_permission(app, project, self._resources().namespaced)
        orphans = self._orphans.orphans(app, project, {resource.key for resource in comparison.resources},
                                        lambda key: permission(key) is None)
        desired.pop("orphanedResources", None)
        if orphans:
            desired["orphanedResources"] = orphan_entries(orphans)
        warning = orphaned_condition(project, orphans)
        return [warning] if warning is not None else []

    # -- operations --------------------------------------------------------------------------------------

    def _operate(
        self, app: JsonObject, project: JsonObject, operation: JsonObject, state: JsonObject | None,
        desired: JsonObject,
        targets: list[JsonObject], live: dict[ResourceKey, JsonObject], comparison: Comparison, revision: str,
        now: datetime, overrides: Mapping[str, str], result: PassResult, destination: Destination,
    ) -> tuple[JsonObject, bool]:
        """Advance the requested operation by one step; the desired status and whether ``operation`` is done."""
        name = str(app["metadata"]["name"])
        # A state still Running belongs to this operation (a new one is only written when none runs); a finished
        # state is the previous operation's, and this one starts fresh.
        current = state if _running(state) else None
        if current is not None and current.get("phase") == "Terminating":
            final = {**current, "phase": "Failed", "message": "Operation terminated", "finishedAt": format_time(now)}
            self._metrics.count_sync(app, "Failed")
            result.events.append((app, app_events.operation_completed(revision, "Failed", "Operation terminated")))
            return {**desired, "operationState": final}, True
        if current is not None and current.get("message") == WINDOW_BLOCKED and not current.get("syncResult"):
            current = None  # held back by a window, never started: it starts afresh once the window allows
        initiated_by = operation.get("initiatedBy") or {}
        blocked = sync_blocked(app, project, now, manual=not initiated_by.get("automated"))
        if blocked is not None and current is None:
            # As Argo CD: the operation waits, Running, saying why, until a window lets it through.
            started = (state or {}).get("startedAt") if _running(state) else None
            waiting = {"operation": operation, "phase": "Running", "message": blocked,
                       "startedAt": started or format_time(now)}
            result.requeue_after = WINDOW_POLL_SECONDS
            return {**desired, "operationState": waiting}, False
        sync = operation.get("sync") or {}
        op_revision = operation_revisions(operation) or ""
        if (op_revision and op_revision != revision) or sync.get("source") or sync.get("sources"):
            # A rollback or `sync --revision`: the manifests of that revision (and source), not the tracked one.
            chosen = sync.get("sources") or ([sync["source"]] if sync.get("source") else None)
            rendered, error = self.render_app(app, revision=op_revision or None, sources=chosen)
            if rendered is None:
                failed = _failed_state(current, operation, now, error or "cannot render the requested revision")
                result.events.append((app, app_events.operation_completed(op_revision, "Failed", failed["message"])))
                self._metrics.count_sync(app, "Failed")
                return {**desired, "operationState": failed}, True
            targets, revision = list(rendered.targets), rendered.revision
            live = self._observe(name, targets, desired)
            comparison = compare_app(app, targets, live, tracking_method=self._control.tracking_method(),
                                     health_overrides=overrides, namespaced=self._resources().namespaced,
                                     assess_applications=self._settings.application_health)
        if current is None:
            initiated = operation.get("initiatedBy") or {}
            if not initiated.get("automated"):
                result.events.append((app, app_events.sync_started(revision, str(initiated.get("username") or ""))))
            # As Argo CD (processRequestedAppOperation): the Running state is written as the operation starts,
            # before any resource is synced, so whoever watches sees every operation run (on-sync-running).
            result.requeue_after = 0.0
            started = multi_source_state(app, new_operation_state(operation, revision, now),
                                         sync.get("sources") or app_sources(app))
            return {**desired, "operationState": started}, False
        health = functools.partial(
            resource_health, overrides=overrides, assess_applications=self._settings.application_health
        )
        resources = self._resources()
        step = plan_sync_step(app=app, operation_state=current, targets=targets, live=live, comparison=comparison,
                              revision=revision, now=now, health=health, namespaced=resources.namespaced,
                              permitted=resource_permission(app, project, resources.namespaced,
                                                            cluster=destination.cluster),
                              kind_known=lambda group, kind: resources.find(group, kind) is not None)
        new_state = dict(step.operation_state)
        if step.actions:
            outcomes: list[ActionResult] = []
            for action in step.actions:
                outcome = self._act(name, action, live)
                outcomes.append(outcome)
                if action.gate and not outcome.ok:
                    break  # a failed namespace creation or dry run stops the step: nothing else is written
            new_state = record_results(new_state, outcomes, now)
        new_state = multi_source_state(app, new_state, sync.get("sources") or app_sources(app))
        result.requeue_after = step.requeue_after if step.requeue_after is not None else (
            0.0 if step.actions else None)
        done = new_state.get("phase") in ("Succeeded", "Failed", "Error")
        if not done:
            if result.requeue_after is None:
                result.requeue_after = RUNNING_POLL_SECONDS
            return {**desired, "operationState": new_state}, False
        return self._completed(app, desired, new_state, revision, sync, result), True

    def _completed(
        self, app: JsonObject, desired: JsonObject, state: JsonObject, revision: str, sync: JsonObject,
        result: PassResult,
    ) -> JsonObject:
        """The desired status of an operation (``sync``: its ``sync`` part) that ended in ``state``: counted,
        announced in an Event and, for a sync that succeeded and was not a dry run, added to the history."""
        phase = str(state.get("phase") or "")
        self._metrics.count_sync(app, phase)
        result.events.append((app, app_events.operation_completed(revision, phase, str(state.get("message") or ""))))
        if phase == "Succeeded" and not sync.get("dryRun"):
            desired = {**desired, "history": append_history(app, state)}
        # Look again soon: the comparison after the last wave shows the final sync status and health.
        result.requeue_after = 0.0
        return {**desired, "operationState": state}

    def _act(self, app_name: str, action: SyncAction, live: Mapping[ResourceKey, JsonObject]) -> ActionResult:
        current = live.get(action.key)
        obj = action.obj
        # The destination namespace (CreateNamespace=true) is not one of the app's resources: it stays unmarked,
        # or the next comparison would find a tracked object missing from Git and want to prune it.
        if obj is not None and action.kind in ("apply", "create") and action.purpose != NAMESPACE:
            # A hook named from its generateName gets its name in the sync step, after the tracking mark was set:
            # mark it again so the mark names the object it sits on (a mismatched one is ignored as a copy).
            obj = with_tracking(obj, app_name, self._control.tracking_method())
        if action.kind == "create-namespace":
            assert action.obj is not None
            outcome = self._ops.create_namespace(action.obj)
        elif action.kind == "create":
            assert obj is not None
            outcome = self._ops.create(obj, dry_run=action.dry_run)
        elif action.kind == "delete":
            api_version = str((current or action.obj or {}).get("apiVersion") or "")
            outcome = self._ops.delete(action.key, api_version, propagation=action.propagation,
                                       dry_run=action.dry_run)
        else:
            assert obj is not None
            outcome = self._ops.apply(obj, current, dry_run=action.dry_run, server_side=action.server_side,
                                      replace=action.replace, force=action.force, validate=action.validate,
                                      field_manager=action.field_manager)
        if not outcome.ok:
            logger.info("%s: %s failed: %s", action.key, action.kind, outcome.message)
        return action.result(outcome.ok, outcome.message)

    def _start_operation(self, app: JsonObject, operation: JsonObject) -> bool:
        metadata = app["metadata"]
        patch = {"metadata": {"resourceVersion": metadata.get("resourceVersion")}, "operation": operation}
        try:
            written = self._client.patch(APPLICATIONS, metadata.get("namespace"), metadata["name"], patch)
        except (Conflict, NotFound):
            return False
        self._written(written)
        return True

    # -- deletion ----------------------------------------------------------------------------------------

    def _delete(self, app: JsonObject, *, cluster_known: bool = True) -> PassResult:
        metadata = app["metadata"]
        name = str(metadata["name"])
        result = PassResult(forget=False)
        finalizers = list(metadata.get("finalizers") or [])
        if RESOURCES_FINALIZER not in finalizers:
            result.forget = True
            return result
        # The types of the recorded resources are watched first: a controller that just started (or a cluster
        # connection just made) has not listed them yet, and an empty cache would let the finalizer go at once.
        live = self._observe(name, (), dict(app.get("status") or {})) if cluster_known else {}
        step = deletion_step(live)
        for key in step.delete:
            obj = live[key]
            outcome = self._ops.delete(key, str(obj.get("apiVersion") or ""), propagation="foreground")
            if outcome.ok:
                result.events.append((app, app_events.resource_deleted(f"{key.group_kind} {key.name}")))
            else:
                logger.warning("%s: cannot delete %s: %s", name, key, outcome.message)
        if not step.finished:
            result.requeue_after = DELETION_POLL_SECONDS
            return result
        remaining = [f for f in finalizers if f != RESOURCES_FINALIZER]
        try:
            self._client.patch(
                APPLICATIONS, metadata.get("namespace"), name,
                {"metadata": {"finalizers": remaining, "resourceVersion": metadata.get("resourceVersion")}},
            )
        except Conflict:
            result.requeue_after = REQUEUE_ON_CONFLICT
            return result
        except NotFound:
            pass
        result.forget = True
        return result

    # -- status ------------------------------------------------------------------------------------------

    def _write(
        self, app: JsonObject, stored: JsonObject, desired: JsonObject, conditions: Sequence[JsonObject],
        now: datetime, result: PassResult, *, refreshed: bool, clear_operation: bool = False,
    ) -> PassResult:
        desired = {**desired, "conditions": merge_conditions(stored.get("conditions") or [], conditions, now)}
        if isinstance(desired.get("health"), dict):
            desired["health"] = health_with_transition(stored.get("health"), desired["health"], now)
        if not desired["conditions"]:
            desired.pop("conditions")
        asked = requested_refresh(app) is not None
        changed = status_changed(stored, desired, ignoring=["reconciledAt"])
        if changed or asked or not stored.get("reconciledAt"):
            desired["reconciledAt"] = format_time(now)
        else:
            desired["reconciledAt"] = stored.get("reconciledAt")
        patch: JsonObject = {}
        status = status_patch(stored, desired)
        if status:
            patch["status"] = status
        if clear_operation:
            patch["operation"] = None
        removal = annotation_removal(app) if refreshed else None
        if removal is not None:
            patch.setdefault("metadata", {}).update(removal["metadata"])
        if not patch:
            self._schedule_poll(app, result)
            return result
        if clear_operation:
            # Only the operation this pass finished may be cleared; a newer one written meanwhile must survive.
            patch.setdefault("metadata", {})["resourceVersion"] = app["metadata"].get("resourceVersion")
        metadata = app["metadata"]
        try:
            written = self._client.patch(APPLICATIONS, metadata.get("namespace"), metadata["name"], patch)
        except Conflict:
            # Someone wrote first (a new operation, a spec edit): this pass's conclusions are redone on the next
            # one, so its Events would be told twice.
            result.events.clear()
            result.requeue_after = REQUEUE_ON_CONFLICT
            return result
        except NotFound:
            result.forget = True
            return result
        except KubeError as error:
            logger.warning("%s: cannot write status: %s", metadata["name"], error)
            result.events.clear()
            result.requeue_after = REQUEUE_ON_CONFLICT
            return result
        self._written(written)
        self._metrics.observe_app(written)
        before_sync = str((stored.get("sync") or {}).get("status") or "")
        before_health = str((stored.get("health") or {}).get("status") or "")
        after_sync = str((desired.get("sync") or {}).get("status") or "")
        after_health = str((desired.get("health") or {}).get("status") or "")
        for event in app_events.status_transitions(before_sync, after_sync, before_health, after_health):
            result.events.append((written, event))
        self._schedule_poll(app, result)
        return result

    def _schedule_poll(self, app: JsonObject, result: PassResult) -> None:
        if result.requeue_after is None:
            result.requeue_after = self.seconds_until_poll(str(app["metadata"]["name"]))


def place(obj: JsonObject, namespace: str, resources: ApiResources) -> JsonObject:
    """The manifest with the destination namespace set when its kind is namespaced and it names none (Argo CD
    applies ``destination.namespace`` only there)."""
    metadata = obj.get("metadata") or {}
    if metadata.get("namespace") or not namespace:
        return obj
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    if not resources.namespaced(group, str(obj.get("kind", ""))):
        return obj
    return {**obj, "metadata": {**metadata, "namespace": namespace}}


def _running(state: Any) -> bool:
    return isinstance(state, dict) and state.get("phase") in ("Running", "Terminating")


def _failed_state(state: Any, operation: JsonObject, now: datetime, message: str) -> JsonObject:
    previous = state if isinstance(state, dict) and state.get("operation") == operation else {}
    return {
        **previous,
        "operation": operation,
        "phase": "Failed",
        "message": message,
        "startedAt": previous.get("startedAt") or format_time(now),
        "finishedAt": format_time(now),
    }
