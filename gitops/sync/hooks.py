"""Resource hooks: which objects are hooks, in which phases they run, how they are deleted and named.

Argo CD hooks (``argocd.argoproj.io/hook``) win; Helm hooks (``helm.sh/hook``) are mapped only when no Argo hook
annotation is present: pre-install/pre-upgrade → PreSync, post-install/post-upgrade → PostSync, the rest dropped.
"""

from __future__ import annotations

from gitops.models import HookType
from gitops.resources import JsonObject
from gitops.sync.annotations import (
    HELM_HOOK,
    HELM_HOOK_DELETE_POLICY,
    HOOK,
    HOOK_DELETE_POLICY,
    annotation_csv,
    annotations_of,
)

HOOK_SUCCEEDED = "HookSucceeded"
HOOK_FAILED = "HookFailed"
BEFORE_HOOK_CREATION = "BeforeHookCreation"

_ARGO_HOOK_TYPES = {t.value for t in HookType}
_HELM_HOOK_TYPES = {
    "pre-install": HookType.PRE_SYNC.value,
    "pre-upgrade": HookType.PRE_SYNC.value,
    "post-install": HookType.POST_SYNC.value,
    "post-upgrade": HookType.POST_SYNC.value,
}
_HELM_DELETE_POLICIES = {
    "before-hook-creation": BEFORE_HOOK_CREATION,
    "hook-succeeded": HOOK_SUCCEEDED,
    "hook-failed": HOOK_FAILED,
}
_DELETE_POLICIES = {HOOK_SUCCEEDED, HOOK_FAILED, BEFORE_HOOK_CREATION}
# The phases a hook can run in during a sync; PostDelete and Skip are not sync phases.
SYNC_PHASES: tuple[str, ...] = (
    HookType.PRE_SYNC.value,
    HookType.SYNC.value,
    HookType.POST_SYNC.value,
    HookType.SYNC_FAIL.value,
)


def hook_types(obj: JsonObject) -> list[str]:
    """The hook types an object declares: Argo's annotation if it names any known type, else the mapped Helm ones."""
    types = [t for t in annotation_csv(obj, HOOK) if t in _ARGO_HOOK_TYPES]
    if types:
        return types
    return [_HELM_HOOK_TYPES[t] for t in annotation_csv(obj, HELM_HOOK) if t in _HELM_HOOK_TYPES]


def is_skipped(obj: JsonObject) -> bool:
    """``hook: Skip`` alone means the object is never applied (Skip combined with other types is ignored)."""
    return hook_types(obj) == [HookType.SKIP.value]


def is_hook(obj: JsonObject) -> bool:
    """Whether the object is a hook (an Argo hook annotation that is not Skip alone, or a mapped Helm hook)."""
    if HOOK in annotations_of(obj):
        return not is_skipped(obj)
    return bool(hook_types(obj))


def sync_phases(obj: JsonObject) -> list[str]:
    """The sync phases an object runs in: none when skipped, each listed hook phase once, else just Sync."""
    if is_skipped(obj):
        return []
    if is_hook(obj):
        declared = set(hook_types(obj))
        return [phase for phase in SYNC_PHASES if phase in declared]
    return [HookType.SYNC.value]


def delete_policies(obj: JsonObject) -> list[str]:
    """The hook's delete policies (Argo's and Helm's annotations together); BeforeHookCreation when none is set."""
    policies = [p for p in annotation_csv(obj, HOOK_DELETE_POLICY) if p in _DELETE_POLICIES]
    helm = annotation_csv(obj, HELM_HOOK_DELETE_POLICY)
    policies += [_HELM_DELETE_POLICIES[p] for p in helm if p in _HELM_DELETE_POLICIES]
    return policies or [BEFORE_HOOK_CREATION]


def hook_name(generate_name: str, revision: str, phase: str, started_at_unix: int) -> str:
    """The deterministic name of a hook that only has ``generateName``, as gitops-engine forms it.

    ``generateName`` + the first 7 characters of the revision (all of it when shorter than 8) + ``-phase-startedAt``,
    the suffix lower-cased, so a restarted controller finds the hook it created before.
    """
    short = revision[0:7] if len(revision) >= 8 else revision
    return generate_name + f"{short}-{phase}-{started_at_unix}".lower()
