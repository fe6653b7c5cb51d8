"""The demo's example made to run on the sandbox: durations scaled by the speed, Prometheus pointed at."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.kinds import ANALYSIS_TEMPLATE
from cli.demo.manifests import (
    DEMO_EXAMPLE,
    DemoManifestError,
    load_documents,
    prepare,
    rollout_of,
    scaled_duration,
)
from kube.durations import parse_duration
from rollouts.kinds import ROLLOUT_KIND

PROMETHEUS = "http://127.0.0.1:40123"


def pauses(documents: list[dict[str, Any]]) -> list[float]:
    steps = rollout_of(documents)["spec"]["strategy"]["canary"]["steps"]
    return [parse_duration(s["pause"]["duration"]) for s in steps if "pause" in s]


def metric(documents: list[dict[str, Any]]) -> dict[str, Any]:
    template = next(d for d in documents if d["kind"] == "AnalysisTemplate")
    result: dict[str, Any] = template["spec"]["metrics"][0]
    return result


@pytest.mark.parametrize(
    ("value", "speed", "minimum", "expected"),
    [("10s", 1, 0, "10000ms"), ("10s", 4, 0, "2500ms"), ("1m", 2, 0, "30000ms"), (20, 4, 0, "5000ms"),
     ("5s", 4, 3, "3000ms"), ("2s", 4, 3, "2000ms"), ("5s", 0.5, 3, "10000ms")],
)
def test_a_duration_is_divided_by_the_speed_but_not_below_its_floor(
    value: str | int, speed: float, minimum: float, expected: str
) -> None:
    assert scaled_duration(value, speed, minimum) == expected


def test_the_example_is_a_canary_with_background_analysis_and_timed_pauses() -> None:
    documents = load_documents()
    kinds = sorted(d["kind"] for d in documents)
    assert kinds == ["AnalysisTemplate", "Rollout", "Service", "Service", "VirtualService"]
    canary = rollout_of(documents)["spec"]["strategy"]["canary"]
    assert canary["analysis"]["templates"] == [{"templateName": "success-rate"}]
    assert pauses(documents) == [10.0, 10.0, 10.0]


def test_every_document_of_the_example_is_valid() -> None:
    for document in load_documents():
        spec = {"Rollout": ROLLOUT_KIND, "AnalysisTemplate": ANALYSIS_TEMPLATE}.get(document["kind"])
        if spec is not None:
            assert spec.check(document) == [], document["kind"]


def test_prepare_scales_pauses_and_analysis_and_points_at_the_sandbox_prometheus() -> None:
    documents = load_documents()
    prepared = prepare(documents, speed=4, prometheus_url=PROMETHEUS)
    assert pauses(prepared) == [2.5, 2.5, 2.5]
    scaled = metric(prepared)
    assert parse_duration(scaled["interval"]) == 2.0  # 5s / 4 is below the two-scrape floor
    assert parse_duration(scaled["initialDelay"]) == 3.0
    assert scaled["provider"]["prometheus"]["address"] == PROMETHEUS
    # The originals are untouched: the demo may prepare them again.
    assert metric(documents)["provider"]["prometheus"]["address"] != PROMETHEUS
    assert pauses(documents) == [10.0, 10.0, 10.0]


def test_at_speed_one_only_the_address_changes() -> None:
    documents = load_documents()
    prepared = prepare(documents, speed=1, prometheus_url=PROMETHEUS)
    assert pauses(prepared) == pauses(documents)
    assert parse_duration(metric(prepared)["interval"]) == parse_duration(metric(documents)["interval"])


def test_a_missing_example_directory_is_reported(tmp_path: Any) -> None:
    with pytest.raises(DemoManifestError, match="does not exist"):
        load_documents(tmp_path / "nowhere")


def test_the_demo_example_lives_in_examples() -> None:
    assert DEMO_EXAMPLE.name == "canary-analysis" and DEMO_EXAMPLE.parent.name == "examples"
