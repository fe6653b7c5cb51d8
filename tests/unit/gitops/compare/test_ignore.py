"""ignoreDifferences: each kind of rule, matching, system-level configuration, and bad rules reported."""

from __future__ import annotations

import copy

import pytest

from gitops.compare.diff import diff
from gitops.compare.ignore import (
    IgnoreRule,
    apply_ignore_rules,
    matching_rules,
    parse_json_pointer,
    rules_from_app,
    rules_from_config,
)
from gitops.resources import JsonObject, ResourceKey

TARGET: JsonObject = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app", "image": "web:1"}]}}},
}
KEY = ResourceKey("apps", "Deployment", "shop", "web")


def drifted(**changes: object) -> JsonObject:
    live = copy.deepcopy(TARGET)
    live["spec"].update(changes)
    return live


def test_json_pointer_ignores_the_field() -> None:
    """Argo CD jsonPointers (RFC 6901): /spec/replicas scaled by an HPA is not a difference."""
    live = drifted(replicas=5)
    assert diff(TARGET, live).modified is True
    assert (
        diff(TARGET, live, ignore=[IgnoreRule("apps", "Deployment", json_pointers=("/spec/replicas",))]).modified
        is False
    )


def test_json_pointer_escapes_are_decoded() -> None:
    """RFC 6901: ~1 is '/', ~0 is '~'."""
    assert parse_json_pointer("/metadata/annotations/example.com~1a~0b") == [
        "metadata",
        "annotations",
        "example.com/a~b",
    ]


def test_json_pointer_into_a_list_item() -> None:
    live = copy.deepcopy(TARGET)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2"
    rule = IgnoreRule("apps", "Deployment", json_pointers=("/spec/template/spec/containers/0/image",))
    assert diff(TARGET, live, ignore=[rule]).modified is False


def test_jq_path_expression_ignores_matching_fields() -> None:
    """Argo CD jqPathExpressions: `.spec.template.spec.containers[] | select(.name == "app").image`."""
    live = copy.deepcopy(TARGET)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2"
    rule = IgnoreRule(
        "apps", "Deployment", jq_path_expressions=('.spec.template.spec.containers[] | select(.name == "app").image',)
    )
    assert diff(TARGET, live, ignore=[rule]).modified is False


def test_jq_expression_that_does_not_compile_is_reported_not_raised() -> None:
    """A bad jq expression is reported (as a ComparisonError by compare_app), never a crash."""
    rule = IgnoreRule("apps", "Deployment", jq_path_expressions=(".spec.[",))
    result = diff(TARGET, drifted(replicas=5), ignore=[rule])
    assert result.modified is True
    assert len(result.errors) == 1 and "'.spec.['" in result.errors[0]


def test_jq_expression_that_fails_at_run_time_is_reported() -> None:
    rule = IgnoreRule("apps", "Deployment", jq_path_expressions=(".spec.replicas.nested",))
    result = diff(TARGET, TARGET, ignore=[rule])
    assert result.errors and "Cannot index number" in result.errors[0]


def test_managed_fields_managers_ignores_fields_that_manager_owns() -> None:
    """Argo CD managedFieldsManagers: fields owned by kube-controller-manager (e.g. replicas via HPA) are ignored."""
    live = drifted(replicas=5)
    live["metadata"]["managedFields"] = [
        {
            "manager": "kube-controller-manager",
            "operation": "Update",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
        }
    ]
    rule = IgnoreRule("apps", "Deployment", managed_fields_managers=("kube-controller-manager",))
    assert diff(TARGET, live, ignore=[rule]).modified is False
    other = IgnoreRule("apps", "Deployment", managed_fields_managers=("someone-else",))
    assert diff(TARGET, live, ignore=[other]).modified is True


@pytest.mark.parametrize(
    ("rule", "applies"),
    [
        pytest.param(IgnoreRule("apps", "Deployment"), True, id="group-and-kind"),
        pytest.param(IgnoreRule("apps", "*"), True, id="kind-wildcard"),
        pytest.param(IgnoreRule("*", "*"), True, id="everything"),
        pytest.param(IgnoreRule("", "Deployment"), False, id="core-group-is-not-apps"),
        pytest.param(IgnoreRule("apps", "Deployment", name="web"), True, id="name"),
        pytest.param(IgnoreRule("apps", "Deployment", name="api"), False, id="other-name"),
        pytest.param(IgnoreRule("apps", "Deployment", namespace="shop"), True, id="namespace"),
        pytest.param(IgnoreRule("apps", "Deployment", namespace="other"), False, id="other-namespace"),
    ],
)
def test_rules_match_by_group_kind_name_namespace(rule: IgnoreRule, applies: bool) -> None:
    """Argo CD: a rule applies by group and kind (`*` allowed) and, when set, name and namespace."""
    assert (matching_rules([rule], KEY) == [rule]) is applies


def test_rules_from_application_spec() -> None:
    app = {
        "spec": {
            "ignoreDifferences": [
                {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]},
                {"kind": "Secret", "name": "db", "jqPathExpressions": [".data.password"]},
            ]
        }
    }
    assert rules_from_app(app) == [
        IgnoreRule("apps", "Deployment", json_pointers=("/spec/replicas",)),
        IgnoreRule("", "Secret", name="db", jq_path_expressions=(".data.password",)),
    ]


def test_malformed_application_rule_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"spec\.ignoreDifferences\[0\]\.jsonPointers: expected a list of strings"):
        rules_from_app({"spec": {"ignoreDifferences": [{"kind": "Deployment", "jsonPointers": "/spec/replicas"}]}})


def test_system_level_rules_from_argocd_cm() -> None:
    """argocd-cm resource.customizations.ignoreDifferences.<group>_<kind> and .all (Argo CD system-level config)."""
    data = {
        "resource.customizations.ignoreDifferences.admissionregistration.k8s.io_MutatingWebhookConfiguration": (
            "jqPathExpressions:\n- '.webhooks[]?.clientConfig.caBundle'\n"
        ),
        "resource.customizations.ignoreDifferences.all": "managedFieldsManagers:\n- kube-controller-manager\n",
        "resource.customizations": (
            "apps/Deployment:\n  ignoreDifferences: |\n    jsonPointers:\n    - /spec/replicas\n"
        ),
    }
    assert rules_from_config(data) == [
        IgnoreRule("apps", "Deployment", json_pointers=("/spec/replicas",)),
        IgnoreRule(
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
            jq_path_expressions=(".webhooks[]?.clientConfig.caBundle",),
        ),
        IgnoreRule("*", "*", managed_fields_managers=("kube-controller-manager",)),
    ]


def test_ignore_rules_do_not_change_their_inputs() -> None:
    live = drifted(replicas=5)
    before = copy.deepcopy(live)
    apply_ignore_rules([TARGET, live], [IgnoreRule("apps", "Deployment", json_pointers=("/spec/replicas",))])
    assert live == before


def test_jq_error_on_a_secret_never_quotes_its_data() -> None:
    """Secret values never appear in conditions: jq's run-time message (which quotes values) is withheld."""
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "aHVudGVyMg=="}}
    rule = IgnoreRule("", "Secret", jq_path_expressions=(".data.password | tonumber",))
    result = diff(secret, secret, ignore=[rule])
    assert result.errors and "withheld" in result.errors[0]
    assert all("aHVudGVyMg" not in error for error in result.errors)
