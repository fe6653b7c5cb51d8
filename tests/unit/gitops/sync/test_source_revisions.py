"""Multi-source Applications' sources and revisions, as Argo CD records them (user-guide/multiple_sources.md:
"When you specify the sources field, Argo CD will ignore the source (singular) field"; the status, operation and
history carry ``revisions`` and ``sources``, one per source, in spec order)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gitops.resources import JsonObject, ResourceKey
from gitops.sync.automation import decide_auto_sync
from gitops.sync.history import append_history, rollback_operation
from gitops.sync.source_revisions import (
    app_sources,
    compared_to,
    has_multiple_sources,
    multi_source_operation,
    multi_source_state,
    operation_revisions,
    ref_sources,
    renders_manifests,
    revisions_label,
    sync_status,
)
from tests.unit.gitops.sync.fake_cluster import T0, Compared, Comparison

CHART = {"repoURL": "https://git.example/charts.git", "path": "web", "targetRevision": "main",
         "helm": {"valueFiles": ["$values/envs/prod.yaml"]}}
VALUES = {"repoURL": "https://git.example/values.git", "targetRevision": "main", "ref": "values"}
SINGLE = {"repoURL": "https://git.example/app.git", "path": "app", "targetRevision": "main"}
SHA_A, SHA_B, SHA_C = "a" * 40, "b" * 40, "c" * 40
OUT_OF_SYNC = Comparison(resources=(Compared(ResourceKey("", "ConfigMap", "demo", "web-settings"), "OutOfSync"),))


def app(*, sources: list[JsonObject] | None = None, source: JsonObject | None = None,
        state: JsonObject | None = None, history: list[JsonObject] | None = None,
        automated: bool = False) -> JsonObject:
    spec: JsonObject = {"destination": {"server": "https://kubernetes.default.svc", "namespace": "demo"}}
    if sources is not None:
        spec["sources"] = sources
    if source is not None:
        spec["source"] = source
    if automated:
        spec["syncPolicy"] = {"automated": {"prune": True}}
    status: JsonObject = {}
    if state is not None:
        status["operationState"] = state
    if history is not None:
        status["history"] = history
    return {"metadata": {"name": "web", "namespace": "argocd"}, "spec": spec, "status": status}


MULTI = app(sources=[CHART, VALUES])


def test_sources_win_over_source() -> None:
    both = app(sources=[CHART, VALUES], source=SINGLE)
    assert has_multiple_sources(both)
    assert app_sources(both) == [CHART, VALUES]
    assert app_sources(app(source=SINGLE)) == [SINGLE]
    assert app_sources(app(source=SINGLE, sources=[])) == [SINGLE]


@pytest.mark.parametrize(
    ("source", "renders"),
    [
        pytest.param(VALUES, False, id="ref-only-lends-its-files"),
        pytest.param({**VALUES, "path": "manifests"}, True, id="ref-with-a-path-renders-too"),
        pytest.param({**VALUES, "chart": "redis"}, True, id="ref-with-a-chart-renders-too"),
        pytest.param(CHART, True, id="no-ref"),
    ],
)
def test_only_a_source_with_nothing_but_a_ref_contributes_no_manifests(source: JsonObject, renders: bool) -> None:
    assert renders_manifests(source) is renders


def test_ref_sources_are_pinned_to_their_resolved_revisions() -> None:
    assert ref_sources([CHART, VALUES], [SHA_A, SHA_B]) == {"values": {**VALUES, "targetRevision": SHA_B}}


def test_sync_status_of_a_multi_source_app_has_one_revision_per_source() -> None:
    assert sync_status(MULTI, "Synced", revisions_label([SHA_A, SHA_B])) == {
        "status": "Synced", "revisions": [SHA_A, SHA_B],
        "comparedTo": {"destination": MULTI["spec"]["destination"], "sources": [CHART, VALUES]},
    }
    single = app(source=SINGLE)
    assert sync_status(single, "Synced", SHA_A) == {
        "status": "Synced", "revision": SHA_A,
        "comparedTo": {"destination": single["spec"]["destination"], "source": SINGLE},
    }


def test_compared_to_lists_the_sources_and_not_the_ignored_source() -> None:
    assert "source" not in compared_to(app(sources=[CHART, VALUES], source=SINGLE))


def test_automated_operation_of_a_multi_source_app_names_revisions() -> None:
    operation = {"sync": {"revision": revisions_label([SHA_A, SHA_B]), "prune": True}, "initiatedBy": {
        "automated": True}}
    assert multi_source_operation(MULTI, operation)["sync"] == {"revisions": [SHA_A, SHA_B], "prune": True}
    assert multi_source_operation(app(source=SINGLE), operation) == operation
    assert operation_revisions(multi_source_operation(MULTI, operation)) == revisions_label([SHA_A, SHA_B])


def test_operation_state_of_a_multi_source_app_records_revisions_and_sources() -> None:
    state = {"phase": "Running", "syncResult": {"revision": revisions_label([SHA_A, SHA_B]), "resources": []}}
    assert multi_source_state(MULTI, state, [CHART, VALUES])["syncResult"] == {
        "revisions": [SHA_A, SHA_B], "sources": [CHART, VALUES], "resources": []}


def _synced_state(revisions: list[str], sources: list[JsonObject], phase: str = "Succeeded") -> JsonObject:
    return {
        "operation": {"sync": {"revisions": revisions}, "initiatedBy": {"automated": True}},
        "phase": phase, "message": "one or more objects failed to apply" if phase == "Failed" else "",
        "startedAt": "2026-01-01T11:59:00Z",
        "finishedAt": (T0 - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "syncResult": {"revisions": revisions, "sources": sources, "resources": []},
    }


def test_auto_sync_is_not_repeated_for_the_same_revisions() -> None:
    """Argo CD alreadyAttemptedSync compares every source's revision."""
    label = revisions_label([SHA_A, SHA_B])
    synced = app(sources=[CHART, VALUES], automated=True, state=_synced_state([SHA_A, SHA_B], [CHART, VALUES]))
    assert decide_auto_sync(synced, OUT_OF_SYNC, label, T0).reason == f"most recent sync already to {label}"


def test_a_new_commit_in_the_values_repository_is_a_new_auto_sync() -> None:
    synced = app(sources=[CHART, VALUES], automated=True, state=_synced_state([SHA_A, SHA_B], [CHART, VALUES]))
    decision = decide_auto_sync(synced, OUT_OF_SYNC, revisions_label([SHA_A, SHA_C]), T0)
    assert decision.operation is not None


def test_an_edited_source_is_a_new_auto_sync_at_the_same_revisions() -> None:
    edited = {**CHART, "helm": {"valueFiles": ["$values/envs/staging.yaml"]}}
    synced = app(sources=[edited, VALUES], automated=True, state=_synced_state([SHA_A, SHA_B], [CHART, VALUES]))
    assert decide_auto_sync(synced, OUT_OF_SYNC, revisions_label([SHA_A, SHA_B]), T0).operation is not None


def test_failed_revisions_are_not_retried() -> None:
    label = revisions_label([SHA_A, SHA_B])
    failed = app(sources=[CHART, VALUES], automated=True,
                 state=_synced_state([SHA_A, SHA_B], [CHART, VALUES], phase="Failed"))
    decision = decide_auto_sync(failed, OUT_OF_SYNC, label, T0)
    assert decision.operation is None
    assert decision.reason.startswith(f"Failed sync attempt to {label}")


def test_history_entry_of_a_multi_source_sync_has_revisions_and_sources() -> None:
    history = append_history(MULTI, _synced_state([SHA_A, SHA_B], [CHART, VALUES]))
    assert history == [{
        "id": 0, "deployedAt": (T0 - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deployStartedAt": "2026-01-01T11:59:00Z", "initiatedBy": {"automated": True},
        "revisions": [SHA_A, SHA_B], "sources": [CHART, VALUES],
    }]


def test_rollback_of_a_multi_source_entry_syncs_its_revisions_and_sources() -> None:
    entries: list[dict[str, Any]] = [
        {"id": 0, "revisions": [SHA_A, SHA_B], "sources": [CHART, VALUES]},
        {"id": 1, "revisions": [SHA_A, SHA_C], "sources": [CHART, VALUES]},
    ]
    operation = rollback_operation(app(sources=[CHART, VALUES], history=entries), None, username="me")
    assert operation == {"sync": {"prune": False, "dryRun": False, "revisions": [SHA_A, SHA_B],
                                  "sources": [CHART, VALUES]}, "initiatedBy": {"username": "me"}}
