"""The writes a sync step asks the controller to make, and how the controller reports each one back.

The controller executes a step's actions in order. A ``gate`` action (creating the namespace, a dry run, or a
prune) that fails stops the rest of the step: gitops-engine refuses to touch anything when the namespace cannot be
created or a manifest fails its dry run, and a wave whose prune fails creates nothing (its ``runTasks`` prunes
first and returns before the creates when one prune failed). Unlike gitops-engine, which runs a wave's prunes side by
side, the prunes after the failed one are not attempted either; the operation fails on the next pass all the same.
The controller reports every executed action with ``action.result(ok, message)`` and hands the results to
``results.record_results``.

Kinds: ``create-namespace`` (create; AlreadyExists counts as success), ``apply`` (kubectl-apply semantics; with
``replace`` a PUT of the whole object, with ``replace`` and ``force`` delete-then-create; with ``server_side`` a
server-side apply by ``field_manager`` forcing conflicts), ``create`` (Replace=true for an object that does not
exist yet), ``delete`` (with ``propagation``; NotFound counts as success).
"""

from __future__ import annotations

from dataclasses import dataclass

from gitops.models import ResultCode
from gitops.resources import JsonObject, ResourceKey
from gitops.sync.tasks import ERROR, FAILED, RUNNING, SUCCEEDED

# Why an action exists: decides how its outcome is recorded.
NAMESPACE = "namespace"  # CreateNamespace=true, before the dry run
DRY_RUN = "dry-run"  # validation of every task before the first wave
APPLY = "apply"  # a task of the current wave
PRUNE = "prune"  # deleting an extraneous object
HOOK_PRE_DELETE = "hook-pre-delete"  # BeforeHookCreation: delete the previous run's hook
HOOK_CLEANUP = "hook-cleanup"  # HookSucceeded / HookFailed deletion once the operation ends


@dataclass(frozen=True)
class ActionResult:
    """The outcome of one action, in the fields a ``syncResult.resources`` entry records."""

    key: ResourceKey
    version: str
    phase: str  # the sync phase (syncPhase)
    status: str  # Synced | SyncFailed | Pruned | PruneSkipped | "" (nothing to record for the resource)
    message: str
    hook_type: str
    hook_phase: str  # Running | Succeeded | Failed | Error | ""
    purpose: str
    ok: bool


@dataclass(frozen=True, kw_only=True)
class SyncAction:
    """One write. ``obj`` is the manifest to send (for deletes, the live object).

    The apply options (``dry_run`` … ``validate``) default to a plain ``kubectl apply``, and ``propagation`` to the
    API server's default: a delete need not name the apply options it has no use for.
    """

    kind: str  # "apply" | "create" | "delete" | "create-namespace"
    key: ResourceKey
    obj: JsonObject | None
    dry_run: bool = False
    server_side: bool = False
    force: bool = False
    replace: bool = False
    validate: bool = True
    propagation: str | None = None
    phase: str
    wave: int
    purpose: str = APPLY
    version: str = ""
    hook_type: str = ""
    field_manager: str = "argocd-controller"

    @property
    def gate(self) -> bool:
        """A failure of this action stops the rest of the step."""
        return self.purpose in (NAMESPACE, DRY_RUN, PRUNE)

    def result(self, ok: bool, message: str = "") -> ActionResult:
        """The result to record for this action, given whether the API server accepted it and its message."""
        status, hook_phase = "", ""
        if self.purpose in (NAMESPACE, DRY_RUN, APPLY):
            status = ResultCode.SYNCED.value if ok else ResultCode.SYNC_FAILED.value
            # A namespace has no health check, so its creation is complete at once.
            hook_phase = (SUCCEEDED if self.purpose == NAMESPACE else RUNNING) if ok else FAILED
        elif self.purpose == PRUNE:
            status = ResultCode.PRUNED.value if ok else ResultCode.SYNC_FAILED.value
            hook_phase = SUCCEEDED if ok else FAILED
            message = message or ("pruned" if ok else "")
        elif self.purpose == HOOK_PRE_DELETE and not ok:
            hook_phase, message = ERROR, f"failed to delete resource: {message}"
        return ActionResult(
            key=self.key,
            version=self.version,
            phase=self.phase,
            status=status,
            message=message,
            hook_type=self.hook_type,
            hook_phase=hook_phase,
            purpose=self.purpose,
            ok=ok,
        )
