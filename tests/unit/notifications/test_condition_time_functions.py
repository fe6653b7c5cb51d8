"""What the expression language offers notification conditions beyond analysis: ``time.Parse`` (Go's
``time.Parse(time.RFC3339, …)``) and the ``.Before``/``.After`` methods of its result, which Argo CD's on-deployed
trigger uses; and Sprig's ``add`` in templates, which Argo Rollouts' step-completed template uses."""

from __future__ import annotations

import pytest

from analysis.expressions import ConditionEvaluationError, ConditionSyntaxError, evaluate_condition
from gitops.appset.go_template import render


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("time.Parse('2024-05-01T10:00:00Z').Before(time.Parse('2024-05-01T10:00:01Z'))", True),
        ("time.Parse('2024-05-01T10:00:01Z').Before(time.Parse('2024-05-01T10:00:00Z'))", False),
        ("time.Parse('2024-05-01T10:00:00Z').Before(time.Parse('2024-05-01T10:00:00Z'))", False),
        ("time.Parse('2024-05-01T12:00:00+02:00').After(time.Parse('2024-05-01T09:59:59Z'))", True),
        ("!time.Parse(a).Before(time.Parse(b))", True),
    ],
)
def test_times_compare_as_go_compares_them(condition: str, expected: bool) -> None:
    variables = {"a": "2024-05-01T10:00:05Z", "b": "2024-05-01T10:00:00Z"}
    assert evaluate_condition(condition, None, extra=variables) is expected


def test_a_text_that_is_not_rfc3339_is_an_evaluation_error() -> None:
    with pytest.raises(ConditionEvaluationError, match="is not an RFC 3339 time"):
        evaluate_condition("time.Parse('yesterday').Before(time.Parse('2024-05-01T10:00:00Z'))", None)
    with pytest.raises(ConditionEvaluationError, match="needs a date, a time and a zone"):
        evaluate_condition("time.Parse('2024-05-01').Before(time.Parse('2024-05-01T10:00:00Z'))", None)


def test_other_methods_are_still_refused() -> None:
    with pytest.raises(ConditionSyntaxError, match="methods cannot be called"):
        evaluate_condition("result.Format('x') == ''", "a")
    with pytest.raises(ConditionSyntaxError, match="methods cannot be called"):
        evaluate_condition("time.Now().Before(time.Parse('2024-05-01T10:00:00Z'))", None)


def test_sprig_add_sums_integers() -> None:
    assert render("{{add .index 1}}/{{add 1 2 3}}", {"index": 2}) == "3/6"
