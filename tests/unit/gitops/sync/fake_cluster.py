"""A fake cluster and controller loop for sync tests: executes actions, records the order of writes, and lets a
test decide when objects become healthy."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gitops.resources import Health, JsonObject, ResourceKey
from gitops.sync.actions import ActionResult, SyncAction
from gitops.sync.results import record_results
from gitops.sync.step import SyncStep, plan_sync_step

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def manifest(
    kind: str,
    name: str,
    *,
    api: str = "v1",
    wave: int | None = None,
    hook: str | None = None,
    annotations: dict[str, str] | None = None,
    namespace: str | None = None,
    **extra: Any,
) -> JsonObject:
    notes = dict(annotations or {})
    if wave is not None:
        notes["argocd.argoproj.io/sync-wave"] = str(wave)
    if hook is not None:
        notes["argocd.argoproj.io/hook"] = hook
    metadata: JsonObject = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if notes:
        metadata["annotations"] = notes
    return {"apiVersion": api, "kind": kind, "metadata": metadata, **extra}


@dataclass(frozen=True)
class Compared:
    key: ResourceKey
    status: str
    hook: bool = False
    requires_pruning: bool = False


@dataclass(frozen=True)
class Comparison:
    resources: tuple[Compared, ...] = ()
    sync_status: str = "OutOfSync"
    conditions: tuple[JsonObject, ...] = ()


@dataclass
class FakeCluster:
    """Objects by key; ``healthy`` holds the keys whose health is Healthy (others with a check are Progressing)."""

    objects: dict[ResourceKey, JsonObject] = field(default_factory=dict)
    writes: list[tuple[str, str]] = field(default_factory=list)  # (verb, "Kind/name")
    healthy: set[str] = field(default_factory=set)  # "Kind/name" that report Healthy
    degraded: set[str] = field(default_factory=set)
    failing_applies: set[str] = field(default_factory=set)  # "Kind/name" whose apply the API server rejects
    checked_kinds: frozenset[str] = frozenset({"Deployment", "Job", "Pod"})

    def execute(self, action: SyncAction) -> ActionResult:
        label = f"{action.key.kind}/{action.key.name}"
        if action.kind == "delete":
            self.objects.pop(action.key, None)
            self.writes.append(("delete", label))
            return action.result(True)
        if label in self.failing_applies:
            return action.result(False, f"{label} is invalid")
        if action.dry_run:
            return action.result(True, f"{label} configured (dry run)")
        assert action.obj is not None
        self.objects[action.key] = copy.deepcopy(action.obj)
        self.writes.append(("apply", label))
        return action.result(True, f"{label} created")

    def health(self, obj: JsonObject) -> Health | None:
        label = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] not in self.checked_kinds:
            return None
        if label in self.degraded:
            return Health("Degraded", f"{label} failed")
        return Health("Healthy") if label in self.healthy else Health("Progressing", "")


def application(
    *,
    options: list[str] | None = None,
    prune: bool = True,
    dry_run: bool = False,
    resources: list[JsonObject] | None = None,
    **spec: Any,
) -> JsonObject:
    sync: JsonObject = {"revision": "abcdef0123456789", "prune": prune, "dryRun": dry_run}
    if resources:
        sync["resources"] = resources
    return {
        "metadata": {"name": "app", "namespace": "argocd"},
        "spec": {
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "demo"},
            "syncPolicy": {"syncOptions": options or []},
            **spec,
        },
        "operation": {"sync": sync, "initiatedBy": {"username": "admin"}},
    }


class Driver:
    """The controller loop: plan, execute each action, record each result at once, persist, repeat."""

    def __init__(
        self, app: JsonObject, targets: list[JsonObject], cluster: FakeCluster, comparison: Comparison | None = None
    ) -> None:
        self.app, self.targets, self.cluster = app, targets, cluster
        self.comparison = comparison or Comparison()
        self.state: JsonObject | None = None
        self.now = T0
        self.passes = 0

    def plan(self) -> SyncStep:
        return plan_sync_step(
            app=self.app,
            operation_state=self.state,
            targets=self.targets,
            live=dict(self.cluster.objects),
            comparison=self.comparison,
            revision="abcdef0123456789",
            now=self.now,
            health=self.cluster.health,
        )

    def one_pass(self, *, stop_after_actions: int | None = None) -> SyncStep:
        """One pass; with ``stop_after_actions`` the controller dies after executing (and recording) that many."""
        step = self.plan()
        self.passes += 1
        self.state = step.operation_state
        for index, action in enumerate(step.actions):
            if stop_after_actions is not None and index >= stop_after_actions:
                return step
            result = self.cluster.execute(action)
            if not step.done:
                self.state = record_results(self.state, [result], self.now)
            if action.gate and not result.ok:
                break
        self.now += timedelta(seconds=step.requeue_after or 1.0)
        return step

    def run(self, *, on_pass: Any = None, limit: int = 50) -> JsonObject:
        for _ in range(limit):
            step = self.one_pass()
            if on_pass is not None:
                on_pass(self)
            if step.done:
                assert self.state is not None
                return self.state
        raise AssertionError(f"operation did not finish in {limit} passes: {self.state}")
