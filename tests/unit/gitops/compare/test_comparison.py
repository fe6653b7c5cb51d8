"""compare_app: pairing, prune candidates, hooks, shared resources, app status, and status.resources entries."""

from __future__ import annotations

import copy
from typing import Any

from gitops.compare.comparison import compare_app, resource_status_entries
from gitops.compare.tracking import TRACKING_ANNOTATION, with_tracking
from gitops.resources import Health, JsonObject, ResourceKey

APP: JsonObject = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "guestbook"}}


def config_map(name: str, annotations: dict[str, str] | None = None, **data: str) -> JsonObject:
    metadata: dict[str, Any] = {"name": name, "namespace": "shop"}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": dict(data)}


def deployed(target: JsonObject, app: str = "guestbook") -> JsonObject:
    """The live object after ``app`` applied ``target``: tracked, with server metadata."""
    live = with_tracking(target, app)
    live["metadata"].update(uid="u", resourceVersion="1", creationTimestamp="2026-01-01T00:00:00Z")
    return live


def live_map(*objects: JsonObject) -> dict[ResourceKey, JsonObject]:
    return {ResourceKey.of(obj): obj for obj in objects}


def by_name(comparison: Any) -> dict[str, Any]:
    return {resource.key.name: resource for resource in comparison.resources}


def test_everything_applied_is_synced_and_healthy() -> None:
    target = config_map("settings", a="1")
    comparison = compare_app(APP, [target], live_map(deployed(target)))
    assert comparison.sync_status == "Synced"
    assert comparison.health == Health("Healthy")
    assert by_name(comparison)["settings"].status == "Synced"
    assert by_name(comparison)["settings"].diff == ""


def test_missing_live_object_is_out_of_sync_and_missing() -> None:
    """Argo CD: a target without a live object is OutOfSync with health Missing."""
    comparison = compare_app(APP, [config_map("settings")], {})
    resource = by_name(comparison)["settings"]
    assert (resource.status, resource.health) == ("OutOfSync", Health("Missing"))
    assert comparison.sync_status == "OutOfSync"
    assert comparison.health == Health("Missing")  # every resource is Missing (v3.4 rule)


def test_drifted_live_object_is_out_of_sync_with_a_diff() -> None:
    target = config_map("settings", a="1")
    live = deployed(config_map("settings", a="2"))
    resource = by_name(compare_app(APP, [target], live_map(live)))["settings"]
    assert resource.status == "OutOfSync"
    assert "-  a: '2'" in resource.diff and "+  a: '1'" in resource.diff


def test_untracked_live_object_is_out_of_sync_until_the_mark_is_applied() -> None:
    """Argo CD compares targets with the tracking mark set: a matching object without it still needs a sync."""
    target = config_map("settings", a="1")
    comparison = compare_app(APP, [target], live_map(copy.deepcopy(target)))
    assert by_name(comparison)["settings"].status == "OutOfSync"
    assert TRACKING_ANNOTATION in by_name(comparison)["settings"].diff


def test_tracked_live_object_without_target_requires_pruning() -> None:
    """Argo CD: a top-level live object tracked to the app but absent from the targets is a prune candidate."""
    kept = config_map("settings")
    removed = deployed(config_map("old"))
    comparison = compare_app(APP, [kept], live_map(deployed(kept), removed))
    old = by_name(comparison)["old"]
    assert (old.status, old.requires_pruning, old.target) == ("OutOfSync", True, None)
    assert comparison.sync_status == "OutOfSync"


def test_live_object_with_owner_is_never_a_prune_candidate() -> None:
    """Argo CD: only top-level objects (no ownerReferences) are extraneous."""
    child = deployed(config_map("generated"))
    child["metadata"]["ownerReferences"] = [{"kind": "Deployment", "name": "web", "uid": "x"}]
    comparison = compare_app(APP, [], live_map(child))
    assert comparison.resources == ()
    assert comparison.sync_status == "Synced"


def test_object_tracked_by_another_app_is_not_pruned() -> None:
    comparison = compare_app(APP, [], live_map(deployed(config_map("theirs"), app="other")))
    assert comparison.resources == ()


def test_ignore_extraneous_prune_candidate_does_not_make_the_app_out_of_sync() -> None:
    """Argo CD compare-options IgnoreExtraneous: an extraneous object does not affect the app's sync status."""
    extra = deployed(config_map("extra", {"argocd.argoproj.io/compare-options": "IgnoreExtraneous"}))
    comparison = compare_app(APP, [], live_map(extra))
    assert by_name(comparison)["extra"].requires_pruning is True
    assert comparison.sync_status == "Synced"


def test_hooks_have_no_sync_status_and_do_not_affect_the_app() -> None:
    """Argo CD: hooks have no sync status and are left out of app sync status and health."""
    hook = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "shop", "annotations": {"argocd.argoproj.io/hook": "PreSync"}},
        "spec": {},
    }
    target = config_map("settings")
    failed_hook = deployed(hook)
    failed_hook["status"] = {"conditions": [{"type": "Failed", "status": "True", "message": "boom"}]}
    comparison = compare_app(APP, [hook, target], live_map(deployed(target), failed_hook))
    migrate = by_name(comparison)["migrate"]
    assert (migrate.hook, migrate.status, migrate.requires_pruning) == (True, "", False)
    assert comparison.sync_status == "Synced"
    assert comparison.health == Health("Healthy")


def test_helm_hook_is_a_hook() -> None:
    """Argo CD maps Helm hooks: helm.sh/hook: pre-install makes the manifest a hook."""
    hook = config_map("pre", {"helm.sh/hook": "pre-install"})
    comparison = compare_app(APP, [hook], {})
    assert by_name(comparison)["pre"].hook is True
    assert comparison.sync_status == "Synced"


def test_skip_only_manifest_has_no_status_and_is_never_pruned() -> None:
    """Argo CD: `argocd.argoproj.io/hook: Skip` alone is listed without sync status or health and never applied."""
    skipped = config_map("skipped", {"argocd.argoproj.io/hook": "Skip"})
    comparison = compare_app(APP, [skipped], live_map(deployed(config_map("skipped"))))
    resource = by_name(comparison)["skipped"]
    assert (resource.status, resource.hook, resource.requires_pruning, resource.health) == ("", False, False, None)
    assert comparison.sync_status == "Synced"
    assert resource_status_entries(comparison) == [
        {"version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "skipped"}
    ]


def test_shared_resource_raises_a_warning() -> None:
    """Argo CD SharedResourceWarning: "<Kind>/<name> is part of applications <app> and <other>"."""
    target = config_map("settings")
    theirs = deployed(target, app="other")
    comparison = compare_app(APP, [target], live_map(theirs))
    assert {
        "type": "SharedResourceWarning",
        "message": "ConfigMap/settings is part of applications guestbook and other",
    } in comparison.conditions
    assert by_name(comparison)["settings"].status == "OutOfSync"


def test_sync_wave_from_annotation_with_helm_weight_fallback() -> None:
    """Argo CD: sync-wave annotation, falling back to helm.sh/hook-weight, default 0."""
    waves = compare_app(
        APP,
        [
            config_map("a", {"argocd.argoproj.io/sync-wave": "-1"}),
            config_map("b", {"helm.sh/hook-weight": "5"}),
            config_map("c"),
            config_map("d", {"argocd.argoproj.io/sync-wave": "x", "helm.sh/hook-weight": "2"}),
        ],
        {},
    )
    assert {name: resource.sync_wave for name, resource in by_name(waves).items()} == {"a": -1, "b": 5, "c": 0, "d": 2}


def test_ignore_differences_from_the_app_spec_apply() -> None:
    app = {**APP, "spec": {"ignoreDifferences": [{"kind": "ConfigMap", "jsonPointers": ["/data/a"]}]}}
    target = config_map("settings", a="1")
    comparison = compare_app(app, [target], live_map(deployed(config_map("settings", a="2"))))
    assert comparison.sync_status == "Synced"


def test_bad_jq_expression_becomes_a_comparison_error_condition() -> None:
    app = {**APP, "spec": {"ignoreDifferences": [{"kind": "ConfigMap", "jqPathExpressions": [".data.["]}]}}
    target = config_map("settings")
    comparison = compare_app(app, [target], live_map(deployed(target)))
    errors = [c for c in comparison.conditions if c["type"] == "ComparisonError"]
    assert len(errors) == 1 and "ConfigMap shop/settings" in errors[0]["message"]


def test_cluster_scoped_target_loses_a_stray_namespace() -> None:
    """The destination namespace never applies to cluster-scoped kinds: the key and target have none."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "r", "namespace": "shop"},
    }
    comparison = compare_app(APP, [role], {})
    assert comparison.resources[0].key == ResourceKey("rbac.authorization.k8s.io", "ClusterRole", "", "r")
    assert "namespace" not in comparison.resources[0].target["metadata"]  # type: ignore[index]


def test_lua_health_override_is_used() -> None:
    target = config_map("settings")
    overrides = {"_ConfigMap": 'return {status = "Degraded", message = "custom"}'}
    comparison = compare_app(APP, [target], live_map(deployed(target)), health_overrides=overrides)
    assert by_name(comparison)["settings"].health == Health("Degraded", "custom")
    assert comparison.health == Health("Degraded")


def test_resource_status_entries_use_argo_field_names_and_omit_empty_fields() -> None:
    """Argo CD status.resources[]: group/namespace/status/health/hook/requiresPruning/syncWave are omitempty."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "annotations": {"argocd.argoproj.io/sync-wave": "2"}},
        "spec": {"replicas": 1},
    }
    live = deployed(deployment)
    live["metadata"]["generation"] = 1
    live["status"] = {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}
    removed = deployed(config_map("old"))
    comparison = compare_app(APP, [deployment], live_map(live, removed))
    assert resource_status_entries(comparison) == [
        {
            "version": "v1",
            "kind": "ConfigMap",
            "namespace": "shop",
            "name": "old",
            "status": "OutOfSync",
            "requiresPruning": True,
        },
        {
            "group": "apps",
            "version": "v1",
            "kind": "Deployment",
            "namespace": "shop",
            "name": "web",
            "status": "Synced",
            "health": {"status": "Healthy"},
            "syncWave": 2,
        },
    ]


def test_hook_entry_has_hook_flag_and_no_status() -> None:
    hook = config_map("pre", {"argocd.argoproj.io/hook": "PreSync"})
    entries = resource_status_entries(compare_app(APP, [hook], {}))
    assert entries == [{"version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "pre", "hook": True}]


def test_app_name_too_long_for_label_tracking_is_a_comparison_error() -> None:
    """Label tracking cannot hold a name over 63 characters: a ComparisonError condition, not a crash."""
    app = {**APP, "metadata": {"name": "a" * 64}}
    comparison = compare_app(app, [config_map("settings")], {}, tracking_method="label")
    assert comparison.conditions[0]["type"] == "ComparisonError"
    assert "longer than 63 characters" in comparison.conditions[0]["message"]


def test_prune_candidate_keeps_its_wave_for_the_planner_but_not_in_status() -> None:
    """Argo CD status.resources[].syncWave comes from the target; a prune candidate's wave is read from live."""
    removed = deployed(config_map("old", {"argocd.argoproj.io/sync-wave": "3"}))
    comparison = compare_app(APP, [], live_map(removed))
    assert comparison.resources[0].sync_wave == 3
    assert "syncWave" not in resource_status_entries(comparison)[0]


def test_hooks_named_by_generate_name_are_each_listed() -> None:
    """Hooks with only generateName (named at sync time) share an empty name; each is still a hook of the app."""
    hooks = [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "generateName": prefix,
                "namespace": "shop",
                "annotations": {"argocd.argoproj.io/hook": phase},
            },
        }
        for prefix, phase in (("migrate-", "PreSync"), ("smoke-", "PostSync"))
    ]
    comparison = compare_app(APP, hooks, {})
    assert [r.target["metadata"]["generateName"] for r in comparison.resources] == ["migrate-", "smoke-"]  # type: ignore[index]
    assert all(r.hook and r.status == "" for r in comparison.resources)
    assert comparison.conditions == ()


def test_repeated_resource_is_warned_about() -> None:
    """Argo CD RepeatedResourceWarning: the same resource twice among the targets."""
    comparison = compare_app(APP, [config_map("settings"), config_map("settings")], {})
    assert [c["type"] for c in comparison.conditions] == ["RepeatedResourceWarning"]
    assert len(comparison.resources) == 1
