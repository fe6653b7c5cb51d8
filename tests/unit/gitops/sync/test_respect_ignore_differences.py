"""RespectIgnoreDifferences=true (Argo CD "Sync Options"): the target to apply keeps live's values for the fields
the Application's ignoreDifferences names, by jsonPointers, jqPathExpressions or managedFieldsManagers."""

from __future__ import annotations

import copy

from gitops.resources import JsonObject
from gitops.sync.ignore_differences import respect_ignored_fields

TARGET: JsonObject = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app", "image": "web:1"}]}}},
}


def _drifted(**changes: object) -> JsonObject:
    live = copy.deepcopy(TARGET)
    live["spec"].update(changes)
    return live


def _rule(**fields: object) -> JsonObject:
    return {"group": "apps", "kind": "Deployment", **fields}


def test_keeps_the_live_value_at_a_json_pointer() -> None:
    """Replicas scaled by an HPA stay as live has them when syncing."""
    applied = respect_ignored_fields(TARGET, _drifted(replicas=5), [_rule(jsonPointers=["/spec/replicas"])])
    assert applied["spec"]["replicas"] == 5
    assert TARGET["spec"]["replicas"] == 2  # the target itself is not changed


def test_keeps_the_live_value_at_a_jq_path_into_a_list() -> None:
    live = copy.deepcopy(TARGET)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "web:hotfix"
    rule = _rule(jqPathExpressions=['.spec.template.spec.containers[] | select(.name == "app").image'])
    applied = respect_ignored_fields(TARGET, live, [rule])
    assert applied["spec"]["template"]["spec"]["containers"][0]["image"] == "web:hotfix"


def test_keeps_the_live_value_of_a_field_a_listed_manager_owns() -> None:
    live = _drifted(replicas=7)
    live["metadata"]["managedFields"] = [
        {"manager": "hpa", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    ]
    applied = respect_ignored_fields(TARGET, live, [_rule(managedFieldsManagers=["hpa"])])
    assert applied["spec"]["replicas"] == 7


def test_drops_an_ignored_field_live_does_not_have() -> None:
    live = copy.deepcopy(TARGET)
    del live["spec"]["replicas"]
    applied = respect_ignored_fields(TARGET, live, [_rule(jsonPointers=["/spec/replicas"])])
    assert "replicas" not in applied["spec"]
