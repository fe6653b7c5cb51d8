"""Hooks: which objects are hooks, their phases, delete policies, names (gitops-engine pkg/sync/hook)."""

from __future__ import annotations

import pytest

from gitops.resources import JsonObject
from gitops.sync import hooks
from tests.unit.gitops.sync.fake_cluster import manifest


def _with(**annotations: str) -> JsonObject:
    return manifest("Job", "j", api="batch/v1", annotations=annotations)


PHASES = [
    pytest.param({}, ["Sync"], False, id="no annotation: a plain resource in Sync"),
    pytest.param({"argocd.argoproj.io/hook": "PreSync"}, ["PreSync"], True, id="PreSync hook"),
    pytest.param(
        {"argocd.argoproj.io/hook": "PreSync,PostSync"}, ["PreSync", "PostSync"], True, id="one task per listed phase"
    ),
    pytest.param({"argocd.argoproj.io/hook": "Skip"}, [], False, id="Skip alone is never applied"),
    pytest.param({"argocd.argoproj.io/hook": "SyncFail"}, ["SyncFail"], True, id="SyncFail hook"),
    pytest.param({"argocd.argoproj.io/hook": "PostDelete"}, [], True, id="PostDelete is not a sync phase"),
    pytest.param({"helm.sh/hook": "pre-install,pre-upgrade"}, ["PreSync"], True, id="helm pre-* map to PreSync"),
    pytest.param({"helm.sh/hook": "post-install"}, ["PostSync"], True, id="helm post-install maps to PostSync"),
    pytest.param({"helm.sh/hook": "test"}, ["Sync"], False, id="other helm hooks are dropped"),
    pytest.param(
        {"helm.sh/hook": "pre-install", "argocd.argoproj.io/hook": "PostSync"},
        ["PostSync"],
        True,
        id="an Argo hook annotation wins over Helm's",
    ),
]


@pytest.mark.parametrize(("annotations", "phases", "is_hook"), PHASES)
def test_sync_phases(annotations: dict[str, str], phases: list[str], is_hook: bool) -> None:
    obj = _with(**annotations)
    assert hooks.sync_phases(obj) == phases
    assert hooks.is_hook(obj) is is_hook


POLICIES = [
    pytest.param({}, ["BeforeHookCreation"], id="BeforeHookCreation is the default"),
    pytest.param(
        {"argocd.argoproj.io/hook-delete-policy": "HookSucceeded,HookFailed"},
        ["HookSucceeded", "HookFailed"],
        id="Argo policies",
    ),
    pytest.param({"helm.sh/hook-delete-policy": "hook-succeeded"}, ["HookSucceeded"], id="Helm policy mapped"),
]


@pytest.mark.parametrize(("annotations", "policies"), POLICIES)
def test_delete_policies(annotations: dict[str, str], policies: list[str]) -> None:
    assert hooks.delete_policies(_with(**annotations)) == policies


@pytest.mark.parametrize(
    ("revision", "phase", "expected"),
    [
        pytest.param("0123456789abcdef", "PreSync", "db-migrate-0123456-presync-1700000000", id="revision cut to 7"),
        pytest.param("1.2.3", "PostSync", "db-migrate-1.2.3-postsync-1700000000", id="short revisions kept whole"),
    ],
)
def test_hook_name_from_generate_name(revision: str, phase: str, expected: str) -> None:
    """sync_context.go: generateName + lower(rev[0:7] + "-" + phase + "-" + startedAt unix)."""
    assert hooks.hook_name("db-migrate-", revision, phase, 1700000000) == expected
