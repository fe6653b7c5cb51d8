"""The dashboard's pages as HTML (dashboard/rollout_pages.py, application_pages.py): the current canary step marked,
the traffic bar from the weight `get rollout` calls ActualWeight, an Application's sync in the order Argo CD runs it
(PreSync hooks, then waves in order, then PostSync hooks: user-guide/sync-waves.md), and every value escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from dashboard.application_pages import application_view, resource_tree_html
from dashboard.rollout_pages import (
    analysis_arguments,
    describe_step,
    rollout_view,
    rollouts_list_view,
    steps_html,
    traffic_bar_html,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = [{"setWeight": 20}, {"pause": {"duration": "30s"}}, {"setWeight": 60}, {"pause": {}}]


def canary(index: int, *, weight: int | None = None, name: str = "reviews", namespace: str = "shop") -> dict[str, Any]:
    canary_spec: dict[str, Any] = {"steps": STEPS}
    status: dict[str, Any] = {"currentStepIndex": index, "phase": "Progressing", "availableReplicas": 5,
                              "observedGeneration": "1"}
    if weight is not None:
        canary_spec["trafficRouting"] = {"istio": {"virtualService": {"name": "reviews"}}}
        status["canary"] = {"weights": {"canary": {"weight": weight}, "stable": {"weight": 100 - weight}}}
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": "u1", "generation": 1},
        "spec": {"strategy": {"canary": canary_spec},
                 "template": {"spec": {"containers": [{"name": "app", "image": "reviews:v2"}]}}},
        "status": status,
    }


def _step_states(html: str) -> list[tuple[str, str, bool]]:
    return [(index, state, "aria-current" in rest)
            for state, index, rest in re.findall(r'<li class="step (\w+)" data-step-index="(\d+)"([^>]*)>', html)]


@pytest.mark.parametrize("index", [0, 1, 3])
def test_the_current_step_is_marked_and_the_ones_before_it_are_done(index: int) -> None:
    states = _step_states(steps_html(canary(index)))
    expected = [(str(i), "done" if i < index else "current" if i == index else "pending", i == index)
                for i in range(len(STEPS))]
    assert states == expected


def test_once_every_step_is_done_none_is_current() -> None:
    assert {state for _, state, _ in _step_states(steps_html(canary(len(STEPS))))} == {"done"}


@pytest.mark.parametrize(
    ("step", "words"),
    [({"setWeight": 20}, "setWeight 20%"), ({"pause": {"duration": "1m"}}, "pause 60s"), ({"pause": {}},
     "pause until promoted"), ({"pause": {"duration": 10}}, "pause 10s"),
     ({"analysis": {"templates": [{"templateName": "smoke"}, {"templateName": "rate"}]}}, "analysis smoke, rate"),
     ({"setCanaryScale": {"replicas": 2}}, 'setCanaryScale {"replicas":2}')],
)
def test_each_step_is_described_in_words(step: dict[str, Any], words: str) -> None:
    assert describe_step(step) == words


@pytest.mark.parametrize("weight", [0, 30, 100])
def test_the_traffic_bar_shows_the_routers_canary_weight_and_the_rest_on_stable(weight: int) -> None:
    html = traffic_bar_html(canary(1, weight=weight), [])
    assert f'data-canary-weight="{weight}"' in html
    widths = dict((kind, int(width)) for kind, width in re.findall(r'class="bar (\w+)" style="width:(\d+)%"', html))
    assert sum(widths.values()) == 100
    assert widths.get("canary", 0) == weight and widths.get("stable", 0) == 100 - weight


def test_a_fully_promoted_rollout_has_all_traffic_on_stable() -> None:
    rollout = canary(len(STEPS), weight=100)
    rollout["status"].update({"stableRS": "6f7b9c", "currentPodHash": "6f7b9c"})
    html = traffic_bar_html(rollout, [])
    assert 'data-canary-weight="0"' in html and "stable 100%" in html


def test_the_rollout_page_summary_carries_the_step_weight_and_phase_for_scripts_and_people() -> None:
    view = rollout_view(canary(2, weight=60), [], [], [], [], NOW)
    summary = re.search(r'<table class="summary" id="summary"([^>]*)>', view.live_html)
    assert summary is not None
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', summary.group(1)))
    assert (attributes["data-step-index"], attributes["data-set-weight"], attributes["data-abort"]) == (
        "2", "60", "false")
    assert view.title == "Rollout shop/reviews"
    assert 'data-action="/api/rollouts/shop/reviews/abort"' in view.controls_html


def test_the_list_has_one_table_per_namespace() -> None:
    view = rollouts_list_view([canary(0, name="b", namespace="two"), canary(0, name="a", namespace="one")])
    assert re.findall(r'data-namespace="([^"]+)"', view.live_html) == ["one", "two"]
    assert 'href="/rollouts/two/b"' in view.live_html


def test_the_list_shows_the_set_weight_and_the_routers_actual_weight() -> None:
    view = rollouts_list_view([canary(2, weight=45)])
    cells = re.findall(r"<td>([^<]*)</td>", view.live_html)
    # Strategy, step, set weight (the last setWeight at or before step 2: 60), actual weight (the router's: 45).
    assert cells[:4] == ["Canary", "2/4", "60", "45"]


def test_names_from_the_cluster_are_escaped() -> None:
    view = rollouts_list_view([canary(0, name="<script>alert(1)</script>")])
    assert "<script>" not in view.live_html and "&lt;script&gt;" in view.live_html


def waves_app() -> dict[str, Any]:
    def resource(kind: str, name: str, wave: int, sync: str = "Synced") -> dict[str, Any]:
        entry = {"group": "", "kind": kind, "namespace": "web", "name": name, "status": sync,
                 "health": {"status": "Healthy"}}
        if wave:
            entry["syncWave"] = wave
        return entry

    def hook(name: str, hook_type: str) -> dict[str, Any]:
        return {"group": "batch", "kind": "Job", "namespace": "web", "name": name, "hookType": hook_type,
                "hookPhase": "Succeeded", "syncPhase": hook_type, "message": "job completed"}

    return {
        "metadata": {"name": "waves", "namespace": "argocd"},
        "spec": {"project": "default", "source": {"repoURL": "file:///repo", "path": "waves"},
                 "destination": {"namespace": "web"}},
        "status": {
            "sync": {"status": "OutOfSync"}, "health": {"status": "Healthy"},
            "resources": [resource("Deployment", "frontend", 1), resource("ConfigMap", "settings", -1),
                          resource("Service", "backend", 0, "OutOfSync"),
                          {**resource("Job", "migrate", 0), "hook": True}],
            "operationState": {"phase": "Succeeded", "message": "successfully synced", "syncResult": {"resources": [
                hook("migrate", "PreSync"), hook("smoke-test", "PostSync")]}},
            "history": [{"id": 0, "revision": "abc", "deployedAt": "2026-01-01T00:00:00Z"}],
        },
    }


def test_the_resource_tree_follows_the_sync_order_hooks_then_waves_then_hooks() -> None:
    html = resource_tree_html(waves_app())
    groups = re.findall(r'<li class="(?:phase|wave)" data-(?:phase|wave)="([^"]+)"', html)
    assert groups == ["PreSync", "-1", "0", "1", "PostSync"]
    assert re.findall(r'<li class="hook" data-hook="(\w+)"[^>]*data-name="([\w-]+)"', html) == [
        ("PreSync", "migrate"), ("PostSync", "smoke-test")]


def test_only_an_out_of_sync_resource_links_to_its_diff() -> None:
    html = resource_tree_html(waves_app())
    items = html.split('<li class="resource"')[1:]
    linked = [re.findall(r'data-name="([\w-]+)"', item)[0] for item in items if 'class="diff-link"' in item]
    assert len(items) == 3 and linked == ["backend"]


def test_the_application_page_lists_the_last_operations_results_and_offers_rollback_per_deployment() -> None:
    view = application_view(waves_app())
    assert 'class="operation" data-phase="Succeeded"' in view.live_html
    assert view.live_html.count("<td>migrate</td>") == 1
    assert 'data-params="{&quot;id&quot;: 0}"' in view.live_html
    assert 'data-action="/api/applications/argocd/waves/sync"' in view.controls_html


def test_an_analysis_argument_from_a_secret_is_never_shown() -> None:
    run = {"metadata": {"name": "r", "namespace": "shop", "ownerReferences": [{"uid": "u1"}]},
           "spec": {"args": [
               {"name": "service", "value": "reviews"},
               # Whatever a run carries beside the reference, the page shows the mask.
               {"name": "api-token", "value": "hunter2", "valueFrom": {"secretKeyRef": {"name": "t", "key": "k"}}},
               {"name": "pod", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
               "metrics": []},
           "status": {"phase": "Running"}}
    assert analysis_arguments(run) == [("service", "reviews"), ("api-token", "***** (from a Secret)"),
                                       ("pod", "(from metadata.name)")]
    view = rollout_view(canary(1), [], [], [run], [], NOW)
    assert "hunter2" not in view.live_html and "api-token=***** (from a Secret)" in view.live_html
