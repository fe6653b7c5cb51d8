"""Finding and substituting ``{{args.NAME}}`` placeholders in a metric."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.arguments import (
    ArgumentResolutionError,
    argument_references,
    referenced_arguments,
    resolve_arguments,
    scan_placeholders,
)

PROMETHEUS_METRIC: dict[str, Any] = {
    "name": "success-rate",
    "successCondition": "result[0] >= {{args.threshold}}",
    "provider": {
        "prometheus": {
            "address": "http://{{args.prometheus-host}}:9090",
            "query": 'sum(x{service="{{args.service-name}}"}) / sum(y{service="{{ args.service-name }}"})',
            "headers": [{"key": "X-Scope-OrgID", "value": "{{args.tenant}}"}],
        }
    },
}

JOB_METRIC: dict[str, Any] = {
    "name": "load-test",
    "provider": {
        "job": {
            "metadata": {"labels": {"{{args.label-key}}": "load"}},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "t", "args": ["wrk http://rollout.{{ args.namespace }}.svc/color"]}
                        ]
                    }
                }
            },
        }
    },
}


def test_placeholders_are_cut_from_open_to_the_next_close() -> None:
    scan = scan_placeholders("a {{args.x}} b {{ args.y }} c")
    assert [p.text for p in scan.placeholders] == ["{{args.x}}", "{{ args.y }}"]
    assert [p.argument for p in scan.placeholders] == ["x", "y"]
    assert scan.unclosed_at is None


def test_a_placeholder_that_is_not_an_argument_has_no_argument_name() -> None:
    (placeholder,) = scan_placeholders("{{templates.canary.podTemplateHash}}").placeholders
    assert placeholder.argument is None
    assert placeholder.expression == "templates.canary.podTemplateHash"


def test_an_unclosed_placeholder_is_reported_with_its_position() -> None:
    scan = scan_placeholders("ok {{args.a}} then {{args.b")
    assert [p.argument for p in scan.placeholders] == ["a"]
    assert scan.unclosed_at == 19


def test_text_without_braces_has_no_placeholders() -> None:
    assert scan_placeholders("sum(rate(x[5m]))") == scan_placeholders("")
    assert scan_placeholders("{ single } braces").placeholders == ()


def test_references_are_found_in_every_string_of_the_provider_and_the_conditions() -> None:
    locations = {(ref.name, ref.location) for ref in argument_references(PROMETHEUS_METRIC)}
    assert locations == {
        ("threshold", ("successCondition",)),
        ("prometheus-host", ("provider", "prometheus", "address")),
        ("service-name", ("provider", "prometheus", "query")),
        ("tenant", ("provider", "prometheus", "headers", 0, "value")),
    }


def test_a_reference_with_spaces_inside_the_braces_counts() -> None:
    references = argument_references(PROMETHEUS_METRIC)
    assert "{{ args.service-name }}" in [ref.placeholder for ref in references]


def test_references_are_found_deep_in_a_job_spec_and_in_map_keys() -> None:
    assert referenced_arguments(JOB_METRIC) == {"namespace", "label-key"}
    by_name = {ref.name: ref.location for ref in argument_references(JOB_METRIC)}
    assert by_name["namespace"] == (
        "provider", "job", "spec", "template", "spec", "containers", 0, "args", 0,
    )  # fmt: skip
    assert by_name["label-key"] == ("provider", "job", "metadata", "labels", "{{args.label-key}}")


def test_resolve_substitutes_every_reference_and_leaves_the_input_alone() -> None:
    values = {"threshold": "0.95", "prometheus-host": "prom", "service-name": "reviews", "tenant": "t1"}
    resolved = resolve_arguments(PROMETHEUS_METRIC, values)
    prometheus = resolved["provider"]["prometheus"]
    assert resolved["successCondition"] == "result[0] >= 0.95"
    assert prometheus["address"] == "http://prom:9090"
    assert prometheus["query"] == 'sum(x{service="reviews"}) / sum(y{service="reviews"})'
    assert prometheus["headers"] == [{"key": "X-Scope-OrgID", "value": "t1"}]
    assert "{{args.threshold}}" in PROMETHEUS_METRIC["successCondition"]


def test_resolve_substitutes_in_map_keys_and_keeps_non_strings() -> None:
    metric = {
        "name": "m",
        "count": 3,
        "dryRun": False,
        "provider": {"job": {"metadata": {"labels": {"{{args.k}}": "v"}}}},
    }
    resolved = resolve_arguments(metric, {"k": "team"})
    assert resolved["provider"]["job"]["metadata"]["labels"] == {"team": "v"}
    assert resolved["count"] == 3 and resolved["dryRun"] is False


def test_resolve_is_one_pass_so_a_value_with_braces_is_inserted_as_is() -> None:
    resolved = resolve_arguments({"name": "{{args.a}}"}, {"a": "{{args.b}}"})
    assert resolved == {"name": "{{args.b}}"}


def test_resolve_turns_a_count_placeholder_into_its_string_value() -> None:
    assert resolve_arguments({"count": "{{args.count}}"}, {"count": "5"}) == {"count": "5"}


@pytest.mark.parametrize(
    ("metric", "unresolved"),
    [
        ({"query": "{{args.missing}}"}, ["{{args.missing}}"]),
        ({"query": "{{ args.missing }} and {{args.missing}}"}, ["{{ args.missing }}", "{{args.missing}}"]),
        ({"query": "{{templates.x.podTemplateHash}}"}, ["{{templates.x.podTemplateHash}}"]),
        ({"a": "{{args.missing}}", "b": ["{{args.missing}}"]}, ["{{args.missing}}"]),
    ],
)
def test_resolve_fails_for_every_placeholder_that_is_not_a_supplied_argument(
    metric: dict[str, Any], unresolved: list[str]
) -> None:
    with pytest.raises(ArgumentResolutionError) as raised:
        resolve_arguments(metric, {})
    assert raised.value.unresolved == unresolved
    assert str(raised.value).startswith("failed to resolve {{")


def test_resolve_fails_for_an_unclosed_placeholder() -> None:
    with pytest.raises(ArgumentResolutionError, match="unclosed"):
        resolve_arguments({"query": "up{job='{{args.job'}"}, {"job": "x"})
