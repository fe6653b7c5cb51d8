"""The notifications benchmark's own arithmetic: the subscription annotations it puts on every Rollout, the ConfigMap
it points at the receiver, how a step is measured, how many notifications were fired, and the verdict's ratios."""

from __future__ import annotations

import pytest

from bench.notifications import (
    expected_notifications,
    notification_configmap,
    p99_ratio,
    step_latencies,
    subscription_annotations,
    verdict,
)


def test_subscription_annotations_follow_argos_subscribe_trigger_service_form() -> None:
    # Argo's notifications docs: notifications.argoproj.io/subscribe.<trigger>.<service>: <recipient>[;<recipient>].
    assert subscription_annotations(["on-rollout-paused", "on-rollout-completed"], "slack", ["a", "b"]) == {
        "notifications.argoproj.io/subscribe.on-rollout-paused.slack": "a;b",
        "notifications.argoproj.io/subscribe.on-rollout-completed.slack": "a;b",
    }


def test_a_webhook_subscription_needs_no_recipient() -> None:
    assert subscription_annotations(["on-rollout-updated"], "bench") == {
        "notifications.argoproj.io/subscribe.on-rollout-updated.bench": ""}


def test_a_subscription_without_a_service_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="service name is empty"):
        subscription_annotations(["on-rollout-updated"], "")


def test_the_configmap_names_a_webhook_service_with_the_receivers_url() -> None:
    configmap = notification_configmap("bench", "http://127.0.0.1:4000")
    assert configmap["metadata"]["name"] == "argo-rollouts-notification-configmap"
    assert configmap["data"] == {"service.webhook.bench": "url: http://127.0.0.1:4000\n"}


@pytest.mark.parametrize(("weights", "expected", "missing"), [
    # Expiry at 10.0; weights stored at 9.0 (before: not the step's), 10.25 (the step's) and 12.0 (a later step).
    ([(9.0, 20), (10.25, 50), (12.0, 80)], [0.25], 0),
    # A weight stored exactly at the expiry counts, with zero latency.
    ([(10.0, 50)], [0.0], 0),
    # No weight after the expiry: the pause is counted as missing, not as a latency.
    ([(9.0, 20)], [], 1),
])
def test_a_step_is_the_pause_expiry_to_the_first_weight_stored_at_or_after_it(
    weights: list[tuple[float, int]], expected: list[float], missing: int,
) -> None:
    assert step_latencies({"r-0000": [(1, 10.0)]}, {"r-0000": weights}) == (expected, missing)


def test_fired_notifications_count_each_occurrence_of_the_subscribed_triggers_reasons() -> None:
    # 2 Rollouts: 2 RolloutUpdated + 12 RolloutStepCompleted + 6 RolloutPaused; TrafficWeightUpdated is no trigger's.
    reasons = {"RolloutUpdated": 2, "RolloutStepCompleted": 12, "RolloutPaused": 6, "TrafficWeightUpdated": 6}
    assert expected_notifications(reasons, ["on-rollout-updated", "on-rollout-step-completed",
                                            "on-rollout-paused", "on-rollout-completed"]) == 20
    assert expected_notifications(reasons, ["on-rollout-paused"]) == 6


@pytest.mark.parametrize(("measured", "reference", "expected"), [
    (1.5, 0.5, 3.0), (0.4, 0.5, 0.8), (None, 0.5, None), (0.5, None, None), (0.5, 0.0, None),
])
def test_p99_ratio_is_the_quotient_or_none_without_a_reference(
    measured: float | None, reference: float | None, expected: float | None,
) -> None:
    assert p99_ratio(measured, reference) == expected


def test_the_verdict_states_each_receivers_p99_against_the_answering_one_and_notifications_off() -> None:
    lines = verdict({"answering": 0.5, "hanging": 0.75, "failing": 0.5, "off": 0.25})
    assert lines == [
        "answering receiver: step p99 500 ms = 1× the answering receiver's, 2× notifications off's",
        "hanging receiver: step p99 750 ms = 1.5× the answering receiver's, 3× notifications off's",
        "failing receiver: step p99 500 ms = 1× the answering receiver's, 2× notifications off's",
    ]
