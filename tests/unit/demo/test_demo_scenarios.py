"""What a scenario showed, folded from the changes the sandbox stored: weights, measurements, outcome, and the
time from the first failing measurement to the canary's weight 0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cli.demo.scenarios import (
    SCENARIOS,
    Scenario,
    ScenarioProgress,
    canary_weight,
    describe_timeline,
    format_value,
    scenarios_named,
    summary_row,
)

GOOD, BAD = SCENARIOS
OLD_HASH, NEW_HASH = "old111", "new222"


@dataclass(frozen=True)
class Stored:
    at: float
    type: str
    plural: str
    name: str
    object: dict[str, Any]


def virtual_service(canary: int) -> dict[str, Any]:
    return {"spec": {"http": [{"name": "primary", "route": [
        {"destination": {"host": "reviews-stable"}, "weight": 100 - canary},
        {"destination": {"host": "reviews-canary"}, "weight": canary},
    ]}]}}


def weight(at: float, canary: int) -> Stored:
    return Stored(at, "MODIFIED", "virtualservices", "reviews", virtual_service(canary))


def rollout(at: float, phase: str, *, current: str = NEW_HASH, stable: str = OLD_HASH, abort: bool = False,
            message: str = "") -> Stored:
    status: dict[str, Any] = {"phase": phase, "currentPodHash": current, "stableRS": stable, "message": message}
    if abort:
        status["abort"] = True
    return Stored(at, "MODIFIED", "rollouts", "reviews", {"metadata": {"name": "reviews"}, "status": status})


def run(at: float, *measurements: tuple[str, str], name: str = "reviews-new222-2", owner: str = "reviews",
        kind: str = "MODIFIED") -> Stored:
    body = {
        "metadata": {"name": name, "ownerReferences": [{"kind": "Rollout", "name": owner}]},
        "status": {"metricResults": [{"name": "success-rate", "measurements": [
            {"phase": phase, "value": value, "startedAt": f"2024-01-01T00:00:0{i}Z",
             "finishedAt": f"2024-01-01T00:00:0{i}Z", "message": "" if phase == "Successful" else "too low"}
            for i, (phase, value) in enumerate(measurements)
        ]}]},
    }
    return Stored(at, kind, "analysisruns", name, body)


def progress(scenario: Scenario = GOOD) -> ScenarioProgress:
    started = ScenarioProgress(scenario, "reviews", "reviews-canary", "reviews", started_at=100.0,
                               stable_hash_before=OLD_HASH)
    started.begin({"status": {"phase": "Healthy", "stableRS": OLD_HASH, "currentPodHash": OLD_HASH}},
                  virtual_service(0))
    return started


def test_a_good_version_is_promoted_once_healthy_on_the_new_hash_with_traffic_back_on_stable() -> None:
    shown = progress()
    shown.observe([rollout(100.1, "Progressing"), weight(100.3, 20), rollout(100.3, "Paused"),
                   run(105.0, ("Successful", "[1]")), weight(110.3, 50), weight(120.3, 100)])
    assert not shown.done
    shown.observe([rollout(120.4, "Healthy", stable=NEW_HASH), weight(120.4, 0)])
    assert shown.outcome == "promoted" and shown.done and shown.expected
    assert shown.weight_timeline() == [(0.0, 0), (pytest.approx(0.3), 20), (pytest.approx(10.3), 50),
                                       (pytest.approx(20.3), 100), (pytest.approx(20.4), 0)]
    assert [m.value for m in shown.measurements] == ["1"]
    assert shown.failure_to_stable_seconds is None


def test_healthy_before_the_controller_has_seen_the_new_template_is_not_a_promotion() -> None:
    shown = progress()
    shown.observe([rollout(100.1, "Healthy", current=OLD_HASH)])
    assert shown.outcome is None


def test_a_bad_version_is_aborted_and_the_latency_runs_from_the_failing_measurement_to_weight_zero() -> None:
    shown = progress(BAD)
    shown.observe([weight(100.3, 20), run(100.3, kind="ADDED"), run(104.8, ("Failed", "[0.6231]")),
                   weight(104.85, 0),
                   rollout(104.86, "Degraded", abort=True, message="RolloutAborted: success-rate failed")])
    assert shown.outcome == "aborted" and shown.expected
    assert shown.failure_to_stable_seconds == pytest.approx(0.05)
    assert shown.measurements[0].value == "0.623"
    assert shown.abort_message == "RolloutAborted: success-rate failed"
    assert summary_row(shown, now=200).failure_to_stable == "0.05 s"


def test_an_abort_is_not_done_until_the_canary_weight_is_back_to_zero() -> None:
    shown = progress(BAD)
    shown.observe([weight(100.3, 20), rollout(104.9, "Degraded", abort=True)])
    assert shown.outcome == "aborted" and not shown.done
    shown.observe([weight(105.0, 0)])
    assert shown.done


def test_the_wrong_outcome_is_unexpected() -> None:
    shown = progress(BAD)
    shown.observe([weight(100.3, 20), rollout(130.0, "Healthy", stable=NEW_HASH), weight(130.0, 0)])
    assert shown.outcome == "promoted" and shown.verdict == "unexpected"


def test_a_timeout_is_unexpected_and_names_the_phase_it_stopped_in() -> None:
    shown = progress()
    shown.observe([rollout(100.1, "Paused", message="CanaryPauseStep")])
    shown.timed_out = True
    assert shown.verdict == "unexpected" and shown.result == "timed out (Paused)"


def test_each_measurement_is_noted_once_and_earlier_runs_are_not_noted_again() -> None:
    earlier = run(0, ("Successful", "1"), name="reviews-old-2").object
    shown = ScenarioProgress(GOOD, "reviews", "reviews-canary", "reviews", 100.0, OLD_HASH)
    shown.begin(None, None, [earlier])
    shown.observe([run(101, ("Successful", "1"), name="reviews-old-2")])
    assert shown.measurements == []
    shown.observe([run(105, ("Successful", "1")), run(106, ("Successful", "1")),
                   run(110, ("Successful", "1"), ("Successful", "0.99"))])
    assert [(m.at, m.value) for m in shown.measurements] == [(105, "1"), (110, "0.99")]


def test_runs_of_other_rollouts_are_ignored() -> None:
    shown = progress()
    shown.observe([run(105, ("Failed", "0"), owner="ratings")])
    assert shown.measurements == []


def test_notes_say_what_changed() -> None:
    shown = progress(BAD)
    notes = shown.observe([weight(100.3, 20), run(104.8, ("Failed", "0.6"))])
    assert [n.text for n in notes] == ["canary weight 20 %  (stable 80 %)",
                                       "measurement success-rate = 0.6  Failed: too low"]


def test_canary_weight_is_read_from_the_canary_destination() -> None:
    assert canary_weight(virtual_service(30), "reviews-canary") == 30
    assert canary_weight(virtual_service(30), "ratings-canary") is None


@pytest.mark.parametrize(("value", "shown"), [("[0.9076739987077629]", "0.908"), ("1", "1"), ("[1]", "1"),
                                              ("ok", "ok")])
def test_values_are_shortened(value: str, shown: str) -> None:
    assert format_value(value) == shown


def test_scenarios_are_chosen_by_name() -> None:
    assert scenarios_named("all") == [GOOD, BAD]
    assert scenarios_named("bad") == [BAD]
    with pytest.raises(ValueError, match="unknown scenario"):
        scenarios_named("ugly")


def test_a_timeline_reads_as_time_and_weight() -> None:
    assert describe_timeline([(0.0, 0), (0.34, 20)]) == "t+0.0s: 0 %, t+0.3s: 20 %"
    assert describe_timeline([]) == "no weight change"
