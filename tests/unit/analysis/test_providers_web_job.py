"""The web provider's JSONPath subset and request rules, and the job provider's names, manifests and outcomes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from analysis.models import JobMetric, WebMetric
from analysis.providers import MeasurementContext, ProviderError
from analysis.providers.job import job_manifest, job_name, job_outcome
from analysis.providers.jsonpath import JsonPathError, compile_json_path
from analysis.providers.web import extract_value, request_body

DOCUMENT: dict[str, Any] = {
    "data": {"ok": True, "rate": 0.99, "name": "web", "nothing": None},
    "items": [{"value": 1}, {"value": 2}, {"value": 3}],
    "status": "healthy",
    "weird-key": {"a.b": 7},
    "list": [10, 20, 30, 40],
}


# --- JSONPath -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("{$}", [DOCUMENT]),
        ("{.}", [DOCUMENT]),
        ("", [DOCUMENT]),
        ("{$.data.ok}", [True]),
        ("{.status}", ["healthy"]),
        ("{$.data.rate}", [0.99]),
        ("{$.data.nothing}", [None]),
        ("{$.items[0].value}", [1]),
        ("{.items[-1].value}", [3]),
        ("{$.items[*].value}", [1, 2, 3]),
        ("{$.items.*.value}", [1, 2, 3]),
        ("{$.list[1:3]}", [20, 30]),
        ("{$.list[:2]}", [10, 20]),
        ("{$.list[::2]}", [10, 30]),
        ("{$['weird-key']['a.b']}", [7]),
        ('{$["data"]["name"]}', ["web"]),
        ("{.weird-key}", [{"a.b": 7}]),
        ("{ $.data.ok }", [True]),
        ("{$.data[*]}", [True, 0.99, "web", None]),
    ],
)
def test_json_path_find(path: str, expected: list[Any]) -> None:
    assert compile_json_path(path).find(DOCUMENT) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("$.data", "must be a single {…} expression"),
        ("value: {$.data}", "must be a single {…} expression"),
        ("{$.a}{$.b}", "must be a single {…} expression"),
        ("{$..value}", "recursive descent (..) is not supported"),
        ("{$.items[?(@.value==1)]}", "filter expressions ([?(…)]) are not supported"),
        ("{$.items[x]}", "cannot read '[x]'"),
        ("{data}", "cannot read 'data'"),
    ],
)
def test_json_path_syntax_errors(path: str, message: str) -> None:
    with pytest.raises(JsonPathError, match=re.escape(message)):
        compile_json_path(path)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("{$.missing}", "missing is not found in $"),
        ("{$.data.missing}", "missing is not found in $.data"),
        ("{$.items[5].value}", "array index 5 is out of bounds in $.items (length 3)"),
        ("{$.status.x}", "$.status is a string, so it has no field 'x'"),
        ("{$.data[0]}", "$.data is an object, not an array"),
        ("{$.status[*]}", "$.status is a string; [*] needs an array or an object"),
        ("{$.list[::0]}", "a slice step must not be 0"),
    ],
)
def test_json_path_lookup_errors(path: str, message: str) -> None:
    with pytest.raises(JsonPathError, match=re.escape(message)):
        compile_json_path(path).find(DOCUMENT)


def test_json_path_first_and_nothing_matched() -> None:
    assert compile_json_path("{$.items[*].value}").first(DOCUMENT) == 1  # Argo keeps the first of several
    with pytest.raises(JsonPathError, match="matched nothing"):
        compile_json_path("{$.list[9:]}").first(DOCUMENT)


# --- web request and response -------------------------------------------------------------------------------


def web(**fields: Any) -> WebMetric:
    return WebMetric.model_validate({"url": "http://x", **fields})


def test_request_body_rules() -> None:
    assert request_body(web()) == (None, {})
    assert request_body(web(method="POST", body="a=1")) == (b"a=1", {})
    assert request_body(web(method="PUT", jsonBody={"a": [1, 2]})) == (
        b'{"a":[1,2]}',
        {"Content-Type": "application/json"},
    )
    with pytest.raises(ProviderError, match="both body and jsonBody"):
        request_body(web(method="POST", body="x", jsonBody={"a": 1}))
    with pytest.raises(ProviderError, match="needs method POST or PUT, not GET"):
        request_body(web(body="x"))


@pytest.mark.parametrize(
    ("content", "path", "expected"),
    [
        (b'{"data": {"ok": true}}', "{$.data.ok}", True),
        (b'{"data": {"ok": true}}', "{$}", {"data": {"ok": True}}),
        (b"[1, 2]", "{$[1]}", 2),
        (b"42", "{$}", 42),
        (b"1.5", "{$}", 1.5),
        (b"healthy", "{$}", "healthy"),  # not JSON: the text itself, as Argo does
        (b"", "{$}", ""),
    ],
)
def test_extract_value(content: bytes, path: str, expected: Any) -> None:
    assert extract_value(content, compile_json_path(path)) == expected


def test_extract_value_errors() -> None:
    not_json = "the response is not JSON, so jsonPath {$.ok} cannot be applied: ok"
    with pytest.raises(ProviderError, match=re.escape(not_json)):
        extract_value(b"ok", compile_json_path("{$.ok}"))
    not_found = "could not find jsonPath {$.b} in the response: b is not found"
    with pytest.raises(ProviderError, match=re.escape(not_found)):
        extract_value(b'{"a": 1}', compile_json_path("{$.b}"))


# --- job ----------------------------------------------------------------------------------------------------

UID = "0f9e2c3a-5b7d-4e1f-9a8b-123456789abc"


def test_job_name_is_argos_when_it_fits() -> None:
    assert job_name(UID, "smoke-test", 0) == f"{UID}.smoke-test.1"
    assert job_name(UID, "smoke-test", 9) == f"{UID}.smoke-test.10"


@pytest.mark.parametrize("metric", ["Error_Rate", "a-very-long-metric-name-that-does-not-fit", "!!!", "x.y"])
def test_job_name_is_shortened_and_made_dns_safe(metric: str) -> None:
    name = job_name(UID, metric, 122)
    assert len(name) <= 63
    assert re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", name), name
    assert name.startswith(f"{UID}.") and name.endswith(".123")


def test_job_names_of_metrics_that_sanitize_alike_differ() -> None:
    assert job_name(UID, "error_rate", 0) != job_name(UID, "error-rate", 0)
    assert job_name(UID, "Error-Rate", 0) != job_name(UID, "error-rate", 0)


def test_job_manifest() -> None:
    context = MeasurementContext(
        run_name="web-abc-1", run_namespace="team", run_uid=UID, metric_name="smoke", metric={}, measurement_index=2
    )
    metric = JobMetric.model_validate(
        {
            "metadata": {"labels": {"team": "a"}, "annotations": {"note": "n"}},
            "spec": {"backoffLimit": 1, "template": {"spec": {"containers": [{"name": "t", "image": "busybox"}]}}},
        }
    )
    job = job_manifest(context, metric)
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    assert job["metadata"] == {
        "name": f"{UID}.smoke.3",
        "namespace": "team",
        "labels": {"team": "a", "analysisrun.argoproj.io/uid": UID},
        "annotations": {
            "note": "n",
            "analysisrun.argoproj.io/name": "web-abc-1",
            "analysisrun.argoproj.io/metric-name": "smoke",
        },
        "ownerReferences": [
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AnalysisRun",
                "name": "web-abc-1",
                "uid": UID,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    assert job["spec"] == metric.spec and job["spec"] is not metric.spec


def _job(*conditions: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": "j", "namespace": "ns"}, "status": {"conditions": list(conditions)}}


@pytest.mark.parametrize(
    ("job", "phase", "message"),
    [
        (_job(), "Running", ""),
        ({"metadata": {"name": "j", "namespace": "ns"}}, "Running", ""),
        (_job({"type": "Complete", "status": "True"}), "Successful", ""),
        (_job({"type": "Complete", "status": "False"}), "Running", ""),
        (_job({"type": "SuccessCriteriaMet", "status": "True"}), "Running", ""),
        (
            _job({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                  "message": "Job has reached the specified backoff limit"}),
            "Failed",
            "job ns/j failed: BackoffLimitExceeded: Job has reached the specified backoff limit",
        ),
        (_job({"type": "Failed", "status": "True"}), "Failed", "job ns/j failed"),
        (
            _job({"type": "Complete", "status": "True"}, {"type": "Failed", "status": "True"}),
            "Failed",
            "job ns/j failed",
        ),
    ],
)
def test_job_outcome(job: dict[str, Any], phase: str, message: str) -> None:
    assert job_outcome(job) == (phase, message)
