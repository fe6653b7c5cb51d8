"""gitops-engine's resumable sync step: from the persisted operation state and a fresh observation, the next writes.

Each pass rebuilds the tasks from (targets, live objects, results recorded in ``operationState.syncResult``),
refreshes the tasks still running from the health of their live objects, and runs at most one phase/wave. Nothing
is remembered between passes except the operation state, so a controller killed at any instant and restarted with
the persisted state resumes the same operation: a task with a recorded result is never applied again, and a wave is
never started before every earlier one has completed.

One caveat is inherent to writing before recording: an action executed but not yet recorded when the controller
dies is executed once more on restart (an idempotent apply of the same manifest). Recording each result as soon as
its action returns keeps that window to one action.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from gitops.models import HealthStatusCode, HookType, OperationPhase, ResultCode
from gitops.resources import Health, JsonObject, ResourceKey, namespaced_by_default
from gitops.sync.actions import (
    APPLY,
    DRY_RUN,
    HOOK_CLEANUP,
    HOOK_PRE_DELETE,
    NAMESPACE,
    PRUNE,
    ActionResult,
    SyncAction,
)
from gitops.sync.comparison_view import ComparisonView, modified_by_key, shared_resource_messages
from gitops.sync.ignore_differences import respect_ignored_fields
from gitops.sync.options import SERVER_SIDE_APPLY_MANAGER, SyncOptions, task_options
from gitops.sync.ordering import PHASE_ORDER, order_tasks
from gitops.sync.results import (
    COMPLETED_PHASES,
    finish,
    new_operation_state,
    record_results,
    record_task,
    recorded_results,
)
from gitops.sync.retry import restart_for_retry, retry_due_at
from gitops.sync.tasks import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    SyncTask,
    TaskInputs,
    build_tasks,
    placed,
    with_recorded_results,
)
from kube.timestamps import format_time, required_time

__all__ = ["ActionResult", "SyncAction", "SyncStep", "plan_sync_step", "record_results"]

# Argo CD waits this long after applying a wave that is not the last, so other controllers can react to it.
WAVE_DELAY_SECONDS = 2.0
# How soon to look again while waiting for health, deletion or a hook (the controller may also react to watches).
WAIT_SECONDS = 1.0


def _permit_all(key: ResourceKey) -> str | None:
    return None


def _every_kind_known(group: str, kind: str) -> bool:
    return True


@dataclass(frozen=True)
class SyncStep:
    """The writes to make now, the operation state to persist, and when to call ``plan_sync_step`` again.

    ``done`` means the operation has ended (``operation_state.phase`` is Succeeded, Failed or Error); its actions, if
    any, are hook clean-ups to execute without recording.
    """

    actions: tuple[SyncAction, ...]
    operation_state: JsonObject
    requeue_after: float | None
    done: bool


# Argo CD's approval for Prune=confirm: an annotation on the Application (its value, a timestamp, is not read).
DELETION_APPROVED = "argocd.argoproj.io/deletion-approved"
PRUNE_NEEDS_APPROVAL = f"ignored (Prune=confirm: annotate the Application with {DELETION_APPROVED} to prune it)"


@dataclass(frozen=True)
class _Context:
    """What the operation and its Application decide for every task of one pass."""

    namespace: str
    """``spec.destination.namespace``: given to namespaced targets that name none; what CreateNamespace=true makes."""
    options: SyncOptions
    """The operation's ``sync.syncOptions``, else the Application's ``spec.syncPolicy.syncOptions``."""
    prune: bool
    """``sync.prune``: delete the live resources no longer in Git (else each is recorded PruneSkipped)."""
    dry_run: bool
    """``sync.dryRun``: validate every task with a dry run and record the outcome, changing nothing."""
    modified: dict[ResourceKey, bool]
    """Whether each resource's live object differs from its target (OutOfSync), by key: ApplyOutOfSyncOnly applies
    only these (a resource missing here counts as modified)."""
    deletion_approved: bool = False
    """The Application carries ``argocd.argoproj.io/deletion-approved``: Prune=confirm resources may be pruned."""


def _hook_phase_from_health(health: Health | None, live: JsonObject) -> tuple[str, str]:
    if health is None:
        return SUCCEEDED, f"{(live.get('metadata') or {}).get('name', '')} created"
    if health.status in (HealthStatusCode.UNKNOWN.value, HealthStatusCode.DEGRADED.value):
        return FAILED, health.message
    if health.status in (HealthStatusCode.PROGRESSING.value, HealthStatusCode.SUSPENDED.value):
        return RUNNING, health.message
    return SUCCEEDED, health.message


def _refreshed(task: SyncTask, health: Callable[[JsonObject], Health | None]) -> SyncTask:
    """A running task's result from its live object's health (gitops-engine's rules for hooks and resources)."""
    if not task.running or task.live is None:
        return task
    observed = health(task.live)
    if task.hook:
        phase, message = _hook_phase_from_health(observed, task.live)
        return task.with_result("", phase, message)
    if observed is None:
        return task.with_result(task.status, SUCCEEDED, task.message)
    if observed.status == HealthStatusCode.HEALTHY.value:
        return task.with_result(task.status, SUCCEEDED, observed.message)
    if observed.status == HealthStatusCode.DEGRADED.value:
        return task.with_result(task.status, FAILED, observed.message)
    return task


def _waiting_message(tasks: Sequence[SyncTask], deletion: bool) -> str:
    first = tasks[0]
    waiting_for, more = ("completion of hook", "hooks") if first.hook else ("healthy state of", "resources")
    if deletion:
        waiting_for = "deletion of"
    message = f"waiting for {waiting_for} {first.label()}"
    if len(tasks) > 1:
        message += f" and {len(tasks) - 1} more {more}"
    return message


def _multi_step(tasks: Sequence[SyncTask]) -> bool:
    if not tasks:
        return False
    return (tasks[0].phase, tasks[0].wave) != (tasks[-1].phase, tasks[-1].wave)


def _deleting(obj: JsonObject | None) -> bool:
    return bool(obj and (obj.get("metadata") or {}).get("deletionTimestamp"))


def _delete_action(task: SyncTask, purpose: str, ctx: _Context) -> SyncAction:
    return SyncAction(
        kind="delete",
        key=task.key,
        obj=task.live,
        propagation=ctx.options.propagation_policy,
        phase=task.phase,
        wave=task.wave,
        purpose=purpose,
        version=task.version,
        hook_type=task.hook_type,
    )


def _apply_action(task: SyncTask, purpose: str, dry_run: bool) -> SyncAction:
    o = task.options
    return SyncAction(
        kind="create" if o.replace and task.live is None else "apply",
        key=task.key,
        obj=task.target,
        dry_run=dry_run,
        # gitops-engine validates manifests with a client-side dry run, never a server-side apply.
        server_side=o.server_side and not dry_run,
        force=o.force,
        replace=o.replace,
        validate=o.validate,
        propagation=None,
        phase=task.phase,
        wave=task.wave,
        purpose=purpose,
        version=task.version,
        hook_type=task.hook_type,
        field_manager=SERVER_SIDE_APPLY_MANAGER,
    )


def _out_of_sync_only(tasks: Sequence[SyncTask], ctx: _Context) -> list[SyncTask]:
    """ApplyOutOfSyncOnly: drop resources that exist and do not differ; hooks always run."""
    if not ctx.options.apply_out_of_sync_only:
        return list(tasks)
    return [t for t in tasks if t.hook or t.target is None or t.live is None or ctx.modified.get(t.key, True)]


def _namespace_task(
    app: JsonObject, targets: Sequence[SyncTask], live: Mapping[ResourceKey, JsonObject], ctx: _Context
) -> SyncTask | None:
    """CreateNamespace=true: a PreSync task creating (or labelling) the destination namespace."""
    if not ctx.options.create_namespace or not ctx.namespace:
        return None
    key = ResourceKey("", "Namespace", "", ctx.namespace)
    if any(t.target is not None and t.key == key for t in targets):
        return None
    managed = ((app.get("spec") or {}).get("syncPolicy") or {}).get("managedNamespaceMetadata") or {}
    metadata: JsonObject = {"name": ctx.namespace}
    for field in ("labels", "annotations"):
        if managed.get(field):
            metadata[field] = dict(managed[field])
    desired: JsonObject = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
    current = live.get(key)
    if current is not None:
        current_meta = current.get("metadata") or {}
        up_to_date = all(
            set((managed.get(field) or {}).items()) <= set((current_meta.get(field) or {}).items())
            for field in ("labels", "annotations")
        )
        if up_to_date:
            return None
    return SyncTask(
        phase=HookType.PRE_SYNC.value,
        target=desired,
        live=current,
        wave=0,
        hook=False,
        options=task_options(desired, ctx.options, force=False),
    )


def _crd_kinds(targets: Sequence[JsonObject]) -> set[tuple[str, str]]:
    kinds = set()
    for obj in targets:
        if obj.get("kind") == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            kinds.add((str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))))
    return kinds


def _operation_failed(
    state: JsonObject,
    sync_fail: Sequence[SyncTask],
    failed: Sequence[SyncTask],
    message: str,
    cleanup: Sequence[SyncAction],
    ctx: _Context,
    now: datetime,
    failed_hooks: Sequence[SyncTask] = (),
) -> SyncStep:
    """gitops-engine's setOperationFailed: run the SyncFail hooks once, then fail with the reasons."""
    reasons = sorted({t.message for t in failed})
    # Beyond gitops-engine, whose reasons list only resources that failed to apply: a failed hook is named too,
    # so "one or more synchronization tasks completed unsuccessfully" says which Job to look at.
    reasons += sorted(
        f"{t.phase} hook {t.key.group_kind}/{t.key.name} {t.hook_phase.lower()}" + (f": {t.message}" if t.message
                                                                                    else "")
        for t in failed_hooks
    )
    error_message = f"{message}, reason: {','.join(reasons)}" if reasons else message
    if sync_fail and not all(t.completed for t in sync_fail):
        runs = tuple(_apply_action(t, APPLY, ctx.dry_run) for t in sync_fail if t.pending)
        state["phase"] = OperationPhase.RUNNING.value
        return SyncStep(tuple(cleanup) + runs, state, WAIT_SECONDS, False)
    finish(state, OperationPhase.FAILED.value, error_message, now)
    return SyncStep(tuple(cleanup), state, None, True)


def _run_wave(tasks: Sequence[SyncTask], state: JsonObject, ctx: _Context) -> list[SyncAction]:
    """Prunes first, then BeforeHookCreation deletions (which end the pass), then applies in kind order."""
    actions: list[SyncAction] = []
    for task in (t for t in tasks if t.is_prune):
        if not ctx.prune:
            skipped = task.with_result(ResultCode.PRUNE_SKIPPED.value, SUCCEEDED, "ignored (requires pruning)")
            record_task(state, skipped)
        elif task.options.prune_disabled:
            record_task(state, task.with_result(ResultCode.PRUNE_SKIPPED.value, SUCCEEDED, "ignored (no prune)"))
        elif task.options.prune_confirm and not ctx.deletion_approved:
            # Argo CD (sync-options.md, Prune=confirm): kept until someone approves deleting it.
            record_task(state, task.with_result(ResultCode.PRUNE_SKIPPED.value, SUCCEEDED, PRUNE_NEEDS_APPROVAL))
        elif ctx.dry_run:
            record_task(state, task.with_result(ResultCode.PRUNED.value, SUCCEEDED, "pruned (dry run)"))
        elif _deleting(task.live):
            # Already being deleted: deleting again would only make another write.
            record_task(state, task.with_result(ResultCode.PRUNED.value, SUCCEEDED, "pruned"))
        else:
            actions.append(_delete_action(task, PRUNE, ctx))
    creates = [t for t in tasks if not t.is_prune]
    pre_deletes = [t for t in creates if t.delete_before_creation]
    if pre_deletes and not ctx.dry_run:
        # The hooks are created on a later pass, once their predecessors are gone; one already being deleted is
        # only waited for, not deleted again.
        return actions + [_delete_action(t, HOOK_PRE_DELETE, ctx) for t in pre_deletes if not _deleting(t.live)]
    return actions + [_apply_action(t, APPLY, ctx.dry_run) for t in creates]


def _resume_point(state: JsonObject, revision: str, now: datetime) -> JsonObject | float:
    """The state to plan from, or the seconds to wait while a retry's backoff runs."""
    if state.get("finishedAt") and state.get("phase") == OperationPhase.RUNNING.value:
        due = retry_due_at(state)
        if due is not None and now < due:
            return (due - now).total_seconds()
        return restart_for_retry(state, revision)
    return state


def _current_state(
    operation: JsonObject, operation_state: JsonObject | None, revision: str, now: datetime
) -> JsonObject | SyncStep:
    """The state this pass plans from, or the step to return at once (the operation ended, or a retry waits)."""
    state = new_operation_state(operation, revision, now) if operation_state is None else copy.deepcopy(operation_state)
    if state.get("phase") in COMPLETED_PHASES:
        return SyncStep((), state, None, True)
    resumed = _resume_point(state, revision, now)
    if isinstance(resumed, float):
        return SyncStep((), state, resumed, False)
    if not resumed.get("startedAt"):
        # A state written by hand or by an older controller: the operation starts now (hook names depend on it).
        resumed["startedAt"] = format_time(now)
    return resumed


def _context(app: JsonObject, operation: JsonObject, comparison: ComparisonView) -> _Context:
    """The operation's options (its own, else the Application's) and what they decide for every task."""
    spec = app.get("spec") or {}
    sync = operation.get("sync") or {}
    policy = spec.get("syncPolicy") or {}
    return _Context(
        namespace=str((spec.get("destination") or {}).get("namespace") or ""),
        options=SyncOptions.parse(sync.get("syncOptions") or policy.get("syncOptions") or []),
        prune=bool(sync.get("prune")),
        dry_run=bool(sync.get("dryRun")),
        modified=modified_by_key(comparison),
        deletion_approved=bool(((app.get("metadata") or {}).get("annotations") or {}).get(DELETION_APPROVED)),
    )


def _selection(sync: JsonObject) -> Callable[[ResourceKey], bool]:
    """Whether a resource is part of the operation (``sync.resources`` names some, else all are)."""
    chosen = [
        (str(r.get("group", "")), str(r.get("kind", "")), str(r.get("name", "")), str(r.get("namespace", "")))
        for r in sync.get("resources") or []
    ]

    def selected(key: ResourceKey) -> bool:
        return not chosen or any(
            (g, k, n) == (key.group, key.kind, key.name) and (not ns or ns == key.namespace) for g, k, n, ns in chosen
        )

    return selected


def _ordered_tasks(
    app: JsonObject,
    operation: JsonObject,
    state: JsonObject,
    targets: Sequence[JsonObject],
    live: Mapping[ResourceKey, JsonObject],
    ctx: _Context,
    revision: str,
    namespaced: Callable[[str, str], bool],
) -> tuple[list[SyncTask], SyncTask | None]:
    """Every task of the operation in Argo's order with its recorded result, and the CreateNamespace task if any."""
    sync = operation.get("sync") or {}
    strategy = sync.get("syncStrategy") or {}
    inputs = TaskInputs(
        namespace=ctx.namespace,
        revision=revision,
        started_at_unix=int(required_time(str(state["startedAt"])).timestamp()),
        options=ctx.options,
        force=bool((strategy.get("apply") or {}).get("force") or (strategy.get("hook") or {}).get("force")),
        # Hooks do not run in a selective sync, nor under the "apply" sync strategy (kubectl apply only).
        skip_hooks=bool(sync.get("resources")) or strategy.get("apply") is not None,
        selected=_selection(sync),
        namespaced=namespaced,
    )
    built = build_tasks(targets, live, inputs)
    if ctx.options.respect_ignore_differences:
        rules = list((app.get("spec") or {}).get("ignoreDifferences") or [])
        built = [
            replace(t, target=respect_ignored_fields(t.target, t.live, rules))
            if t.target is not None and not t.hook
            else t
            for t in built
        ]
    if ctx.options.create_namespace:
        # The namespace CreateNamespace manages is not one of the app's resources: never a prune candidate.
        managed_namespace = ResourceKey("", "Namespace", "", ctx.namespace)
        built = [t for t in built if not (t.is_prune and t.key == managed_namespace)]
    namespace_task = _namespace_task(app, built, live, ctx)
    ordered = order_tasks(built + ([namespace_task] if namespace_task else []))
    return with_recorded_results(ordered, recorded_results(state)), namespace_task


def _validated(
    tasks: Sequence[SyncTask],
    state: JsonObject,
    crd_kinds: set[tuple[str, str]],
    permitted: Callable[[ResourceKey], str | None],
    kind_known: Callable[[str, str], bool],
) -> list[SyncTask] | None:
    """The tasks, those of a kind still unknown marked to skip their dry run; None when any is invalid (its
    refusal recorded). Every task is checked before anything is written: one invalid task fails the operation."""
    checked = list(tasks)
    invalid = False
    for index, task in enumerate(checked):
        refusal = permitted(task.key)
        if refusal:
            record_task(state, task.with_result(ResultCode.SYNC_FAILED.value, "", refusal))
            invalid = True
        elif not kind_known(task.key.group, task.key.kind):
            if task.options.skip_dry_run or (task.key.group, task.key.kind) in crd_kinds:
                checked[index] = replace(task, skip_dry_run=True)
            else:
                message = f"the server could not find the requested resource {task.key.group_kind}"
                record_task(state, task.with_result(ResultCode.SYNC_FAILED.value, "", message))
                invalid = True
    return None if invalid else checked


def _started(state: JsonObject, ctx: _Context) -> bool:
    """gitops-engine's "started": any result recorded — other than the namespace CreateNamespace made, which is
    created before the dry run and must not make a restarted controller skip it."""
    return any(
        not (
            ctx.options.create_namespace
            and (e.get("group", ""), e.get("kind", ""), e.get("name", "")) == ("", "Namespace", ctx.namespace)
        )
        for e in recorded_results(state)
    )


def _validation_pass(
    tasks: list[SyncTask], namespace: SyncTask | None, state: JsonObject, ctx: _Context
) -> tuple[list[SyncTask], list[SyncAction], SyncStep | None]:
    """The first pass: the namespace created, then a dry run of every task. Returns the tasks (the namespace
    counted done), the actions, and the step to return at once for a dry-run operation."""
    actions: list[SyncAction] = []
    dry_run_tasks = tasks
    if namespace is not None and namespace.live is None:
        if namespace.pending:
            actions.append(_apply_action(namespace, NAMESPACE, False))
        # Created ahead of everything else: not part of the dry run nor of the first wave.
        tasks = [t.with_result(t.status, SUCCEEDED, t.message) if t is namespace else t for t in tasks]
        dry_run_tasks = [t for t in tasks if t.result_key != namespace.result_key]
    for task in _out_of_sync_only(dry_run_tasks, ctx):
        if task.is_prune:
            continue
        if task.skip_dry_run:
            if ctx.dry_run:
                record_task(state, task.with_result(ResultCode.SYNCED.value, SUCCEEDED, "skipped dry run"))
            continue
        actions.append(_apply_action(task, DRY_RUN, True))
    if ctx.dry_run:
        # A dry-run operation is its validation pass: record the prunes it would make and stop here.
        for task in _out_of_sync_only(tasks, ctx):
            if task.is_prune:
                _run_wave([task], state, ctx)
        tasks = with_recorded_results(tasks, recorded_results(state))
        if actions:
            state["message"] = "one or more tasks are running"
            return tasks, actions, SyncStep(tuple(actions), state, 0.0, False)
    return tasks, actions, None


def _next_step(
    tasks: list[SyncTask],
    actions: list[SyncAction],
    state: JsonObject,
    ctx: _Context,
    started: bool,
    health: Callable[[JsonObject], Health | None],
    now: datetime,
) -> SyncStep:
    """Judge the recorded results and the live health: succeed, fail, wait, or run the next phase/wave."""
    main = [t for t in tasks if t.phase != HookType.SYNC_FAIL.value]
    pending = _out_of_sync_only([t for t in main if t.pending], ctx)
    if started and not pending and not ctx.dry_run and _final_wave_applied(main):
        cleanup = _hook_cleanup(tasks, ctx, on_success=True)
        finish(state, OperationPhase.SUCCEEDED.value, "successfully synced (all tasks run)", now)
        return SyncStep(tuple(cleanup), state, None, True)

    refreshed = [_refreshed(t, health) for t in tasks]
    for before, after in zip(tasks, refreshed, strict=True):
        if after != before:
            record_task(state, after)
    tasks = refreshed

    multi_step = _multi_step(tasks)
    running = [t for t in tasks if (multi_step or t.hook) and t.running]
    if running:
        state["message"] = _waiting_message(running, deletion=False)
        return SyncStep((), state, WAIT_SECONDS, False)
    deleting = [t for t in tasks if t.pruned and _deleting(t.live)]
    if deleting:
        state["message"] = _waiting_message(deleting, deletion=True)
        return SyncStep((), state, WAIT_SECONDS, False)

    sync_fail = [t for t in tasks if t.phase == HookType.SYNC_FAIL.value]
    main = [t for t in tasks if t.phase != HookType.SYNC_FAIL.value]
    if any(t.completed and not t.successful for t in main):
        cleanup = _hook_cleanup(tasks, ctx, on_success=False)
        failed_to_apply = [t for t in main if t.status == ResultCode.SYNC_FAILED.value]
        message = (
            "one or more objects failed to apply"
            if failed_to_apply
            else "one or more synchronization tasks completed unsuccessfully"
        )
        failed_hooks = [t for t in main if t.hook and t.completed and not t.successful]
        return _operation_failed(state, sync_fail, failed_to_apply, message, cleanup, ctx, now, failed_hooks)

    pending = _out_of_sync_only([t for t in main if t.pending], ctx)
    if not pending:
        cleanup = _hook_cleanup(tasks, ctx, on_success=True)
        finish(state, OperationPhase.SUCCEEDED.value, "successfully synced (no more tasks)", now)
        # Nothing is left to apply, so validating it (this pass's dry runs, if any) is moot.
        return SyncStep(tuple(cleanup), state, None, True)
    return _start_wave(pending, actions, state, ctx)


def _start_wave(pending: list[SyncTask], actions: list[SyncAction], state: JsonObject, ctx: _Context) -> SyncStep:
    """Run the first pending phase/wave (after this pass's earlier actions, if any)."""
    phase, wave = pending[0].phase, pending[0].wave
    wave_tasks = [t for t in pending if (t.phase, t.wave) == (phase, wave)]
    remaining = [t for t in pending if (t.phase, t.wave) != (phase, wave) or t.hook]
    actions = actions + _run_wave(wave_tasks, state, ctx)
    state["phase"] = OperationPhase.RUNNING.value
    state["message"] = _waiting_message(remaining, deletion=False) if remaining else "one or more tasks are running"
    final = (phase, wave) == (pending[-1].phase, pending[-1].wave)
    return SyncStep(tuple(actions), state, WAIT_SECONDS if final else WAVE_DELAY_SECONDS, False)


def plan_sync_step(
    *,
    app: JsonObject,
    operation_state: JsonObject | None,
    targets: Sequence[JsonObject],
    live: Mapping[ResourceKey, JsonObject],
    comparison: ComparisonView,
    revision: str,
    now: datetime,
    health: Callable[[JsonObject], Health | None],
    permitted: Callable[[ResourceKey], str | None] = _permit_all,
    namespaced: Callable[[str, str], bool] = namespaced_by_default,
    kind_known: Callable[[str, str], bool] = _every_kind_known,
) -> SyncStep:
    """The next pass of the operation in ``operation_state`` (a new one from ``app.operation`` when None).

    ``targets``: rendered manifests, hooks included; ``live``: the live objects tracked by the app plus those with
    the targets' keys (and the destination Namespace when CreateNamespace=true); ``health``: None for a kind without
    a health check; ``permitted``: the AppProject's verdict on a kind ("resource g:K is not permitted in project P")
    or None; ``kind_known``: whether the API server serves a group/kind (for SkipDryRunOnMissingResource).
    """
    operation = (operation_state or {}).get("operation") or app.get("operation") or {}
    current = _current_state(operation, operation_state, revision, now)
    if isinstance(current, SyncStep):
        return current
    state = current
    ctx = _context(app, operation, comparison)
    shared = shared_resource_messages(comparison) if ctx.options.fail_on_shared_resource else []
    if shared:
        finish(state, OperationPhase.FAILED.value, f"Shared resource found: {'; '.join(shared)}", now)
        return SyncStep((), state, None, True)

    ordered, namespace_task = _ordered_tasks(app, operation, state, targets, live, ctx, revision, namespaced)
    crd_kinds = _crd_kinds([placed(t, ctx.namespace, namespaced) for t in targets])
    tasks = _validated(ordered, state, crd_kinds, permitted, kind_known)
    if tasks is None:
        finish(state, OperationPhase.FAILED.value, "one or more synchronization tasks are not valid", now)
        return SyncStep((), state, None, True)

    actions: list[SyncAction] = []
    started = _started(state, ctx)
    if not started:
        # Ordering may have moved the namespace task into the phase and wave of the first object in it.
        namespace = next((t for t in tasks if namespace_task and t.target is namespace_task.target), None)
        tasks, actions, early = _validation_pass(tasks, namespace, state, ctx)
        if early is not None:
            return early
    return _next_step(tasks, actions, state, ctx, started, health, now)


def _hook_cleanup(tasks: Sequence[SyncTask], ctx: _Context, *, on_success: bool) -> list[SyncAction]:
    """HookSucceeded hooks are deleted when the operation succeeds, HookFailed ones when it fails."""
    return [
        _delete_action(t, HOOK_CLEANUP, ctx)
        for t in tasks
        if t.hook and not t.running and (t.delete_on_success if on_success else t.delete_on_failure)
    ]


def _final_wave_applied(main: Sequence[SyncTask]) -> bool:
    """Nothing is left to apply, nothing failed, and the last wave that ran held no hooks.

    gitops-engine declares success right after running the last wave when it holds no hooks — without waiting for
    those resources' health or their prunes' deletion. That wave's results are recorded after the pass that ran
    it, so the moment is recognised here, on the next pass, before any health refresh.
    """
    if any(t.completed and not t.successful for t in main) or any(t.hook and t.running for t in main):
        return False
    done = [t for t in main if not t.pending]
    if not done:
        return False
    last = max((PHASE_ORDER.get(t.phase, 0), t.wave) for t in done)
    return not any(t.hook for t in done if (PHASE_ORDER.get(t.phase, 0), t.wave) == last)
