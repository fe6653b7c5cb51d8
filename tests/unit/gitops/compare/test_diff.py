"""The diff of one resource, by worked examples: three-way, two-way, server-side apply, and the masked text."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from gitops.compare.diff import LAST_APPLIED_ANNOTATION, diff, diff_text
from gitops.resources import JsonObject


def deployment(**spec: Any) -> JsonObject:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "app", "image": "web:1"}]}},
            **spec,
        },
    }


def as_live(target: JsonObject, *, applied: JsonObject | None = None) -> JsonObject:
    """What the API server returns for ``target``: server metadata, defaulted fields and status added."""
    live = copy.deepcopy(target)
    live["metadata"].update(uid="u-1", resourceVersion="42", generation=1, creationTimestamp="2026-01-01T00:00:00Z")
    live["spec"]["progressDeadlineSeconds"] = 600
    live["spec"]["revisionHistoryLimit"] = 10
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/termination-log"
    live["status"] = {"replicas": 2, "availableReplicas": 2}
    if applied is not None:
        live["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: json.dumps(applied)}
    return live


# Two-way (no last-applied-configuration)


def test_two_way_server_defaulted_fields_do_not_count() -> None:
    """Argo CD two-way diff: fields only live has (defaults, status, server metadata) are not differences."""
    target = deployment()
    assert diff(target, as_live(target)).modified is False


def test_two_way_a_changed_target_field_counts() -> None:
    """Argo CD two-way diff: every field the target sets must match live."""
    live = as_live(deployment())
    result = diff(deployment(replicas=3), live)
    assert result.modified is True
    assert result.predicted_live is not None
    assert result.predicted_live["spec"]["replicas"] == 3
    assert result.predicted_live["spec"]["progressDeadlineSeconds"] == 600  # defaults survive the apply


def test_two_way_a_container_added_by_hand_counts() -> None:
    """A list item live has and the target does not (a sidecar added by hand) is drift in a two-way diff."""
    target = deployment()
    live = as_live(target)
    live["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "proxy:1"})
    assert diff(target, live).modified is True


def test_two_way_empty_target_maps_match_absent_live_fields() -> None:
    """The API server drops empty maps and lists (omitempty): `annotations: {}` in Git is not a difference."""
    target = deployment()
    target["metadata"]["annotations"] = {}
    target["spec"]["template"]["spec"]["containers"][0]["env"] = []
    assert diff(target, as_live(deployment())).modified is False


def test_quantities_written_differently_are_equal() -> None:
    """`cpu: 1` in Git and `cpu: "1000m"` from the server are the same quantity."""
    target = deployment()
    target["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": 1, "memory": "1024Mi"}}
    live = as_live(target)
    live["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1000m", "memory": "1Gi"}}
    assert diff(target, live).modified is False


# Three-way (kubectl.kubernetes.io/last-applied-configuration)


def test_three_way_field_removed_from_target_counts() -> None:
    """Argo CD three-way diff: a field in last-applied but no longer in the target will be removed → OutOfSync."""
    previous = deployment(minReadySeconds=5)
    live = as_live(previous, applied=previous)
    result = diff(deployment(), live)
    assert result.modified is True
    assert result.predicted_live is not None
    assert "minReadySeconds" not in result.predicted_live["spec"]
    assert "-  minReadySeconds: 5" in diff_text(result)


def test_three_way_fields_set_by_others_are_ignored() -> None:
    """Argo CD three-way diff: a field neither the target nor last-applied has (set by another writer) is ignored."""
    target = deployment()
    live = as_live(target, applied=target)
    live["spec"]["minReadySeconds"] = 30  # e.g. set by an operator with kubectl patch
    assert diff(target, live).modified is False


def test_three_way_container_from_last_apply_removed_counts_but_foreign_one_does_not() -> None:
    """Lists merged by name: a container dropped from the target goes; one injected by a webhook stays."""
    previous = deployment()
    previous["spec"]["template"]["spec"]["containers"].append({"name": "old-sidecar", "image": "s:1"})
    live = as_live(previous, applied=previous)
    live["spec"]["template"]["spec"]["containers"].append({"name": "istio-proxy", "image": "proxyv2"})
    result = diff(deployment(), live)
    assert result.predicted_live is not None
    names = [c["name"] for c in result.predicted_live["spec"]["template"]["spec"]["containers"]]
    assert names == ["app", "istio-proxy"]
    assert result.modified is True


def test_three_way_unchanged_target_is_synced() -> None:
    target = deployment()
    assert diff(target, as_live(target, applied=target)).modified is False


# Server-side apply


def managed(live: JsonObject, manager: str, fields: dict[str, Any], operation: str = "Apply") -> JsonObject:
    live = copy.deepcopy(live)
    entry = {"manager": manager, "operation": operation, "fieldsType": "FieldsV1", "fieldsV1": fields}
    live["metadata"].setdefault("managedFields", []).append(entry)
    return live


def test_ssa_compares_only_the_fields_the_target_sets() -> None:
    """SSA structured diff: fields other managers set (an HPA's replicas owner, defaults) do not count."""
    target = deployment()
    del target["spec"]["replicas"]
    live = as_live(deployment(replicas=7))
    live = managed(live, "kube-controller-manager", {"f:spec": {"f:replicas": {}}}, "Update")
    assert diff(target, live, server_side=True).modified is False


def test_ssa_field_we_own_and_no_longer_set_is_removed() -> None:
    """SSA: a field argocd-controller applied before and the target dropped is removed by the next apply."""
    target = deployment()
    live = as_live(deployment(minReadySeconds=5))
    live = managed(live, "argocd-controller", {"f:spec": {"f:minReadySeconds": {}, "f:replicas": {}}})
    result = diff(target, live, server_side=True)
    assert result.modified is True
    assert result.predicted_live is not None
    assert "minReadySeconds" not in result.predicted_live["spec"]


def test_ssa_nested_field_under_a_dropped_subtree_is_removed() -> None:
    """SSA: dropping a whole subtree from the target removes the leaves we owned in it (and live is not altered)."""
    live = as_live(deployment(strategy={"rollingUpdate": {"maxSurge": 2}}))
    live = managed(live, "argocd-controller", {"f:spec": {"f:strategy": {"f:rollingUpdate": {"f:maxSurge": {}}}}})
    result = diff(deployment(), live, server_side=True)
    assert result.modified is True
    assert result.normalized_live is not None
    assert result.normalized_live["spec"]["strategy"] == {"rollingUpdate": {"maxSurge": 2}}


def test_ssa_field_another_manager_owns_stays_when_the_target_drops_it() -> None:
    """SSA: a field we never owned is not removed, so its absence from the target is not a difference."""
    target = deployment()
    live = as_live(deployment(minReadySeconds=5))
    live = managed(live, "kubectl-edit", {"f:spec": {"f:minReadySeconds": {}}}, "Update")
    assert diff(target, live, server_side=True).modified is False


def test_ssa_list_item_we_own_by_key_is_removed() -> None:
    """SSA FieldsV1 k:{...} steps: a container argocd-controller applied and the target dropped goes."""
    previous = deployment()
    previous["spec"]["template"]["spec"]["containers"].append({"name": "old", "image": "o:1"})
    live = managed(
        as_live(previous),
        "argocd-controller",
        {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"old"}': {".": {}, "f:image": {}}}}}}},
    )
    result = diff(deployment(), live, server_side=True)
    assert result.predicted_live is not None
    assert [c["name"] for c in result.predicted_live["spec"]["template"]["spec"]["containers"]] == ["app"]
    assert result.modified is True


# Missing sides


def test_missing_live_is_modified_and_predicts_the_target() -> None:
    result = diff(deployment(), None)
    assert result.modified is True
    assert result.predicted_live is not None and result.predicted_live["spec"]["replicas"] == 2
    assert "+kind: Deployment" in diff_text(result)


def test_missing_target_is_modified_and_predicts_deletion() -> None:
    result = diff(None, as_live(deployment()))
    assert result.modified is True and result.predicted_live is None
    assert "-kind: Deployment" in diff_text(result)


# Secret masking


def secret(**data: str) -> JsonObject:
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}, "data": encoded}


def test_secret_diff_masks_values_with_plus_signs() -> None:
    """Argo CD masks Secret values with '+' in every diff shown: neither the value nor its base64 appears."""
    target = secret(password="hunter2-new", user="admin")
    live = secret(password="hunter2-old", user="admin")
    live["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: json.dumps(secret(password="hunter2-old"))}
    text = diff_text(diff(target, live))
    assert text, "a changed password is a difference"
    for value in ("hunter2-new", "hunter2-old", "admin"):
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text
    assert "++++++++" in text
    assert "password:" in text  # the changed key is still shown


def test_secret_string_data_in_git_is_masked_too() -> None:
    target = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"token": "s3cr3t"}}
    text = diff_text(diff(target, None))
    assert "s3cr3t" not in text and base64.b64encode(b"s3cr3t").decode() not in text
    assert "++++++++" in text


def test_secret_string_data_equal_to_live_data_is_in_sync() -> None:
    """stringData in Git and the same value as base64 data in the cluster are equal after normalisation."""
    target = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"token": "s3cr3t"}}
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"token": "czNjcjN0"}}
    assert diff(target, live).modified is False


def test_unmodified_resource_has_no_diff_text() -> None:
    target = deployment()
    assert diff_text(diff(target, as_live(target))) == ""


def test_diff_text_leaves_the_result_unchanged() -> None:
    """Printing a diff drops the last-applied annotation from the text only, not from the result."""
    previous = deployment(minReadySeconds=5)
    result = diff(deployment(), as_live(previous, applied=previous))
    assert LAST_APPLIED_ANNOTATION not in diff_text(result)
    assert result.normalized_live is not None
    assert LAST_APPLIED_ANNOTATION in result.normalized_live["metadata"]["annotations"]
