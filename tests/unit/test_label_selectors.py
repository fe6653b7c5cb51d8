"""Label selectors, as Kubernetes documents them (concepts/overview/working-with-objects/labels, "Set-based
requirement"): every matchLabels pair and every matchExpressions requirement must hold; `NotIn` and `DoesNotExist`
select objects without the key; an empty selector selects everything."""

from __future__ import annotations

from typing import Any

import pytest

from kube.label_selectors import selector_matches
from kube.modeling import LabelSelector

LABELS = {"app": "shop", "tier": "web"}

CASES: list[tuple[str, dict[str, Any], dict[str, str], bool]] = [
    ("empty selector selects everything", {}, LABELS, True),
    ("matchLabels pair present", {"matchLabels": {"app": "shop"}}, LABELS, True),
    ("matchLabels value differs", {"matchLabels": {"app": "cart"}}, LABELS, False),
    ("matchLabels key absent", {"matchLabels": {"env": "prod"}}, LABELS, False),
    ("In with the value", {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]},
     LABELS, True),
    ("In without the key", {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]},
     LABELS, False),
    ("NotIn without the key selects", {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["x"]}]},
     LABELS, True),
    ("NotIn with a listed value", {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]},
     LABELS, False),
    ("Exists", {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, LABELS, True),
    ("Exists without the key", {"matchExpressions": [{"key": "env", "operator": "Exists"}]}, LABELS, False),
    ("DoesNotExist", {"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, LABELS, True),
    ("DoesNotExist with the key", {"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, LABELS, False),
    ("all requirements must hold", {"matchLabels": {"app": "shop"},
                                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["api"]}]},
     LABELS, False),
]


@pytest.mark.parametrize(("selector", "labels", "selected"), [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_a_selector_selects_as_kubernetes_documents(selector: dict[str, Any], labels: dict[str, str],
                                                    selected: bool) -> None:
    assert selector_matches(selector, labels) is selected


@pytest.mark.parametrize(("selector", "labels", "selected"), [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_the_typed_selector_selects_the_same(selector: dict[str, Any], labels: dict[str, str], selected: bool) -> None:
    assert LabelSelector.model_validate(selector).matches(labels) is selected


def test_parameter_values_are_compared_as_text() -> None:
    """An ApplicationSet generator's parameters may hold numbers; a selector's values are strings."""
    assert selector_matches({"matchLabels": {"replicas": "3"}}, {"replicas": 3})
