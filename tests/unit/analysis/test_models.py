"""The analysis models: Argo's defaults, exact round-trips, and structural errors that name the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from analysis.models import (
    AnalysisPhase,
    AnalysisRun,
    AnalysisTemplate,
    ClusterAnalysisTemplate,
    Metric,
    MetricProvider,
    PrometheusMetric,
    WebMetric,
    metric_name_matches,
)
from kube.issues import issues_from_validation_error


def template(metrics: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "t", "namespace": "default"},
        "spec": {"metrics": metrics, **spec},
    }


PROMETHEUS_TEMPLATE: dict[str, Any] = template(
    [
        {
            "name": "success-rate",
            "interval": "1m",
            "initialDelay": "30s",
            "count": 5,
            "successCondition": "result[0] >= 0.95",
            "failureCondition": "result[0] < 0.5",
            "failureLimit": 2,
            "inconclusiveLimit": 1,
            "consecutiveErrorLimit": 3,
            "consecutiveSuccessLimit": 2,
            "provider": {
                "prometheus": {
                    "address": "https://prometheus.example:9090",
                    "query": 'sum(rate(http_requests_total{service="{{args.service-name}}"}[5m]))',
                    "timeout": 15,
                    "insecure": True,
                    "headers": [{"key": "X-Scope-OrgID", "value": "tenant-a"}],
                    "authentication": {
                        "sigv4": {"region": "eu-west-1", "profile": "p", "roleArn": "arn:aws:iam::1:role/r"},
                        "oauth2": {
                            "tokenUrl": "https://idp/token",
                            "clientId": "id",
                            "clientSecret": "{{args.client-secret}}",
                            "scopes": ["read"],
                        },
                        "basicAuth": {"username": "u", "password": "p"},
                    },
                    "rangeQuery": {"start": "now() - 1h", "end": "now()", "step": "1m"},
                }
            },
        }
    ],
    args=[
        {"name": "service-name"},
        {"name": "client-secret", "valueFrom": {"secretKeyRef": {"name": "oauth", "key": "secret"}}},
        {"name": "app", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        {"name": "region", "value": "eu"},
    ],
    dryRun=[{"metricName": "success-.*"}],
    measurementRetention=[{"metricName": "success-rate", "limit": 20}],
)

WEB_AND_JOB_TEMPLATE: dict[str, Any] = template(
    [
        {
            "name": "web",
            "provider": {
                "web": {
                    "url": "https://status.example/api",
                    "method": "POST",
                    "headers": [{"key": "Authorization", "value": "Bearer x"}],
                    "jsonBody": {"service": "reviews", "window": [1, 2.5, None, True]},
                    "timeoutSeconds": 20,
                    "jsonPath": "{$.data.ok}",
                    "insecure": False,
                }
            },
        },
        {
            "name": "job",
            "provider": {
                "job": {
                    "metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}},
                    "spec": {
                        "backoffLimit": 0,
                        "template": {
                            "spec": {
                                "containers": [
                                    {"name": "c", "image": "alpine", "command": ["sh", "-c", "true"]}
                                ],
                                "restartPolicy": "Never",
                            }
                        },
                    },
                }
            },
        },
    ]
)

OTHER_PROVIDERS = {
    "kayenta": {"address": "http://kayenta", "application": "app", "threshold": {"pass": 90, "marginal": 75}},
    "datadog": {"apiVersion": "v2", "queries": {"a": "avg:x{*}"}, "formula": "a"},
    "newRelic": {"profile": "nr", "query": "SELECT count(*) FROM Transaction"},
    "wavefront": {"address": "example.wavefront.com", "query": "ts(x)"},
    "cloudWatch": {"interval": "5m", "metricDataQueries": [{"id": "q", "expression": "SUM(x)"}]},
    "graphite": {"address": "http://graphite", "query": "target=x"},
    "influxdb": {"profile": "influx", "query": 'from(bucket: "b")'},
    "skywalking": {"address": "http://sw", "query": "query { x }", "interval": "5m"},
    "plugin": {"argoproj-labs/sample-prometheus": {"address": "http://p", "query": "up"}},
}

RUN_WITH_STATUS: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AnalysisRun",
    "metadata": {
        "name": "reviews-6d4b-2-1",
        "namespace": "default",
        "labels": {"rollout-type": "Step", "step-index": "1"},
        "ownerReferences": [
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "name": "reviews",
                "uid": "u",
                "controller": True,
            }
        ],
    },
    "spec": {
        "args": [{"name": "service-name", "value": "reviews-canary"}],
        "metrics": [
            {
                "name": "success-rate",
                "interval": "1m",
                "successCondition": "result[0] >= 0.95",
                "provider": {"prometheus": {"address": "http://prom:9090", "query": "up"}},
            }
        ],
        "dryRun": [{"metricName": "latency"}],
        "terminate": True,
        "ttlStrategy": {"secondsAfterCompletion": 3600, "secondsAfterFailure": 60, "secondsAfterSuccess": 30},
    },
    "status": {
        "phase": "Successful",
        "message": "Run Terminated",
        "startedAt": "2026-01-01T00:00:00Z",
        "completedAt": "2026-01-01T00:05:00Z",
        "runSummary": {"count": 1, "successful": 1},
        "dryRunSummary": {},
        "metricResults": [
            {
                "name": "success-rate",
                "phase": "Successful",
                "count": 3,
                "successful": 2,
                "failed": 1,
                "consecutiveSuccess": 2,
                "dryRun": False,
                "metadata": {"ResolvedPrometheusQuery": "up"},
                "measurements": [
                    {
                        "phase": "Successful",
                        "startedAt": "2026-01-01T00:00:00Z",
                        "finishedAt": "2026-01-01T00:00:01Z",
                        "value": "[0.99]",
                    },
                    {
                        "phase": "Running",
                        "startedAt": "2026-01-01T00:01:00Z",
                        "resumeAt": "2026-01-01T00:01:10Z",
                    },
                    {"phase": "Error", "message": "connection refused", "metadata": {"job-name": "x"}},
                ],
            }
        ],
    },
}


# --- defaults -----------------------------------------------------------------------------------------------


def test_metric_limits_default_to_argos_values() -> None:
    metric = Metric.model_validate({"name": "m", "provider": {"prometheus": {"query": "up"}}})
    assert metric.failure_limit == 0
    assert metric.inconclusive_limit == 0
    assert metric.consecutive_error_limit == 4
    assert metric.consecutive_success_limit == 0
    assert metric.count is None and metric.interval is None and metric.initial_delay is None


def test_provider_defaults_are_argos() -> None:
    web = WebMetric.model_validate({"url": "http://x"})
    assert (web.method, web.timeout_seconds, web.json_path, web.insecure) == ("GET", 10, "{$}", False)
    prometheus = PrometheusMetric.model_validate({"query": "up"})
    assert (prometheus.timeout, prometheus.insecure, prometheus.headers) == (30, False, [])


def test_defaults_are_not_written_back() -> None:
    manifest = template([{"name": "m", "provider": {"web": {"url": "http://x"}}}])
    assert AnalysisTemplate.from_dict(manifest).to_dict() == manifest


def test_a_run_without_status_reads_as_an_empty_status_and_dumps_without_one() -> None:
    manifest = {**RUN_WITH_STATUS}
    del manifest["status"]
    run = AnalysisRun.from_dict(manifest)
    assert run.status.phase is None and run.status.metric_results == []
    assert "status" not in run.to_dict()
    assert run.spec.terminate is True


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, 1),
        ({"interval": "1m"}, None),
        ({"count": 0, "interval": "1m"}, None),
        ({"count": 3, "interval": "1m"}, 3),
        ({"count": "4", "interval": "1m"}, 4),
        ({"count": 1}, 1),
    ],
)
def test_effective_count_follows_argo(fields: dict[str, Any], expected: int | None) -> None:
    metric = Metric.model_validate({"name": "m", "provider": {"prometheus": {}}, **fields})
    assert metric.effective_count() == expected


def test_effective_count_of_an_unresolved_count_is_an_error() -> None:
    metric = Metric.model_validate({"name": "m", "count": "{{args.n}}", "provider": {"prometheus": {}}})
    with pytest.raises(ValueError, match="not a number"):
        metric.effective_count()


# --- round trips --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "manifest",
    [PROMETHEUS_TEMPLATE, WEB_AND_JOB_TEMPLATE],
    ids=["prometheus", "web-and-job"],
)
def test_template_round_trips_exactly(manifest: dict[str, Any]) -> None:
    assert AnalysisTemplate.from_dict(copy.deepcopy(manifest)).to_dict() == manifest


def test_cluster_template_round_trips_and_has_no_namespace() -> None:
    manifest = {
        **WEB_AND_JOB_TEMPLATE,
        "kind": "ClusterAnalysisTemplate",
        "metadata": {"name": "cluster-wide"},
    }
    parsed = ClusterAnalysisTemplate.from_dict(manifest)
    assert parsed.to_dict() == manifest
    assert parsed.namespace == ""


def test_run_with_status_round_trips_exactly() -> None:
    assert AnalysisRun.from_dict(copy.deepcopy(RUN_WITH_STATUS)).to_dict() == RUN_WITH_STATUS


@pytest.mark.parametrize("name", sorted(OTHER_PROVIDERS))
def test_providers_kept_as_plain_data_round_trip(name: str) -> None:
    manifest = template([{"name": "m", "provider": {name: OTHER_PROVIDERS[name]}}])
    parsed = AnalysisTemplate.from_dict(copy.deepcopy(manifest))
    assert parsed.to_dict() == manifest
    assert len(parsed.spec.metrics[0].provider.configured()) == 1


def test_unknown_fields_are_kept_at_every_level() -> None:
    manifest = template(
        [
            {
                "name": "m",
                "futureField": {"x": 1},
                "provider": {"prometheus": {"query": "up", "newOption": True}, "dynatrace": {"q": "x"}},
            }
        ],
        somethingNew=[1, 2],
    )
    parsed = AnalysisTemplate.from_dict(copy.deepcopy(manifest))
    assert parsed.to_dict() == manifest
    assert parsed.spec.metrics[0].provider.unknown() == ["dynatrace"]


def test_placeholders_are_accepted_where_argo_resolves_them_before_reading() -> None:
    manifest = template(
        [
            {
                "name": "m",
                "count": "{{args.count}}",
                "interval": "{{args.interval}}",
                "initialDelay": "{{ args.delay }}",
                "failureLimit": "{{args.failures}}",
                "provider": {"prometheus": {"query": "up"}},
            }
        ]
    )
    parsed = AnalysisTemplate.from_dict(copy.deepcopy(manifest))
    assert parsed.spec.metrics[0].count == "{{args.count}}"
    assert parsed.to_dict() == manifest


# --- status -------------------------------------------------------------------------------------------------


def test_status_phases_parse_as_the_enum() -> None:
    status = AnalysisRun.from_dict(copy.deepcopy(RUN_WITH_STATUS)).status
    assert status.phase is AnalysisPhase.SUCCESSFUL
    result = status.result("success-rate")
    assert result is not None
    assert [m.phase for m in result.measurements] == [
        AnalysisPhase.SUCCESSFUL,
        AnalysisPhase.RUNNING,
        AnalysisPhase.ERROR,
    ]
    assert status.result("absent") is None


def test_an_empty_phase_as_argo_writes_it_round_trips() -> None:
    manifest = {**RUN_WITH_STATUS, "status": {"phase": ""}}
    run = AnalysisRun.from_dict(manifest)
    assert run.status.phase == ""
    assert run.to_dict() == manifest


@pytest.mark.parametrize(
    ("phase", "completed"),
    [
        (AnalysisPhase.PENDING, False),
        (AnalysisPhase.RUNNING, False),
        (AnalysisPhase.SUCCESSFUL, True),
        (AnalysisPhase.FAILED, True),
        (AnalysisPhase.ERROR, True),
        (AnalysisPhase.INCONCLUSIVE, True),
    ],
)
def test_completed_phases(phase: AnalysisPhase, completed: bool) -> None:
    assert phase.completed is completed


# --- structural errors --------------------------------------------------------------------------------------


def structural_issues(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as raised:
        AnalysisTemplate.from_dict(manifest)
    return [(issue.path, issue.message) for issue in issues_from_validation_error(raised.value)]


@pytest.mark.parametrize(
    ("metric", "path", "fragment"),
    [
        (
            {"name": "m", "interval": "5 minutes", "provider": {"web": {}}},
            "spec.metrics[0].interval",
            "invalid duration",
        ),
        (
            {"name": "m", "initialDelay": "-1s", "provider": {"web": {}}},
            "spec.metrics[0].initialDelay",
            "duration",
        ),
        ({"name": "m", "count": True, "provider": {"web": {}}}, "spec.metrics[0].count", ""),
        (
            {"name": "m", "provider": {"web": {"method": "DELETE"}}},
            "spec.metrics[0].provider.web.method",
            "GET",
        ),
        ({"name": "m"}, "spec.metrics[0].provider", "Field required"),
        ({"provider": {"web": {}}}, "spec.metrics[0].name", "Field required"),
        ({"name": "m", "provider": {"job": {}}}, "spec.metrics[0].provider.job.spec", "Field required"),
    ],
)
def test_structural_errors_name_the_field(metric: dict[str, Any], path: str, fragment: str) -> None:
    issues = structural_issues(template([metric]))
    assert any(issue_path == path and fragment in message for issue_path, message in issues), issues


def test_an_argument_value_must_be_a_string_as_argos_crd_says() -> None:
    issues = structural_issues(template([], args=[{"name": "n", "value": 5}]))
    assert [path for path, _ in issues] == ["spec.args[0].value"]


# --- helpers ------------------------------------------------------------------------------------------------


def test_configured_providers_count_each_plugin_entry() -> None:
    provider = MetricProvider.model_validate({"plugin": {"a/one": {}, "b/two": {}}})
    assert provider.configured() == ["plugin/a/one", "plugin/b/two"]
    assert MetricProvider.model_validate({"newRelic": {"query": "x"}}).configured() == ["newRelic"]
    assert MetricProvider.model_validate({}).configured() == []


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("success-rate", "success-rate", True),
        ("rate", "success-rate", True),  # unanchored, as Go's regexp.MatchString
        ("^rate", "success-rate", False),
        (".*", "anything", True),
        ("*", "anything", True),
        ("(", "anything", False),
    ],
)
def test_metric_name_patterns_match_like_argo(pattern: str, name: str, matches: bool) -> None:
    assert metric_name_matches(pattern, name) is matches
