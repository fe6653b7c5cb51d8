"""Argo Rollouts' default notification triggers under the real controller, delivered to a webhook receiver.

Argo Rollouts fires a trigger when its controller records the Event whose reason the trigger names
(``RolloutPaused`` → ``on-rollout-paused``; ``translateReasonToTrigger`` in ``utils/record/record.go``), for the
destinations subscribed by ``notifications.argoproj.io/subscribe.<trigger>.<service>`` annotations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from kube.object_meta import ObjectKey
from kube.resources import ANALYSIS_TEMPLATES, JOBS
from notifications.defaults import DEFAULT_ROLLOUT_TRIGGERS
from sandbox.webhook_receiver import WebhookReceiver
from tests.notification_checks import notified_keys, pending_about
from tests.rollout_harness import RolloutCluster

JsonObject = dict[str, Any]
TIMEOUT = 60.0  # generous: only an event that never comes fails a test (the suite runs on two busy workers)

# The words of each default template's message, so the receiver can tell the notifications apart (the first that
# matches: a step's message also says "has been completed").
MESSAGES = {
    "on-rollout-step-completed": "step number",
    "on-rollout-updated": "has been updated",
    "on-rollout-paused": "has been paused",
    "on-rollout-completed": "has been completed",
    "on-rollout-aborted": "has been aborted",
    "on-analysis-run-running": "an analysis run is running",
    "on-analysis-run-failed": "an analysis run has failed",
    "on-analysis-run-error": "an analysis run has ended in error",
}


def rollout(name: str, steps: list[JsonObject], triggers: tuple[str, ...] = DEFAULT_ROLLOUT_TRIGGERS) -> JsonObject:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {
            "name": name,
            "annotations": {f"notifications.argoproj.io/subscribe.{trigger}.receiver": "" for trigger in triggers},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "app:1"}]},
            },
            "strategy": {"canary": {"steps": steps}},
        },
    }


def received_by_trigger(receiver: WebhookReceiver, name: str) -> Counter[str]:
    """How many notifications about Rollout ``name`` the receiver took, by the trigger their message shows."""
    counts: Counter[str] = Counter()
    for request in receiver.received():
        if not request.body.startswith((f"Rollout {name} ", f"Rollout {name}:")):
            continue
        for trigger, words in MESSAGES.items():
            if words in request.body:
                counts[trigger] += 1
                break
    return counts


def event_occurrences(cluster: RolloutCluster, namespace: str, reason: str) -> int:
    """How often an Event with ``reason`` was recorded about a Rollout (the analysis controller records its own
    about the AnalysisRun, which notify nobody, as in Argo)."""
    return sum(int(event.get("count") or 1) for event in cluster.events(namespace)
               if event.get("reason") == reason and (event.get("involvedObject") or {}).get("kind") == "Rollout")


def test_each_rollout_trigger_fires_once_per_event_through_an_update_a_pause_and_a_promotion(
    cluster: RolloutCluster, namespace: str, receiver: WebhookReceiver
) -> None:
    name = "notified"
    cluster.apply_all(namespace, [rollout(name, [{"setWeight": 50}, {"pause": {}}])])
    cluster.wait_for_phase(namespace, name, "Healthy")
    cluster.set_image(namespace, name, "app:2")
    cluster.wait_for_phase(namespace, name, "Paused", timeout=TIMEOUT)
    cluster.promote(namespace, name)
    cluster.wait_for_phase(namespace, name, "Healthy", timeout=TIMEOUT)
    # By hand: revision 1 (the creation) and revision 2 (app:2) are updates (2); setWeight 50 is done, then the pause
    # step is done on promotion (2); one pause (1); revisions 1 and 2 complete (2).
    expected = {"on-rollout-updated": 2, "on-rollout-step-completed": 2, "on-rollout-paused": 1,
                "on-rollout-completed": 2}
    assert receiver.wait_for(lambda r: received_by_trigger(r, name) == expected, TIMEOUT), (
        f"received {dict(received_by_trigger(receiver, name))}, expected {expected}; "
        f"events: {[(e.get('reason'), e.get('count')) for e in cluster.events(namespace)]}"
    )
    # Each step's notification shows the Rollout as its Event saw it: the step that was completed.
    steps = sorted(request.body for request in receiver.received()
                   if request.body.startswith(f"Rollout {name} step number"))
    assert steps == [f"Rollout {name} step number 1/2 has been completed.",
                     f"Rollout {name} step number 2/2 has been completed."]
    for trigger, reason in (("on-rollout-updated", "RolloutUpdated"), ("on-rollout-step-completed",
                             "RolloutStepCompleted"), ("on-rollout-paused", "RolloutPaused"),
                            ("on-rollout-completed", "RolloutCompleted")):
        assert expected[trigger] == event_occurrences(cluster, namespace, reason), reason
    # Argo Rollouts' notification_send_success{namespace,name,type,reason}, counted once per delivery.
    registry = cluster.controller.metrics.registry
    assert registry.get_sample_value("notification_send_success", {
        "namespace": namespace, "name": name, "type": "Normal", "reason": "RolloutStepCompleted"}) == 2


def refused_by_trigger(receiver: WebhookReceiver, name: str) -> set[str]:
    """The triggers of the notifications about Rollout ``name`` the receiver refused (attempted, not taken)."""
    found: set[str] = set()
    for request in receiver.refused_requests():
        if request.body.startswith((f"Rollout {name} ", f"Rollout {name}:")):
            found.add(next((trigger for trigger, words in MESSAGES.items() if words in request.body), "?"))
    return found


SMOKE_JOB = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
    {"name": "smoke", "image": "busybox", "command": ["sh", "-c", "exit 1"]}]}}}
# Nothing listens on the discard port of the loopback interface: every measurement is a refused connection.
PROBE_METRIC = {"name": "probe", "consecutiveErrorLimit": 0,
                "provider": {"web": {"url": "http://127.0.0.1:9/health", "jsonPath": "{$.ok}"}}}


def test_every_rollout_trigger_is_sent_after_a_restart_and_not_again_after_another(
    cluster: RolloutCluster, namespace: str, receiver: WebhookReceiver
) -> None:
    """The state key is recorded on the Rollout only once the destination took the notification: a controller
    stopped before the delivery sends it after its restart (the Events are still there), and one restarted after it
    sends nothing again — for each of Argo Rollouts' eight default triggers, fired by three Rollouts at once."""
    cluster.create(ANALYSIS_TEMPLATES, namespace, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "smoke"},
        "spec": {"metrics": [{"name": "smoke", "provider": {"job": {"spec": SMOKE_JOB}}}]}})
    cluster.create(ANALYSIS_TEMPLATES, namespace, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "probe"},
        "spec": {"metrics": [PROBE_METRIC]}})
    # By hand. "rs-steps": revision 1 (the creation) and revision 2 (app:2) are updates (2); revision 1 completes
    # (1); setWeight 50 is done (1); the pause (1); the abort (1). "rs-failed": its analysis step's run runs (1),
    # then fails (1). "rs-erring": its run ends in Error at its first measurement (1).
    expected = {
        "rs-steps": {"on-rollout-updated": 2, "on-rollout-completed": 1, "on-rollout-step-completed": 1,
                     "on-rollout-paused": 1, "on-rollout-aborted": 1},
        "rs-failed": {"on-analysis-run-running": 1, "on-analysis-run-failed": 1},
        "rs-erring": {"on-analysis-run-error": 1},
    }
    assert set().union(*expected.values()) == set(DEFAULT_ROLLOUT_TRIGGERS)
    analysis = {"rs-failed": "smoke", "rs-erring": "probe"}
    # The destination refuses until the restart: every notification is attempted, none delivered or recorded.
    receiver.status = 503
    try:
        cluster.apply_all(namespace, [rollout("rs-steps", [{"setWeight": 50}, {"pause": {}}])] + [
            rollout(name, [{"setWeight": 50}, {"analysis": {"templates": [{"templateName": template}]}}],
                    tuple(expected[name])) for name, template in analysis.items()])
        for name in expected:
            cluster.wait_for_phase(namespace, name, "Healthy", timeout=TIMEOUT)
        for name in expected:
            cluster.set_image(namespace, name, "app:2")
        cluster.wait_for_phase(namespace, "rs-steps", "Paused", timeout=TIMEOUT)
        cluster.abort(namespace, "rs-steps")
        # The test plays the smoke Job's outcome (the sandbox runs no containers): it fails, and so does the run.
        found = cluster.wait_for(lambda: next(iter(cluster.list(JOBS, namespace)), None), "the run's Job")
        cluster.patch(JOBS, namespace, found["metadata"]["name"],
                      {"status": {"conditions": [{"type": "Failed", "status": "True"}]}}, subresource="status")
        for name in expected:
            cluster.wait_for_phase(namespace, name, "Degraded", timeout=TIMEOUT)
        for name, triggers in expected.items():
            attempted = refused_of(name, set(triggers))
            assert receiver.wait_for(attempted, TIMEOUT), (name, refused_by_trigger(receiver, name))
            assert notified_state(cluster, namespace, name) == {}, name
        cluster.restart_controller()
    finally:
        receiver.status = 200
    for name, triggers in expected.items():
        assert receiver.wait_for(received_of(name, triggers), TIMEOUT), (name, dict(received_by_trigger(receiver,
                                                                                                         name)))
        cluster.wait_for(records_reach(cluster, namespace, name, sum(triggers.values())), f"{name}'s records")
    cluster.restart_controller()
    # The new process looks at each Rollout and its Events (a pass after the mark) and offers nothing.
    notifier = cluster.controller_thread.operator.notifications[0]
    cluster.controller_thread.resync_and_wait(notifier.runner, [ObjectKey(namespace, name) for name in expected],
                                              TIMEOUT)
    for name in expected:
        assert not pending_about(notifier, ObjectKey(namespace, name)), name
    assert notifier.delivery.delivered == 0
    assert {name: dict(received_by_trigger(receiver, name)) for name in expected} == expected


def records_reach(cluster: RolloutCluster, namespace: str, name: str, count: int) -> Callable[[], bool]:
    return lambda: len(notified_state(cluster, namespace, name)) == count


def refused_of(name: str, triggers: set[str]) -> Callable[[WebhookReceiver], bool]:
    return lambda receiver: triggers <= refused_by_trigger(receiver, name)


def received_of(name: str, triggers: dict[str, int]) -> Callable[[WebhookReceiver], bool]:
    return lambda receiver: received_by_trigger(receiver, name) == triggers


def notified_state(cluster: RolloutCluster, namespace: str, name: str) -> dict[str, int]:
    return notified_keys(cluster.rollout(namespace, name))


def test_a_hanging_destination_does_not_hold_the_rollout_back(
    cluster: RolloutCluster, namespace: str, receiver: WebhookReceiver
) -> None:
    name = "unheld"
    cluster.apply_all(namespace, [rollout(name, [{"setWeight": 50}, {"setWeight": 75}])])
    cluster.wait_for_phase(namespace, name, "Healthy")
    assert receiver.wait_for(lambda r: received_by_trigger(r, name)["on-rollout-completed"] == 1, TIMEOUT)
    before = received_by_trigger(receiver, name)
    receiver.hold()
    try:
        cluster.set_image(namespace, name, "app:2")
        assert receiver.wait_for(lambda r: r.held >= 1, TIMEOUT), "no notification reached the receiver"
        # The update runs all its steps to the end while the destination still has not answered.
        cluster.wait_for_phase(namespace, name, "Healthy", timeout=TIMEOUT)
        assert cluster.status(namespace, name).get("currentStepIndex") == 2
        assert receiver.held >= 1
        assert received_by_trigger(receiver, name) == before
    finally:
        receiver.release()
    # Then everything the update fired arrives: its update, its two steps and its completion.
    assert receiver.wait_for(lambda r: received_by_trigger(r, name)["on-rollout-completed"] >= 2, TIMEOUT)
    assert receiver.wait_for(lambda r: received_by_trigger(r, name)["on-rollout-step-completed"] >= 2, TIMEOUT)
    # The update's own notification was the one held: its attempt timed out and waits for its retry, so it may
    # arrive after the others.
    assert receiver.wait_for(lambda r: received_by_trigger(r, name)["on-rollout-updated"] >= 2, TIMEOUT)


def test_an_abort_fires_on_rollout_aborted_once(
    cluster: RolloutCluster, namespace: str, receiver: WebhookReceiver
) -> None:
    name = "aborted"
    cluster.apply_all(namespace, [rollout(name, [{"setWeight": 50}, {"pause": {}}], ("on-rollout-aborted",))])
    cluster.wait_for_phase(namespace, name, "Healthy")
    cluster.set_image(namespace, name, "app:2")
    cluster.wait_for_phase(namespace, name, "Paused", timeout=TIMEOUT)
    cluster.abort(namespace, name)
    cluster.wait_for_phase(namespace, name, "Degraded", timeout=TIMEOUT)
    assert receiver.wait_for(lambda r: received_by_trigger(r, name)["on-rollout-aborted"] == 1, TIMEOUT)
    cluster.wait_for(lambda: len(notified_state(cluster, namespace, name)) == 1, "the abort recorded")
    # Looked at again (a pass after the record), nothing more is offered; the other triggers were not subscribed.
    notifier = cluster.controller_thread.operator.notifications[0]
    cluster.controller_thread.resync_and_wait(notifier.runner, [ObjectKey(namespace, name)], TIMEOUT)
    assert not pending_about(notifier, ObjectKey(namespace, name))
    assert dict(received_by_trigger(receiver, name)) == {"on-rollout-aborted": 1}
    assert event_occurrences(cluster, namespace, "RolloutAborted") == 1


def test_a_failing_analysis_step_fires_analysis_run_running_then_failed_once_each(
    cluster: RolloutCluster, namespace: str, receiver: WebhookReceiver
) -> None:
    name = "analysed"
    container = {"name": "smoke", "image": "busybox", "command": ["sh", "-c", "exit 1"]}
    job = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    cluster.create(ANALYSIS_TEMPLATES, namespace, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "smoke"},
        "spec": {"metrics": [{"name": "smoke", "provider": {"job": {"spec": job}}}]},
    })
    steps = [{"setWeight": 50}, {"analysis": {"templates": [{"templateName": "smoke"}]}}]
    triggers = ("on-analysis-run-running", "on-analysis-run-failed", "on-analysis-run-error")
    cluster.apply_all(namespace, [rollout(name, steps, triggers)])
    cluster.wait_for_phase(namespace, name, "Healthy", timeout=TIMEOUT)
    cluster.set_image(namespace, name, "app:2")
    assert receiver.wait_for(lambda r: received_by_trigger(r, name)["on-analysis-run-running"] == 1, TIMEOUT)
    # The test plays the Job's outcome (the sandbox runs no containers): it fails, and so does the run.
    found = cluster.wait_for(lambda: next(iter(cluster.list(JOBS, namespace)), None), "the run's Job")
    cluster.patch(JOBS, namespace, found["metadata"]["name"],
                  {"status": {"conditions": [{"type": "Failed", "status": "True"}]}}, subresource="status")
    cluster.wait_for_phase(namespace, name, "Degraded", timeout=TIMEOUT)
    assert receiver.wait_for(lambda r: received_by_trigger(r, name)["on-analysis-run-failed"] == 1, TIMEOUT)
    cluster.wait_for(lambda: len(notified_state(cluster, namespace, name)) == 2, "both recorded")
    assert dict(received_by_trigger(receiver, name)) == {"on-analysis-run-running": 1, "on-analysis-run-failed": 1}
    assert event_occurrences(cluster, namespace, "AnalysisRunRunning") == 1
    assert event_occurrences(cluster, namespace, "AnalysisRunFailed") == 1


def test_an_erring_analysis_step_fires_analysis_run_error_once(
    cluster: RolloutCluster, namespace: str, receiver: WebhookReceiver
) -> None:
    """Argo Rollouts records ``AnalysisRunError`` when a step's run ends in Error (``consecutiveErrorLimit: 0``: the
    first erring measurement ends the run, Argo's ``ConsecutiveError > limit``), which fires on-analysis-run-error."""
    name = "erring"
    # Nothing listens on the discard port of the loopback interface: every measurement is a refused connection.
    metric = {"name": "probe", "consecutiveErrorLimit": 0,
              "provider": {"web": {"url": "http://127.0.0.1:9/health", "jsonPath": "{$.ok}"}}}
    cluster.create(ANALYSIS_TEMPLATES, namespace, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "probe"},
        "spec": {"metrics": [metric]},
    })
    steps: list[JsonObject] = [{"setWeight": 50}, {"analysis": {"templates": [{"templateName": "probe"}]}}]
    cluster.apply_all(namespace, [rollout(name, steps, ("on-analysis-run-error",))])
    cluster.wait_for_phase(namespace, name, "Healthy")
    cluster.set_image(namespace, name, "app:2")
    # By hand: one update, one analysis step, one run, which errs once and for all: one Event, one notification.
    cluster.wait_for_phase(namespace, name, "Degraded", timeout=TIMEOUT)
    assert receiver.wait_for(lambda r: received_by_trigger(r, name)["on-analysis-run-error"] == 1, TIMEOUT)
    cluster.wait_for(lambda: len(notified_state(cluster, namespace, name)) == 1, "the error recorded")
    notifier = cluster.controller_thread.operator.notifications[0]
    cluster.controller_thread.resync_and_wait(notifier.runner, [ObjectKey(namespace, name)], TIMEOUT)
    assert not pending_about(notifier, ObjectKey(namespace, name))
    assert dict(received_by_trigger(receiver, name)) == {"on-analysis-run-error": 1}
    assert event_occurrences(cluster, namespace, "AnalysisRunError") == 1
