"""The order tasks run in: phase, wave, kind, name — with gitops-engine's adjustments.

- Phases run PreSync, Sync, PostSync, SyncFail; within a phase waves ascend (negative waves first); within a wave
  kinds follow ``kind_order``; then names.
- Prune tasks run in reverse wave order: the prune waves are mirrored (lowest ↔ highest), so what was created
  last is deleted first.
- PruneLast (app option or per resource) moves a prune task after the last Sync wave.
- A Namespace moves just before the first object in it, a CustomResourceDefinition before its first custom
  resource, taking that object's phase and wave.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from gitops.models import HookType
from gitops.sync.kind_order import kind_rank
from gitops.sync.tasks import SyncTask

PHASE_ORDER: dict[str, int] = {
    HookType.PRE_SYNC.value: -1,
    HookType.SYNC.value: 0,
    HookType.POST_SYNC.value: 1,
    HookType.SYNC_FAIL.value: 2,
}


def sort_key(task: SyncTask) -> tuple[int, int, int, str]:
    """Phase, wave, kind rank, name."""
    return (PHASE_ORDER.get(task.phase, 0), task.wave, kind_rank(task.key.kind), task.key.name)


def mirror_prune_waves(tasks: Sequence[SyncTask]) -> list[SyncTask]:
    """Prune tasks with their waves mirrored: the i-th lowest prune wave becomes the i-th highest."""
    waves = sorted({t.wave for t in tasks if t.is_prune})
    mirrored = dict(zip(waves, reversed(waves), strict=True))
    return [replace(t, wave=mirrored[t.wave]) if t.is_prune else t for t in tasks]


def prune_last(tasks: Sequence[SyncTask]) -> list[SyncTask]:
    """PruneLast prune tasks moved to one wave after the last Sync-phase wave (at least wave 1)."""
    last = max([0] + [t.wave for t in tasks if t.phase == HookType.SYNC.value])
    return [replace(t, wave=last + 1) if t.is_prune and t.options.prune_last else t for t in tasks]


def _namespace_dependency(task: SyncTask) -> str | None:
    k = task.key
    return k.name if k.group == "" and k.kind == "Namespace" else None


def _namespace_reference(task: SyncTask) -> str | None:
    return task.key.namespace or None


def _crd_dependency(task: SyncTask) -> str | None:
    obj = task.target or {}
    if task.key.kind != "CustomResourceDefinition" or task.key.group != "apiextensions.k8s.io":
        return None
    spec = obj.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    return f"{group}/{kind}" if group and kind else None


def _crd_reference(task: SyncTask) -> str | None:
    return f"{task.key.group}/{task.key.kind}"


def _bubble_dependencies(
    tasks: list[SyncTask],
    dependency: Callable[[SyncTask], str | None],
    reference: Callable[[SyncTask], str | None],
) -> list[SyncTask]:
    """Move each dependency right before the first task that references it, in that task's phase and wave."""
    first_reference: dict[str, int] = {}
    result = list(tasks)
    for index in range(len(result)):
        task = result[index]
        if task.target is None:
            continue
        dep = dependency(task)
        if dep is not None:
            at = first_reference.get(dep)
            if at is not None:
                anchor = result[at]
                moved = replace(task, phase=anchor.phase, wave=anchor.wave)
                del result[index]
                result.insert(at, moved)
                for name, position in first_reference.items():
                    if position >= at:
                        first_reference[name] = position + 1
            continue
        ref = reference(task)
        if ref is not None and ref not in first_reference:
            first_reference[ref] = index
    return result


def order_tasks(tasks: Sequence[SyncTask]) -> list[SyncTask]:
    """All of Argo's ordering rules applied: prune waves mirrored, PruneLast, sort, then dependencies bubbled up."""
    adjusted = prune_last(mirror_prune_waves(tasks))
    ordered = sorted(adjusted, key=sort_key)
    ordered = _bubble_dependencies(ordered, _namespace_dependency, _namespace_reference)
    return _bubble_dependencies(ordered, _crd_dependency, _crd_reference)
