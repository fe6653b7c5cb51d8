"""Sync tasks: what each target and tracked live object asks of one sync operation.

gitops-engine's task generation: a target is paired with its live object by group/kind/namespace/name; a tracked
live object without a target is a prune task; a hook is one task per listed phase (named from ``generateName``
when it has no name); each task carries the result already recorded for it, so a restarted controller rebuilds
the same plan from ``operationState.syncResult.resources``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from gitops.models import HookType, OperationPhase, ResultCode
from gitops.resources import JsonObject, ResourceKey, group_of
from gitops.sync import hooks
from gitops.sync.options import SyncOptions, TaskOptions, task_options
from gitops.sync.waves import sync_wave

RUNNING = OperationPhase.RUNNING.value
SUCCEEDED = OperationPhase.SUCCEEDED.value
FAILED = OperationPhase.FAILED.value
ERROR = OperationPhase.ERROR.value
_COMPLETED = {SUCCEEDED, FAILED, ERROR}


@dataclass(frozen=True)
class SyncTask:
    """One object in one phase, with the result recorded for it so far (empty ``hook_phase`` = pending)."""

    phase: str
    target: JsonObject | None
    live: JsonObject | None
    wave: int
    hook: bool
    options: TaskOptions
    skip_dry_run: bool = False
    status: str = ""  # Synced | SyncFailed | Pruned | PruneSkipped | "" (a refreshed hook)
    hook_phase: str = ""  # Running | Succeeded | Failed | Error | "" (not run yet)
    message: str = ""
    delete_policies: tuple[str, ...] = field(default=())

    @property
    def obj(self) -> JsonObject:
        """The target if there is one, else the live object."""
        obj = self.target if self.target is not None else self.live
        assert obj is not None, "a task has a target or a live object"
        return obj

    @property
    def key(self) -> ResourceKey:
        return ResourceKey.of(self.obj)

    @property
    def version(self) -> str:
        return str(self.obj.get("apiVersion", "")).rpartition("/")[2]

    @property
    def result_key(self) -> tuple[str, str, str, str, str]:
        """How gitops-engine keys a result: the resource and its sync phase."""
        k = self.key
        return (k.group, k.kind, k.namespace, k.name, self.phase)

    @property
    def is_prune(self) -> bool:
        return self.target is None

    @property
    def hook_type(self) -> str:
        return self.phase if self.hook else ""

    @property
    def pending(self) -> bool:
        return self.hook_phase == ""

    @property
    def running(self) -> bool:
        return self.hook_phase == RUNNING

    @property
    def completed(self) -> bool:
        return self.hook_phase in _COMPLETED

    @property
    def successful(self) -> bool:
        return self.hook_phase == SUCCEEDED

    @property
    def pruned(self) -> bool:
        return self.status == ResultCode.PRUNED.value

    def has_delete_policy(self, policy: str) -> bool:
        return self.hook and policy in self.delete_policies

    @property
    def delete_before_creation(self) -> bool:
        return self.live is not None and self.pending and self.has_delete_policy(hooks.BEFORE_HOOK_CREATION)

    @property
    def delete_on_success(self) -> bool:
        return self.live is not None and self.has_delete_policy(hooks.HOOK_SUCCEEDED)

    @property
    def delete_on_failure(self) -> bool:
        return self.live is not None and self.has_delete_policy(hooks.HOOK_FAILED)

    def label(self) -> str:
        """``group/kind/name`` as gitops-engine's waiting messages spell a task."""
        k = self.key
        return f"{k.group}/{k.kind}/{k.name}"

    def with_result(self, status: str, hook_phase: str, message: str) -> SyncTask:
        """The task with a new result; an empty message keeps the previous one, as gitops-engine does."""
        return replace(self, status=status, hook_phase=hook_phase, message=message or self.message)


@dataclass(frozen=True)
class TaskInputs:
    """Everything task generation needs besides targets and live objects."""

    namespace: str
    revision: str
    started_at_unix: int
    options: SyncOptions
    force: bool
    skip_hooks: bool
    selected: Callable[[ResourceKey], bool]
    namespaced: Callable[[str, str], bool]


def placed(obj: JsonObject, namespace: str, namespaced: Callable[[str, str], bool]) -> JsonObject:
    """The object with the destination namespace set when it is namespaced and names none, and cleared when not."""
    group = group_of(str(obj.get("apiVersion", "")))
    kind = str(obj.get("kind", ""))
    metadata = obj.get("metadata") or {}
    if namespaced(group, kind):
        if metadata.get("namespace") or not namespace:
            return obj
        result = copy.deepcopy(obj)
        result.setdefault("metadata", {})["namespace"] = namespace
        return result
    if metadata.get("namespace"):
        result = copy.deepcopy(obj)
        del result["metadata"]["namespace"]
        return result
    return obj


def _named_hook(obj: JsonObject, phase: str, inputs: TaskInputs) -> JsonObject:
    metadata = obj.get("metadata") or {}
    if metadata.get("name"):
        return obj
    result = copy.deepcopy(obj)
    generated = hooks.hook_name(str(metadata.get("generateName") or ""), inputs.revision, phase, inputs.started_at_unix)
    result.setdefault("metadata", {})["name"] = generated
    return result


def _task(phase: str, target: JsonObject | None, live: JsonObject | None, inputs: TaskInputs) -> SyncTask:
    obj = target if target is not None else live
    assert obj is not None
    hook = hooks.is_hook(obj)
    return SyncTask(
        phase=phase,
        target=target,
        live=live,
        wave=sync_wave(obj),
        hook=hook,
        options=task_options(obj, inputs.options, force=inputs.force),
        delete_policies=tuple(hooks.delete_policies(obj)) if hook else (),
    )


def _owned(obj: JsonObject) -> bool:
    return bool((obj.get("metadata") or {}).get("ownerReferences"))


def build_tasks(
    targets: Sequence[JsonObject], live: Mapping[ResourceKey, JsonObject], inputs: TaskInputs
) -> list[SyncTask]:
    """Tasks in no particular order (``ordering.order_tasks`` sorts them), without recorded results."""
    live_by_key = {_key(obj, inputs): obj for obj in live.values()}
    tasks: list[SyncTask] = []
    target_keys: set[ResourceKey] = set()
    for raw in targets:
        target = placed(raw, inputs.namespace, inputs.namespaced)
        if hooks.is_hook(target):
            if inputs.skip_hooks:
                continue
            for phase in hooks.sync_phases(target):
                named = _named_hook(target, phase, inputs)
                tasks.append(_task(phase, named, live_by_key.get(ResourceKey.of(named)), inputs))
            continue
        key = ResourceKey.of(target)
        target_keys.add(key)
        if not inputs.selected(key):
            continue
        for phase in hooks.sync_phases(target):
            tasks.append(_task(phase, target, live_by_key.get(key), inputs))
    for key, obj in sorted(live_by_key.items()):
        # Live hooks are leftovers of earlier operations, and owned objects belong to their owner: neither is pruned.
        if key in target_keys or hooks.is_hook(obj) or hooks.is_skipped(obj) or _owned(obj):
            continue
        if inputs.selected(key):
            tasks.append(_task(HookType.SYNC.value, None, obj, inputs))
    return tasks


def _key(obj: JsonObject, inputs: TaskInputs) -> ResourceKey:
    return ResourceKey.of(placed(obj, inputs.namespace, inputs.namespaced))


ResultKey = tuple[str, str, str, str, str]


def result_key_of(entry: JsonObject) -> ResultKey:
    """The key of a recorded ``syncResult.resources`` entry."""
    return (
        str(entry.get("group", "")),
        str(entry.get("kind", "")),
        str(entry.get("namespace", "")),
        str(entry.get("name", "")),
        str(entry.get("syncPhase", "")),
    )


def with_recorded_results(tasks: Sequence[SyncTask], recorded: Sequence[JsonObject]) -> list[SyncTask]:
    """Each task with the result recorded for it in ``syncResult.resources`` (tasks without one stay pending)."""
    by_key = {result_key_of(entry): entry for entry in recorded}
    enriched = []
    for task in tasks:
        entry = by_key.get(task.result_key)
        if entry is None:
            enriched.append(task)
        else:
            enriched.append(
                replace(
                    task,
                    status=str(entry.get("status", "")),
                    hook_phase=str(entry.get("hookPhase", "")),
                    message=str(entry.get("message", "")),
                )
            )
    return enriched
