"""Semantic validation of the analysis kinds: each rule, the field path it names, and what it leaves alone."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from analysis.kinds import ANALYSIS_RUN, ANALYSIS_TEMPLATE, CLUSTER_ANALYSIS_TEMPLATE
from analysis.models import AnalysisRun, AnalysisTemplate
from analysis.validation import validate_analysis_run, validate_analysis_template
from kube.kinds import KindSpec

PROMETHEUS = {"prometheus": {"address": "http://prometheus:9090", "query": "up"}}


def metric(name: str = "m", **fields: Any) -> dict[str, Any]:
    return {"name": name, "provider": copy.deepcopy(PROMETHEUS), **fields}


def template(
    metrics: list[dict[str, Any]] | None = None, kind: str = "AnalysisTemplate", **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": "t"},
        "spec": {"metrics": [metric()] if metrics is None else metrics, **spec},
    }


def run(metrics: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    return template(metrics, kind="AnalysisRun", **spec)


def issues_of(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    kinds: dict[str, KindSpec] = {
        spec.kind: spec for spec in (ANALYSIS_TEMPLATE, CLUSTER_ANALYSIS_TEMPLATE, ANALYSIS_RUN)
    }
    return [(issue.path, issue.message) for issue in kinds[manifest["kind"]].check(manifest)]


# One row per rule (or per variant of a rule): the manifest, the field path, a fragment of the message.
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    # metrics and their names
    ("template-without-metrics", template([]), "spec.metrics", "at least one metric is required"),
    ("run-without-metrics", run([]), "spec.metrics", "at least one metric is required"),
    ("empty-metric-name", template([metric("")]), "spec.metrics[0].name", "metric name must not be empty"),
    (
        "duplicate-metric-name",
        template([metric("x"), metric("x")]),
        "spec.metrics[1].name",
        'duplicate metric name "x"',
    ),
    # arguments used by metrics
    (
        "undeclared-argument-in-query",
        template(
            [metric(provider={"prometheus": {"query": 'up{service="{{args.service-name}}"}'}})],
        ),
        "spec.metrics[0].provider.prometheus.query",
        'argument "service-name" is not declared in spec.args',
    ),
    (
        "undeclared-argument-with-spaces",
        template(
            [metric(provider={"web": {"url": "http://{{ args.host }}/status"}})], args=[{"name": "other"}]
        ),
        "spec.metrics[0].provider.web.url",
        'argument "host" is not declared in spec.args',
    ),
    (
        "undeclared-argument-in-condition",
        template([metric(successCondition="result[0] >= {{args.threshold}}")]),
        "spec.metrics[0].successCondition",
        'argument "threshold" is not declared',
    ),
    (
        "undeclared-argument-in-job-spec",
        template(
            [
                metric(
                    provider={
                        "job": {
                            "spec": {
                                "template": {
                                    "spec": {"containers": [{"name": "c", "args": ["curl {{args.url}}"]}]}
                                }
                            }
                        }
                    }
                )
            ]
        ),
        "spec.metrics[0].provider.job.spec.template.spec.containers[0].args[0]",
        'argument "url" is not declared',
    ),
    (
        "undeclared-argument-in-header",
        template(
            [
                metric(
                    provider={"prometheus": {"query": "up", "headers": [{"key": "T", "value": "{{args.t}}"}]}}
                )
            ]
        ),
        "spec.metrics[0].provider.prometheus.headers[0].value",
        'argument "t" is not declared',
    ),
    (
        "undeclared-argument-in-run",
        run([metric(provider={"prometheus": {"query": "{{args.q}}"}})]),
        "spec.metrics[0].provider.prometheus.query",
        'argument "q" is not declared in spec.args',
    ),
    (
        "placeholder-that-is-not-an-argument",
        template(
            [metric(provider={"prometheus": {"query": "up{pod=~'{{templates.canary.podTemplateHash}}'}"}})]
        ),
        "spec.metrics[0].provider.prometheus.query",
        '"{{templates.canary.podTemplateHash}}" is not an argument placeholder',
    ),
    (
        "unclosed-placeholder",
        template(
            [metric(provider={"prometheus": {"query": "up{job='{{args.job'}"}})], args=[{"name": "job"}]
        ),
        "spec.metrics[0].provider.prometheus.query",
        '"{{" is never closed',
    ),
    # providers
    (
        "no-provider",
        template([{"name": "m", "provider": {}}]),
        "spec.metrics[0].provider",
        "exactly one provider must be set, found none",
    ),
    (
        "two-providers",
        template([{"name": "m", "provider": {"prometheus": {"query": "up"}, "web": {"url": "http://x"}}}]),
        "spec.metrics[0].provider",
        "exactly one provider must be set, found 2: prometheus, web",
    ),
    (
        "unknown-provider-only",
        template([{"name": "m", "provider": {"dynatrace": {"query": "x"}}}]),
        "spec.metrics[0].provider",
        'found none (unknown "dynatrace")',
    ),
    (
        "two-plugins",
        template([{"name": "m", "provider": {"plugin": {"a/one": {}, "b/two": {}}}}]),
        "spec.metrics[0].provider",
        "found 2: plugin/a/one, plugin/b/two",
    ),
    (
        "prometheus-negative-timeout",
        template([{"name": "m", "provider": {"prometheus": {"query": "up", "timeout": -1}}}]),
        "spec.metrics[0].provider.prometheus.timeout",
        "timeout must be >= 0 seconds, got -1",
    ),
    (
        "web-without-url",
        template([{"name": "m", "provider": {"web": {"jsonPath": "{$.ok}"}}}]),
        "spec.metrics[0].provider.web.url",
        "the web provider needs a url",
    ),
    (
        "web-body-and-json-body",
        template(
            [{"name": "m", "provider": {"web": {"url": "http://x", "body": "{}", "jsonBody": {"a": 1}}}}]
        ),
        "spec.metrics[0].provider.web",
        "set body or jsonBody, not both",
    ),
    (
        "web-negative-timeout",
        template([{"name": "m", "provider": {"web": {"url": "http://x", "timeoutSeconds": -5}}}]),
        "spec.metrics[0].provider.web.timeoutSeconds",
        "timeoutSeconds must be >= 0, got -5",
    ),
    (
        "job-without-template",
        template([{"name": "m", "provider": {"job": {"spec": {"backoffLimit": 0}}}}]),
        "spec.metrics[0].provider.job.spec.template",
        "the job provider needs spec.template",
    ),
    # count, interval and limits
    ("negative-count", template([metric(count=-1)]), "spec.metrics[0].count", "count must be >= 0, got -1"),
    (
        "count-not-a-number",
        template([metric(count="abc")]),
        "spec.metrics[0].count",
        'count must be an integer or an {{args.NAME}} placeholder, got "abc"',
    ),
    (
        "count-above-one-without-interval",
        template([metric(count=3)]),
        "spec.metrics[0].interval",
        "interval must be specified when count > 1",
    ),
    (
        "count-as-a-string-without-interval",
        template([metric(count="2")]),
        "spec.metrics[0].interval",
        "interval must be specified when count > 1",
    ),
    (
        "count-below-failure-limit",
        template([metric(count=2, interval="1m", failureLimit=3)]),
        "spec.metrics[0].count",
        "count (2) must be >= failureLimit (3)",
    ),
    (
        "count-below-inconclusive-limit",
        template([metric(count=1, inconclusiveLimit=2)]),
        "spec.metrics[0].count",
        "count (1) must be >= inconclusiveLimit (2)",
    ),
    (
        "failure-limit-below-minus-one",
        template([metric(failureLimit=-2)]),
        "spec.metrics[0].failureLimit",
        "failureLimit must be >= -1 (-1 disables it), got -2",
    ),
    (
        "negative-inconclusive-limit",
        template([metric(inconclusiveLimit=-1)]),
        "spec.metrics[0].inconclusiveLimit",
        "inconclusiveLimit must be >= 0, got -1",
    ),
    (
        "negative-consecutive-error-limit",
        template([metric(consecutiveErrorLimit="-1")]),
        "spec.metrics[0].consecutiveErrorLimit",
        "consecutiveErrorLimit must be >= 0, got -1",
    ),
    (
        "negative-consecutive-success-limit",
        template([metric(consecutiveSuccessLimit=-3)]),
        "spec.metrics[0].consecutiveSuccessLimit",
        "consecutiveSuccessLimit must be >= 0, got -3",
    ),
    (
        "limit-not-a-number",
        template([metric(failureLimit="many")]),
        "spec.metrics[0].failureLimit",
        'failureLimit must be an integer or an {{args.NAME}} placeholder, got "many"',
    ),
    (
        "failure-limit-disabled-without-consecutive-successes",
        template([metric(failureLimit=-1)]),
        "spec.metrics[0].failureLimit",
        "consecutiveSuccessLimit must be > 0: one of them has to apply",
    ),
    # arguments
    (
        "empty-argument-name",
        template(args=[{"name": ""}]),
        "spec.args[0].name",
        "argument name must not be empty",
    ),
    (
        "duplicate-argument-name",
        template(args=[{"name": "a"}, {"name": "a", "value": "x"}]),
        "spec.args[1].name",
        'duplicate argument name "a"',
    ),
    (
        "argument-with-value-and-value-from",
        template(
            args=[{"name": "a", "value": "x", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
        ),
        "spec.args[0]",
        "set value or valueFrom, not both",
    ),
    (
        "value-from-without-a-source",
        template(args=[{"name": "a", "valueFrom": {}}]),
        "spec.args[0].valueFrom",
        "exactly one of secretKeyRef, fieldRef must be set, found none",
    ),
    (
        "value-from-with-two-sources",
        template(
            args=[
                {
                    "name": "a",
                    "valueFrom": {
                        "secretKeyRef": {"name": "s", "key": "k"},
                        "fieldRef": {"fieldPath": "metadata.name"},
                    },
                }
            ]
        ),
        "spec.args[0].valueFrom",
        "found secretKeyRef, fieldRef",
    ),
    (
        "pod-template-hash-in-a-template",
        template(args=[{"name": "hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]),
        "spec.args[0].valueFrom.podTemplateHashValue",
        "only resolved in a Rollout's analysis args",
    ),
    (
        "run-argument-without-value",
        run(args=[{"name": "service-name"}]),
        "spec.args[0]",
        'argument "service-name" has no value: a run needs value or valueFrom.secretKeyRef',
    ),
    (
        "run-argument-from-field-ref",
        run(args=[{"name": "app", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}]),
        "spec.args[0]",
        'argument "app" has no value',
    ),
    # dryRun and measurementRetention
    (
        "dry-run-invalid-regex",
        template(dryRun=[{"metricName": "("}]),
        "spec.dryRun[0].metricName",
        'invalid regular expression "("',
    ),
    (
        "dry-run-matching-nothing",
        template(dryRun=[{"metricName": "latency"}]),
        "spec.dryRun[0].metricName",
        '"latency" matches no metric name',
    ),
    (
        "duplicate-dry-run-rule",
        template(dryRun=[{"metricName": "m"}, {"metricName": "m"}]),
        "spec.dryRun[1].metricName",
        'duplicate dryRun rule for metricName "m"',
    ),
    (
        "retention-invalid-regex",
        template(measurementRetention=[{"metricName": "[m", "limit": 5}]),
        "spec.measurementRetention[0].metricName",
        'invalid regular expression "[m"',
    ),
    (
        "retention-negative-limit",
        template(measurementRetention=[{"metricName": "m", "limit": -1}]),
        "spec.measurementRetention[0].limit",
        "limit must be >= 0, got -1",
    ),
    (
        "retention-matching-nothing-in-a-run",
        run(measurementRetention=[{"metricName": "^other$", "limit": 5}]),
        "spec.measurementRetention[0].metricName",
        '"^other$" matches no metric name',
    ),
    # composition and run lifetime
    (
        "template-reference-without-name",
        template(templates=[{"clusterScope": True}]),
        "spec.templates[0].templateName",
        "templateName must not be empty",
    ),
    (
        "negative-ttl",
        run(ttlStrategy={"secondsAfterFailure": -1}),
        "spec.ttlStrategy.secondsAfterFailure",
        "secondsAfterFailure must be >= 0, got -1",
    ),
    # the cluster-scoped kind runs the same rules
    (
        "cluster-template-duplicate-metric",
        template([metric("x"), metric("x")], kind="ClusterAnalysisTemplate"),
        "spec.metrics[1].name",
        'duplicate metric name "x"',
    ),
]


@pytest.mark.parametrize(
    ("manifest", "path", "fragment"), [row[1:] for row in INVALID], ids=[r[0] for r in INVALID]
)
def test_invalid_manifest_is_reported_at_the_field(
    manifest: dict[str, Any], path: str, fragment: str
) -> None:
    issues = issues_of(manifest)
    assert any(issue_path == path and fragment in message for issue_path, message in issues), issues


VALID: list[tuple[str, dict[str, Any]]] = [
    ("minimal-template", template()),
    ("minimal-cluster-template", template(kind="ClusterAnalysisTemplate")),
    (
        "declared-arguments",
        template(
            [metric(provider={"prometheus": {"query": 'up{s="{{args.svc}}", r="{{ args.region }}"}'}})],
            args=[{"name": "svc"}, {"name": "region", "value": "eu"}],
        ),
    ),
    (
        "placeholders-in-numbers-and-durations",
        template(
            [metric(count="{{args.count}}", interval="{{args.interval}}", failureLimit="{{args.limit}}")],
            args=[{"name": "count"}, {"name": "interval"}, {"name": "limit"}],
        ),
    ),
    ("count-one-needs-no-interval", template([metric(count=1)])),
    ("count-with-interval", template([metric(count=5, interval="30s", failureLimit=5, inconclusiveLimit=2)])),
    # A zero initialDelay is a duration like any other; a zero interval is refused (see test_hostile_specs.py).
    ("initial-delay-zero-is-a-go-duration", template([metric(initialDelay="0")])),
    (
        "consecutive-successes-instead-of-failure-limit",
        template([metric(interval="10s", failureLimit=-1, consecutiveSuccessLimit=3)]),
    ),
    (
        "argument-sources",
        template(
            args=[
                {"name": "secret", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {"name": "label", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            ]
        ),
    ),
    ("dry-run-wildcard", template(dryRun=[{"metricName": "*"}])),
    ("dry-run-regex", template([metric("error-rate"), metric("latency")], dryRun=[{"metricName": "rate$"}])),
    (
        "run-with-value-and-secret-arguments",
        run(
            [
                metric(
                    provider={
                        "prometheus": {
                            "query": "{{args.q}}",
                            "headers": [{"key": "A", "value": "{{args.s}}"}],
                        }
                    }
                )
            ],
            args=[
                {"name": "q", "value": "up"},
                {"name": "s", "valueFrom": {"secretKeyRef": {"name": "x", "key": "y"}}},
            ],
            ttlStrategy={"secondsAfterCompletion": 0},
        ),
    ),
    (
        "web-job-and-plain-data-providers",
        template(
            [
                {
                    "name": "web",
                    "provider": {"web": {"url": "http://x", "method": "POST", "jsonBody": {"a": 1}}},
                },
                {"name": "job", "provider": {"job": {"spec": {"template": {"spec": {"containers": []}}}}}},
                {"name": "dd", "provider": {"datadog": {"query": "avg:x"}}},
                {"name": "plugin", "provider": {"plugin": {"argoproj-labs/metric": {"q": "x"}}}},
            ]
        ),
    ),
]


@pytest.mark.parametrize("manifest", [row[1] for row in VALID], ids=[row[0] for row in VALID])
def test_valid_manifest_has_no_issues(manifest: dict[str, Any]) -> None:
    assert issues_of(manifest) == []


# --- composition --------------------------------------------------------------------------------------------


def composed(**spec: Any) -> dict[str, Any]:
    return template(
        templates=[{"templateName": "base"}, {"templateName": "shared", "clusterScope": True}], **spec
    )


def test_composed_template_may_use_arguments_declared_by_the_templates_it_references() -> None:
    manifest = composed(metrics=[metric(provider={"prometheus": {"query": "{{args.service-name}}"}})])
    assert issues_of(manifest) == []


def test_composed_template_may_have_no_metrics_of_its_own() -> None:
    assert issues_of(composed(metrics=[])) == []


def test_composed_template_may_select_metrics_it_does_not_hold() -> None:
    manifest = composed(
        dryRun=[{"metricName": "from-base"}], measurementRetention=[{"metricName": "x", "limit": 1}]
    )
    assert issues_of(manifest) == []


def test_composed_template_still_reports_what_no_other_template_can_fix() -> None:
    manifest = composed(
        metrics=[metric(provider={"prometheus": {"query": "{{nope}}"}}), metric("", count=-1)],
        dryRun=[{"metricName": "("}],
    )
    not_an_argument = (
        '"{{nope}}" is not an argument placeholder: only {{args.NAME}} is substituted in a metric'
    )
    bad_regex = 'invalid regular expression "(": missing ), unterminated subpattern at position 0'
    assert issues_of(manifest) == [
        ("spec.metrics[0].provider.prometheus.query", not_an_argument),
        ("spec.metrics[1].name", "metric name must not be empty"),
        ("spec.metrics[1].count", "count must be >= 0, got -1"),
        ("spec.dryRun[0].metricName", bad_regex),
    ]


# --- reporting ----------------------------------------------------------------------------------------------


def test_a_reference_repeated_in_one_string_is_reported_once() -> None:
    manifest = template([metric(provider={"prometheus": {"query": "{{args.a}} / {{args.a}}"}})])
    assert issues_of(manifest) == [
        ("spec.metrics[0].provider.prometheus.query", 'argument "a" is not declared in spec.args')
    ]


def test_every_problem_of_a_manifest_is_reported_not_only_the_first() -> None:
    manifest = template(
        [metric("dup", count=3), metric("dup", provider={})],
        args=[{"name": "a", "valueFrom": {}}],
    )
    assert [path for path, _ in issues_of(manifest)] == [
        "spec.args[0].valueFrom",
        "spec.metrics[0].interval",
        "spec.metrics[1].name",
        "spec.metrics[1].provider",
    ]


def test_structural_errors_come_before_and_instead_of_semantic_ones() -> None:
    manifest = template([metric("dup", interval="soon"), metric("dup")])
    assert issues_of(manifest) == [("spec.metrics[0].interval", issues_of(manifest)[0][1])]
    assert "invalid duration 'soon'" in issues_of(manifest)[0][1]


def test_validators_take_the_parsed_models() -> None:
    assert validate_analysis_template(AnalysisTemplate.from_dict(template())) == []
    parsed_run = AnalysisRun.from_dict(run(args=[{"name": "x"}]))
    assert [str(issue) for issue in validate_analysis_run(parsed_run)] == [
        'spec.args[0]: argument "x" has no value: a run needs value or valueFrom.secretKeyRef'
    ]


@pytest.mark.parametrize("interval", [30, "30", "30s", "1m30s"])
def test_an_interval_without_a_unit_is_seconds_and_valid(interval: int | str) -> None:
    assert validate_analysis_template(AnalysisTemplate.from_dict(template([metric(interval=interval)]))) == []


def test_a_prometheus_metric_without_a_query_is_valid_as_a_manifest() -> None:
    # Argo admits it and the measurement ends in Error at run time.
    manifest = template([{"name": "m", "provider": {"prometheus": {"address": "http://p"}}}])
    assert validate_analysis_template(AnalysisTemplate.from_dict(manifest)) == []


# --- conditions ---------------------------------------------------------------------------------------------


def condition_issues(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    return [(path, message) for path, message in issues_of(manifest) if "Condition" in path]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"successCondition": "len(result)) > 0"},
            [("spec.metrics[0].successCondition", "cannot parse condition: unexpected ')' at column 12")],
        ),
        (
            {"failureCondition": "result[0] <"},
            [("spec.metrics[0].failureCondition", "cannot parse condition: unexpected end of expression at column 12")],
        ),
        (
            {"successCondition": "result[0] >= 0.95 &&", "failureCondition": "result[0] = 0.5"},
            [
                (
                    "spec.metrics[0].successCondition",
                    "cannot parse condition: unexpected end of expression at column 21",
                ),
                (
                    "spec.metrics[0].failureCondition",
                    "cannot parse condition: unexpected '=' (compare with ==) at column 11",
                ),
            ],
        ),
        (
            {"successCondition": "foo(result)"},
            [("spec.metrics[0].successCondition", "cannot parse condition: unknown function foo at column 1")],
        ),
        (
            {"successCondition": "results[0] >= 0.95"},
            [
                (
                    "spec.metrics[0].successCondition",
                    'unknown name "results" at column 1: a condition can only read result',
                )
            ],
        ),
        (
            {"successCondition": "result[0] * 100"},
            [("spec.metrics[0].successCondition", "a condition must yield a bool, but this one yields a number")],
        ),
        (
            {"successCondition": "filter(result, # > 1)"},
            [("spec.metrics[0].successCondition", "a condition must yield a bool, but this one yields an array")],
        ),
    ],
)
def test_conditions_are_parsed_and_checked(fields: dict[str, str], expected: list[tuple[str, str]]) -> None:
    assert condition_issues(template([metric(**fields)])) == expected


def test_conditions_of_runs_and_cluster_templates_are_checked_too() -> None:
    expected = [("spec.metrics[0].successCondition", "cannot parse condition: unexpected ')' at column 12")]
    assert condition_issues(run([metric(successCondition="len(result)) > 0")])) == expected
    cluster = template([metric(successCondition="len(result)) > 0")], kind="ClusterAnalysisTemplate")
    assert condition_issues(cluster) == expected


@pytest.mark.parametrize(
    "condition",
    [
        "result[0] >= 0.95",
        "len(result) > 0 && result[0] < 100",
        "all(result, # < 1000)",
        "isNaN(result) || result < 0.5",
        "asFloat(result) > 0.5",
        "result.successful == true",
        "default(result, 0) > 1",
        "result == 'It worked!'",
        "result[0] >= 0.95\n  && result[0] <= 1\n",
        # Placeholders are filled with a dummy of their own length before parsing.
        "result[0] >= {{args.threshold}}",
        "result.{{args.field}} == true",
        "result['{{args.key}}'] == 'ok'",
        # Inside a placeholder anything may hide (an operator, a sub-expression): the run checks it.
        "result[0] {{args.operator}} 0.95",
        "{{args.condition}}",
    ],
)
def test_valid_conditions_have_no_issues(condition: str) -> None:
    arguments = [{"name": name} for name in ("threshold", "field", "key", "operator", "condition")]
    assert issues_of(template([metric(successCondition=condition)], args=arguments)) == []


def test_a_condition_error_outside_placeholders_keeps_its_true_column() -> None:
    manifest = template([metric(successCondition="{{args.threshold}} <= result[0])")], args=[{"name": "threshold"}])
    assert condition_issues(manifest) == [
        ("spec.metrics[0].successCondition", "cannot parse condition: unexpected ')' at column 32")
    ]


def test_an_unclosed_placeholder_in_a_condition_is_reported_once() -> None:
    manifest = template([metric(successCondition="result[0] >= {{args.threshold")], args=[{"name": "threshold"}])
    assert issues_of(manifest) == [
        ("spec.metrics[0].successCondition", '"{{" is never closed with "}}", so the metric cannot be resolved')
    ]


def test_an_empty_condition_means_no_condition() -> None:
    assert issues_of(template([metric(successCondition="", failureCondition="")])) == []


def test_condition_issues_print_as_lint_shows_them() -> None:
    parsed = AnalysisTemplate.from_dict(template([metric(successCondition="len(result)) > 0")]))
    assert [str(issue) for issue in validate_analysis_template(parsed)] == [
        "spec.metrics[0].successCondition: cannot parse condition: unexpected ')' at column 12"
    ]
