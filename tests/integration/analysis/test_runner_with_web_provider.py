"""The runner measuring for real: the web provider against a local HTTP server, the real condition evaluator, and
reconcile passes driven by an explicit clock — a run that succeeds, one that fails with the value and condition in
its message, one that errors when the endpoint breaks, and a secret that never shows."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from provider_servers import RecordingServer

from analysis.runner.measure_io import RunOutcome, reconcile_run
from kube.client import AsyncKubeClient
from kube.merge_patch import apply_merge_patch
from kube.resources import SECRETS, ResourceKind

JsonObject = dict[str, Any]
T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.moment = T0

    def __call__(self) -> datetime:
        return self.moment


class SecretsOnly:
    """The one read the runner makes of the cluster: a Secret."""

    def __init__(self, secrets: dict[str, dict[str, str]]) -> None:
        self.secrets = secrets

    async def get_or_none(self, kind: ResourceKind, namespace: str | None, name: str) -> JsonObject | None:
        assert kind is SECRETS
        data = self.secrets.get(name)
        return None if data is None else {"data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def web_run(url: str, **fields: Any) -> JsonObject:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": "checkout-analysis", "namespace": "shop", "uid": "uid-7"},
        "spec": {
            "args": [{"name": "service", "value": "checkout"}],
            "metrics": [
                {
                    "name": "success-rate",
                    "successCondition": "result >= 0.95",
                    "provider": {"web": {"url": url, "jsonPath": "{$.data.rate}"}},
                    **fields,
                }
            ],
        },
    }


async def run_to_completion(run: JsonObject, kube: Any = None) -> tuple[JsonObject, list[RunOutcome]]:
    clock = Clock()
    outcomes: list[RunOutcome] = []
    for _ in range(20):
        outcome = await reconcile_run(run, kube=cast(AsyncKubeClient | None, kube), now=clock)
        outcomes.append(outcome)
        if outcome.status_patch is not None:
            run = apply_merge_patch(run, {"status": outcome.status_patch})
        if outcome.requeue_after is None:
            break
        clock.moment += timedelta(seconds=outcome.requeue_after)
    return run, outcomes


def measurements(run: JsonObject) -> list[JsonObject]:
    result: list[JsonObject] = run["status"]["metricResults"][0]["measurements"]
    return result


async def test_a_healthy_endpoint_makes_the_run_successful(http_server: RecordingServer) -> None:
    http_server.reply("/rate/checkout", json={"data": {"rate": 0.99}})
    run = web_run(f"{http_server.url}/rate/{{{{args.service}}}}", interval="30s", count=3)
    run, outcomes = await run_to_completion(run)
    assert run["status"]["phase"] == "Successful"
    assert [m["value"] for m in measurements(run)] == ["0.99"] * 3
    assert [m["startedAt"] for m in measurements(run)] == [
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:30Z",
        "2024-05-01T10:01:00Z",
    ]
    assert len(http_server.received("/rate/checkout")) == 3
    assert outcomes[-1].events[-1].reason == "AnalysisRunSuccessful"


async def test_a_degraded_endpoint_fails_the_run_with_the_value_and_the_condition(http_server: RecordingServer) -> None:
    http_server.reply("/rate", json={"data": {"rate": 0.71}})
    run, outcomes = await run_to_completion(web_run(f"{http_server.url}/rate"))
    assert run["status"]["phase"] == "Failed"
    (measurement,) = measurements(run)
    assert measurement["value"] == "0.71"
    assert measurement["message"].startswith("success-rate: ")
    assert "0.71" in measurement["message"] and "result >= 0.95" in measurement["message"]
    assert run["status"]["message"].startswith('Metric "success-rate" assessed Failed due to failed (1) > failureLimit')
    assert measurement["message"] in run["status"]["message"]
    assert [(e.type, e.reason) for e in outcomes[-1].events] == [
        ("Warning", "MetricFailed"),
        ("Warning", "AnalysisRunFailed"),
    ]


async def test_a_broken_endpoint_errors_the_run_after_five_tries(http_server: RecordingServer) -> None:
    http_server.reply("/rate", status=503, text="upstream unavailable")
    run, outcomes = await run_to_completion(web_run(f"{http_server.url}/rate"))
    assert run["status"]["phase"] == "Error"
    assert [m["phase"] for m in measurements(run)] == ["Error"] * 5
    assert [o.requeue_after for o in outcomes] == [10, 10, 10, 10, None]
    assert "503" in measurements(run)[-1]["message"]
    assert run["status"]["message"].startswith(
        'Metric "success-rate" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4)'
    )


async def test_a_secret_header_is_sent_but_never_written(http_server: RecordingServer) -> None:
    http_server.reply("/rate", status=401, text="token s3cr3t-t0ken is not valid here")
    run = web_run(f"{http_server.url}/rate?key={{{{args.token}}}}")
    run["spec"]["args"].append({"name": "token", "valueFrom": {"secretKeyRef": {"name": "metrics-api", "key": "t"}}})
    run["spec"]["metrics"][0]["provider"]["web"]["headers"] = [
        {"key": "Authorization", "value": "Bearer {{args.token}}"}
    ]
    run, outcomes = await run_to_completion(run, SecretsOnly({"metrics-api": {"t": "s3cr3t-t0ken"}}))
    (request, *_) = http_server.received("/rate")
    assert request.headers["Authorization"] == "Bearer s3cr3t-t0ken"
    assert request.query == {"key": "s3cr3t-t0ken"}
    assert run["status"]["phase"] == "Error"
    assert "s3cr3t-t0ken" not in str(run["status"]) + str(outcomes)
    assert "/rate?key=***** " in measurements(run)[0]["message"]
