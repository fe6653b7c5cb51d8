"""Which Applications an ApplicationSet creates, updates and deletes (Argo CD: applicationsSync policies,
preservedFields, ignoreApplicationDifferences, ownership)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops.appset.application_writes import plan_application_writes, resource_entries
from gitops.appset.conditions import appset_conditions

APPSET = {"metadata": {"name": "apps", "namespace": "argocd", "uid": "u-1"}, "spec": {}}
OWNER = {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "name": "apps", "uid": "u-1",
         "controller": True, "blockOwnerDeletion": True}


def app(name: str, revision: str = "HEAD", **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd", **metadata},
            "spec": {"source": {"repoURL": "https://r", "targetRevision": revision, "path": name}}}


def owned(name: str, revision: str = "HEAD", **metadata: Any) -> dict[str, Any]:
    return app(name, revision, ownerReferences=[OWNER], **metadata)


def with_policy(policy: str | None, **spec: Any) -> dict[str, Any]:
    result = copy.deepcopy(APPSET)
    result["spec"] = {**spec, **({"syncPolicy": {"applicationsSync": policy}} if policy else {})}
    return result


DESIRED = [app("new"), app("changed", "v2"), app("same")]
EXISTING = [owned("changed", "v1"), owned("same"), owned("gone")]


@pytest.mark.parametrize(
    ("policy", "creates", "updates", "deletes"),
    [
        pytest.param(None, ["new"], ["changed"], ["gone"], id="sync-by-default"),
        pytest.param("sync", ["new"], ["changed"], ["gone"], id="sync"),
        pytest.param("create-only", ["new"], [], [], id="create-only"),
        pytest.param("create-update", ["new"], ["changed"], [], id="create-update"),
        pytest.param("create-delete", ["new"], [], ["gone"], id="create-delete"),
    ],
)
def test_applications_sync_policies(policy: str | None, creates: list[str], updates: list[str],
                                    deletes: list[str]) -> None:
    writes = plan_application_writes(with_policy(policy), DESIRED, EXISTING)
    assert [a["metadata"]["name"] for a in writes.create] == creates
    assert [a["metadata"]["name"] for a in writes.update] == updates
    assert [a["metadata"]["name"] for a in writes.delete] == deletes


def test_created_applications_are_owned_by_the_application_set() -> None:
    created = plan_application_writes(APPSET, [app("new")], []).create[0]
    assert created["metadata"]["ownerReferences"] == [OWNER]


def test_an_application_owned_by_something_else_is_reported_and_left_alone() -> None:
    writes = plan_application_writes(APPSET, [app("taken", "v2")], [app("taken", "v1")])
    assert writes.update == () and writes.create == ()
    assert "not owned by ApplicationSet apps" in writes.refused["taken"]


def test_nothing_is_written_when_everything_matches() -> None:
    writes = plan_application_writes(APPSET, [app("same")], [owned("same")])
    assert writes.create == writes.update == writes.delete == ()


def test_special_and_preserved_annotations_and_labels_survive_an_update() -> None:
    live = owned("web", "v1", annotations={"argocd.argoproj.io/refresh": "hard", "team/owner": "x", "other": "y"},
                 labels={"keep": "me", "drop": "me"})
    appset = with_policy(None, preservedFields={"annotations": ["team/owner"], "labels": ["keep"]})
    updated = plan_application_writes(appset, [app("web", "v2")], [live]).update[0]
    assert updated["metadata"]["annotations"] == {"argocd.argoproj.io/refresh": "hard", "team/owner": "x"}
    assert updated["metadata"]["labels"] == {"keep": "me"}
    assert updated["spec"]["source"]["targetRevision"] == "v2"


def test_ignore_application_differences_keeps_the_live_values() -> None:
    """Argo docs: a user may change targetRevision by hand when the ApplicationSet ignores it."""
    live = owned("web", "hand-picked")
    for rule in ({"jsonPointers": ["/spec/source/targetRevision"]},
                 {"jqPathExpressions": [".spec.source.targetRevision"]}):
        appset = with_policy(None, ignoreApplicationDifferences=[rule])
        writes = plan_application_writes(appset, [app("web", "v2")], [live])
        assert writes.update == (), rule


def test_ignore_rules_can_be_limited_by_name() -> None:
    appset = with_policy(None, ignoreApplicationDifferences=[
        {"name": "other", "jsonPointers": ["/spec/source/targetRevision"]}])
    writes = plan_application_writes(appset, [app("web", "v2")], [owned("web", "hand-picked")])
    assert writes.update[0]["spec"]["source"]["targetRevision"] == "v2"


def test_status_resources_report_each_existing_generated_application() -> None:
    live = owned("web")
    live["status"] = {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}
    assert resource_entries([app("web"), app("absent")], [live]) == [{
        "group": "argoproj.io", "version": "v1alpha1", "kind": "Application", "namespace": "argocd",
        "name": "web", "status": "Synced", "health": {"status": "Healthy"},
    }]


def test_conditions_keep_their_transition_time_while_unchanged() -> None:
    first = appset_conditions([], generation_error=None, write_errors={}, now="T1")
    again = appset_conditions(first, generation_error=None, write_errors={}, now="T2")
    assert {c["type"]: c["status"] for c in again} == {
        "ErrorOccurred": "False", "ParametersGenerated": "True", "ResourcesUpToDate": "True"}
    assert all(c["lastTransitionTime"] == "T1" for c in again)
    failed = appset_conditions(again, generation_error=("ApplicationParamsGenerationError", "boom"),
                               write_errors={}, now="T3")
    by_type = {c["type"]: c for c in failed}
    assert by_type["ErrorOccurred"]["status"] == "True" and by_type["ErrorOccurred"]["lastTransitionTime"] == "T3"
    assert by_type["ErrorOccurred"]["message"] == "boom"
