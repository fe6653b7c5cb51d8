"""Carrying out a Plan and reconciling with it: order, first failure ends the pass, retries, wake-ups, metrics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from kube.client import AsyncKubeClient
from kube.controller_runner import TRANSIENT_RETRY_SECONDS, ControllerRunner, RunnerOptions
from kube.errors import ApiError, Conflict, NotFound, Unreachable
from kube.events import EventRecorder
from kube.resources import CRDS, REPLICASETS, ROLLOUTS, SERVICES, ResourceKind
from kube.work_queue import WorkQueue
from rollouts.controller.cache import ObjectCache, RolloutKey
from rollouts.controller.executor import PlanExecutor
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.reconciler import MAX_ROUNDS, Reconciler
from rollouts.plan import Create, Delete, Event, Patch, Plan
from rollouts.snapshot import RolloutSnapshot

NOW = datetime(2026, 1, 1, tzinfo=UTC)
KEY = RolloutKey("shop", "reviews")


class FakeClient:
    """Records calls; answers with the body (plus a resourceVersion), or raises what it is told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None, Any]] = []
        self.failures: dict[tuple[str, str], Exception] = {}
        self.version = 100

    def _answer(self, verb: str, kind: ResourceKind, name: str, body: Any, subresource: str | None = None) -> Any:
        self.calls.append((verb, kind.plural, subresource, body))
        failure = self.failures.get((verb, kind.plural))
        if failure is not None:
            raise failure
        self.version += 1
        answer = dict(body) if isinstance(body, dict) else {}
        metadata = {"name": name, "namespace": "shop", "uid": f"uid-{name}", **(answer.get("metadata") or {})}
        metadata["resourceVersion"] = str(self.version)
        return {**answer, "metadata": metadata}

    async def create(self, kind: ResourceKind, namespace: str | None, body: Any) -> Any:
        return self._answer("create", kind, body["metadata"].get("name", ""), body)

    async def patch(self, kind: ResourceKind, namespace: str | None, name: str, patch: Any, *,
                    patch_type: str = "merge", subresource: str | None = None) -> Any:
        return self._answer("patch", kind, name, patch, subresource)

    async def delete(self, kind: ResourceKind, namespace: str | None, name: str, *,
                     propagation: str | None = None) -> None:
        self._answer("delete", kind, name, None)

    def writes(self) -> list[tuple[str, str, str | None]]:
        return [(verb, plural, sub) for verb, plural, sub, _ in self.calls if plural != "events"]


def rollout(rv: str = "7") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "reviews", "namespace": "shop", "uid": "ro-1", "resourceVersion": rv, "generation": 1},
        "spec": {"replicas": 3, "strategy": {"canary": {}}},
    }


def make(client: FakeClient, metrics: ControllerMetrics | None = None) -> tuple[PlanExecutor, ObjectCache]:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    fake = cast(AsyncKubeClient, client)
    return PlanExecutor(fake, cache, EventRecorder(fake, metrics or ControllerMetrics())), cache


WRITES = (
    Create(REPLICASETS, "shop", {"metadata": {"name": "reviews-abc"}}),
    Patch(SERVICES, "shop", "reviews-canary", {"spec": {"selector": {"x": "y"}}}),
    Delete(REPLICASETS, "shop", "reviews-old"),
)


async def test_a_pass_writes_its_objects_then_its_status_then_its_events() -> None:
    client = FakeClient()
    plans = iter([Plan(writes=WRITES, status_patch={"phase": "Progressing"}, events=(Event("Normal", "A", "a"),))])
    runner, _, _, _ = reconciler_for(lambda snapshot: next(plans, Plan()), client)

    await runner.process(KEY)
    await asyncio.sleep(0)  # let the event task run

    assert runner.passes.errors == 0
    assert client.writes() == [
        ("create", "replicasets", None),
        ("patch", "services", None),
        ("delete", "replicasets", None),
        ("patch", "rollouts", "status"),
    ]
    status_body = client.calls[3][3]
    assert status_body == {"status": {"phase": "Progressing"}, "metadata": {"resourceVersion": "7"}}
    assert [call[1] for call in client.calls[4:]] == ["events"]


async def test_writes_are_remembered_in_the_cache() -> None:
    client = FakeClient()
    executor, cache = make(client)
    await executor.write(rollout(), Plan(writes=WRITES))
    assert cache.get(REPLICASETS, "shop", "reviews-abc") is not None


async def test_the_first_failed_write_ends_the_writes() -> None:
    client = FakeClient()
    client.failures[("patch", "services")] = ApiError(422, "Invalid", "bad selector")
    executor, _ = make(client)

    outcome = await executor.write(rollout(), Plan(writes=WRITES))

    assert not outcome.succeeded and not outcome.transient
    assert outcome.writes == 1
    assert "patch Service shop/reviews-canary" in outcome.failed_write
    assert client.writes() == [("create", "replicasets", None), ("patch", "services", None)]


async def test_a_pass_whose_write_failed_writes_no_status_and_announces_nothing() -> None:
    client = FakeClient()
    client.failures[("patch", "services")] = ApiError(422, "Invalid", "bad selector")
    plan = Plan(writes=WRITES, status_patch={"phase": "Progressing"}, events=(Event("Normal", "A", "a"),))
    runner, _, _, _ = reconciler_for(lambda snapshot: plan, client)

    await runner.process(KEY)
    await asyncio.sleep(0)

    assert runner.passes.errors == 1
    assert client.writes() == [("create", "replicasets", None), ("patch", "services", None)]
    assert not any(call[1] == "events" for call in client.calls)  # what did not happen is not announced


async def test_a_conflict_is_transient() -> None:
    client = FakeClient()
    client.failures[("create", "replicasets")] = Conflict(409, "AlreadyExists", "exists")
    executor, _ = make(client)
    outcome = await executor.write(rollout(), Plan(writes=WRITES))
    assert outcome.transient


async def test_deleting_what_is_already_gone_succeeds() -> None:
    client = FakeClient()
    client.failures[("delete", "replicasets")] = NotFound(404, "NotFound", "gone")
    executor, _ = make(client)
    outcome = await executor.write(rollout(), Plan(writes=(WRITES[2],)))
    assert outcome.succeeded


async def test_a_cluster_scoped_create_that_fails_is_an_outcome_not_a_crash() -> None:
    client = FakeClient()
    client.failures[("create", "customresourcedefinitions")] = NotFound(404, "NotFound", "no such namespace")
    executor, _ = make(client)
    outcome = await executor.write(rollout(), Plan(writes=(Create(CRDS, "shop", {"metadata": {"name": "x"}}),)))
    assert outcome.transient
    assert client.calls[0][:2] == ("create", "customresourcedefinitions")


async def test_a_status_patch_after_a_patch_of_the_rollout_is_conditional_on_its_new_version() -> None:
    client = FakeClient()
    executor, _ = make(client)
    spec_patch = Patch(ROLLOUTS, "shop", "reviews", {"spec": {"replicas": 1}})
    written = await executor.write(rollout(), Plan(writes=(spec_patch,)))
    await executor.write_status(rollout(), {"a": 1}, written.resource_version)
    spec_answer_version = "101"
    assert written.resource_version == spec_answer_version
    assert client.calls[1][3]["metadata"] == {"resourceVersion": spec_answer_version}


async def test_a_failed_event_post_is_counted_not_raised() -> None:
    client = FakeClient()
    client.failures[("create", "events")] = Unreachable("down")
    metrics = ControllerMetrics()
    executor, _ = make(client, metrics)
    executor.announce(rollout(), (Event("Warning", "RolloutAborted", "why"),))
    await executor._events.drain()
    assert executor._events.failures == 1
    assert metrics.registry.get_sample_value(
        "rollout_events_total", {"namespace": "shop", "name": "reviews", "type": "Warning", "reason": "RolloutAborted"}
    ) == 1


# -- the reconciler --------------------------------------------------------------------------------------


def reconciler_for(
    decide: Any, client: FakeClient | None = None, backoff_base: float = 2, cache: ObjectCache | None = None
) -> tuple[ControllerRunner[RolloutKey], WorkQueue[RolloutKey], ControllerMetrics, FakeClient]:
    """The Reconciler behind the runner the controller uses (its passes called directly, as a worker would)."""
    client = client or FakeClient()
    if cache is None:
        executor, cache = make(client)
    else:
        executor = PlanExecutor(cast(AsyncKubeClient, client), cache, EventRecorder(cast(AsyncKubeClient, client)))
    metrics = ControllerMetrics()
    reconciler = Reconciler(cache=cache, executor=executor, metrics=metrics, decide=decide, clock=lambda: NOW)
    runner = ControllerRunner(
        RunnerOptions("rollout", 1, backoff_base=backoff_base, backoff_max=60),
        reconciler.reconcile, cache.rollout_keys, metrics,
    )
    return runner, runner.queue, metrics, client


def seconds_until(queue: WorkQueue[RolloutKey]) -> float | None:
    when = queue.scheduled(KEY)
    return None if when is None else when - asyncio.get_running_loop().time()


async def test_a_plan_with_nothing_to_do_writes_nothing_and_schedules_nothing() -> None:
    seen: list[RolloutSnapshot] = []

    def decide(snapshot: RolloutSnapshot) -> Plan:
        seen.append(snapshot)
        return Plan()

    runner, queue, metrics, client = reconciler_for(decide)
    await runner.process(KEY)
    assert client.calls == []
    assert queue.scheduled(KEY) is None
    assert seen[0].now == NOW and seen[0].rollout["metadata"]["name"] == "reviews"
    assert metrics.registry.get_sample_value("rollout_reconcile_count", {"namespace": "shop", "name": "reviews"}) == 1


@pytest.mark.looptime
async def test_requeue_after_schedules_a_wake_up() -> None:
    runner, queue, _, client = reconciler_for(lambda s: Plan(requeue_after=42))
    await runner.process(KEY)
    assert client.calls == []
    assert seconds_until(queue) == pytest.approx(42, abs=0.01)


@pytest.mark.looptime
async def test_a_bug_in_decide_is_counted_and_retried_with_backoff() -> None:
    def decide(snapshot: RolloutSnapshot) -> Plan:
        raise ZeroDivisionError("oops")

    runner, queue, metrics, _ = reconciler_for(decide)
    await runner.process(KEY)
    assert seconds_until(queue) == pytest.approx(2, abs=0.01)
    queue.discard(KEY)
    await runner.process(KEY)
    assert seconds_until(queue) == pytest.approx(2, abs=0.01)  # discard reset the failures
    assert metrics.registry.get_sample_value("rollout_reconcile_error", {"namespace": "shop", "name": "reviews"}) == 2


@pytest.mark.looptime
async def test_a_conflict_retries_soon_without_counting_an_error() -> None:
    client = FakeClient()
    client.failures[("patch", "rollouts")] = Conflict(409, "Conflict", "stale")
    plan = Plan(status_patch={"phase": "Healthy"})
    runner, queue, metrics, _ = reconciler_for(lambda s: plan, client, backoff_base=0.25)
    delays = []
    for _ in range(5):
        await runner.process(KEY)
        delay = seconds_until(queue)
        assert delay is not None
        delays.append(delay)
        await asyncio.sleep(delay + 0.01)  # the wake-up fires and queues the key: take it, as a worker would
        queue.done(await queue.get())
    assert delays == pytest.approx([TRANSIENT_RETRY_SECONDS] * 3 + [2, 4], abs=0.01)  # soon, then backing off
    errors = metrics.registry.get_sample_value("rollout_reconcile_error", {"namespace": "shop", "name": "reviews"})
    assert errors is None


@pytest.mark.looptime
async def test_other_write_errors_back_off_and_count() -> None:
    client = FakeClient()
    client.failures[("patch", "rollouts")] = ApiError(500, "InternalError", "boom")
    runner, queue, metrics, _ = reconciler_for(lambda s: Plan(status_patch={"phase": "Healthy"}), client)
    await runner.process(KEY)
    assert seconds_until(queue) == pytest.approx(2, abs=0.01)
    assert metrics.registry.get_sample_value("rollout_reconcile_error", {"namespace": "shop", "name": "reviews"}) == 1


async def test_a_deleted_rollout_loses_its_series_and_timers() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    runner, queue, metrics, _ = reconciler_for(
        lambda s: Plan(requeue_after=30, status={"phase": "Healthy"}), cache=cache
    )
    await runner.process(KEY)
    assert metrics.registry.get_sample_value("rollout_info_replicas_desired", {"namespace": "shop", "name": "reviews"})
    cache.observe(ROLLOUTS, "DELETED", rollout())
    await runner.process(KEY)
    assert queue.scheduled(KEY) is None
    assert metrics.registry.get_sample_value(
        "rollout_info_replicas_desired", {"namespace": "shop", "name": "reviews"}
    ) is None


async def test_a_repeated_event_bumps_the_count_of_the_first() -> None:
    client = FakeClient()
    recorder = EventRecorder(cast(AsyncKubeClient, client), ControllerMetrics())
    missing = Event("Warning", "InvalidSpec", "Service reviews-canary not found")
    for _ in range(3):
        recorder.emit(rollout(), missing)
    recorder.emit(rollout(), Event("Warning", "InvalidSpec", "another message"))
    await recorder.drain()

    creates = [body for verb, _, _, body in client.calls if verb == "create"]
    patches = [body for verb, _, _, body in client.calls if verb == "patch"]
    assert [body["message"] for body in creates] == ["Service reviews-canary not found", "another message"]
    # The two repeats came within one series interval of the post: one write carries both.
    assert [patch["count"] for patch in patches] == [3]
    assert patches[0]["series"]["count"] == 3
    assert all("lastTimestamp" in patch and "lastObservedTime" in patch["series"] for patch in patches)


class SlowFirstPost(FakeClient):
    """The API server answers the first Event post after the ones behind it (a slow connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.posts = 0

    async def create(self, kind: ResourceKind, namespace: str | None, body: Any) -> Any:
        self.posts += 1
        if self.posts == 1:
            for _ in range(5):
                await asyncio.sleep(0)
        return await super().create(kind, namespace, body)


async def test_events_about_one_rollout_are_posted_in_the_order_they_happened() -> None:
    """Notification triggers and alerts read Events in order: Argo's recorder posts them one after another, so
    ScalingReplicaSet (the canary scaled down) comes before RolloutAborted."""
    client = SlowFirstPost()
    recorder = EventRecorder(cast(AsyncKubeClient, client), ControllerMetrics())
    recorder.emit(rollout(), Event("Normal", "ScalingReplicaSet", "Scaled down ReplicaSet reviews-abc from 1 to 0"))
    recorder.emit(rollout(), Event("Warning", "RolloutAborted", "Rollout aborted update to revision 2"))
    await recorder.drain()

    posted = [body["reason"] for verb, _, _, body in client.calls if verb == "create"]
    assert posted == ["ScalingReplicaSet", "RolloutAborted"]


def test_event_bodies_follow_core_v1() -> None:
    recorder = EventRecorder(cast(AsyncKubeClient, FakeClient()), ControllerMetrics())
    body = recorder.event_body(rollout(), Event("Normal", "RolloutStepCompleted", "Rollout step 1/6 completed"), NOW)
    assert body["involvedObject"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "reviews",
        "namespace": "shop",
        "uid": "ro-1",
        "resourceVersion": "7",
    }
    assert body["source"] == {"component": "rollouts-controller"}
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2026-01-01T00:00:00Z"
    assert body["count"] == 1 and body["type"] == "Normal"
    other = recorder.event_body(rollout(), Event("Normal", "X", "y"), NOW)
    assert body["metadata"]["name"].startswith("reviews.")
    assert body["metadata"]["name"] != other["metadata"]["name"]


# -- less work per step: one status patch per pass, nothing sent that would change nothing -----------------


async def test_a_pass_that_changes_several_status_fields_sends_one_status_patch() -> None:
    """Argo persists a reconcile's fresh status as one merge patch: step index, weights, pause and conditions
    changed together are one request."""
    client = FakeClient()
    executor, _ = make(client)
    status_patch = {
        "currentStepIndex": 2,
        "canary": {"weights": {"canary": {"weight": 50}, "stable": {"weight": 50}}},
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}],
        "message": "CanaryPauseStep",
    }

    outcome = await executor.write_status(rollout(), status_patch)

    assert outcome.succeeded
    assert client.writes() == [("patch", "rollouts", "status")]
    assert client.calls[0][3]["status"] == status_patch


def stored_rollout() -> dict[str, Any]:
    return {**rollout("8"), "status": {"currentStepIndex": 2, "phase": "Paused", "canary": {"weights": {"canary": {
        "weight": 50}}}}}


async def test_a_status_patch_equal_to_the_stored_status_is_not_sent() -> None:
    client = FakeClient()
    executor, cache = make(client)
    cache.observe(ROLLOUTS, None, stored_rollout())

    status_patch = {"currentStepIndex": 2, "canary": {"weights": {"canary": {"weight": 50}}}}
    outcome = await executor.write_status(stored_rollout(), status_patch)

    assert outcome.succeeded and outcome.writes == 0
    assert client.writes() == []


async def test_a_status_patch_that_removes_a_field_is_sent() -> None:
    client = FakeClient()
    executor, cache = make(client)
    cache.observe(ROLLOUTS, None, stored_rollout())

    await executor.write_status(stored_rollout(), {"phase": None})

    assert client.writes() == [("patch", "rollouts", "status")]


SERVICE = {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "reviews-canary", "namespace": "shop", "uid": "svc-1", "resourceVersion": "3"},
    "spec": {"selector": {"app": "reviews", "rollouts-pod-template-hash": "abc"}, "ports": [{"port": 80}]},
}


@pytest.mark.parametrize(
    ("patch", "sent"),
    [
        ({"spec": {"selector": {"rollouts-pod-template-hash": "abc"}}}, False),
        ({"spec": {"selector": {"rollouts-pod-template-hash": "def"}}}, True),
        ({"spec": {"selector": {"missing": None}}}, False),
        ({"spec": {"selector": {"app": None}}}, True),
        ({"spec": {"ports": [{"port": 80}]}}, False),
        ({"spec": {"ports": [{"port": 8080}]}}, True),
        ({"metadata": {"annotations": {"a": "b"}}}, True),
    ],
)
async def test_a_patch_is_sent_only_when_it_changes_the_stored_object(patch: dict[str, Any], sent: bool) -> None:
    client = FakeClient()
    executor, cache = make(client)
    cache.observe(SERVICES, None, SERVICE)

    outcome = await executor.write(rollout(), Plan(writes=(Patch(SERVICES, "shop", "reviews-canary", patch),)))

    assert outcome.succeeded
    assert client.writes() == ([("patch", "services", None)] if sent else [])


async def test_an_object_not_in_the_cache_is_patched() -> None:
    client = FakeClient()
    executor, _ = make(client)
    patch = Patch(SERVICES, "shop", "reviews-canary", {"spec": {"selector": {"x": "y"}}})
    await executor.write(rollout(), Plan(writes=(patch,)))
    assert client.writes() == [("patch", "services", None)]


async def test_one_transition_announces_each_event_once() -> None:
    client = FakeClient()
    executor, _ = make(client)
    completed = Event("Normal", "RolloutStepCompleted", "Rollout step 1/6 completed (setWeight: 20)")

    executor.announce(rollout(), (completed, completed))
    await executor._events.drain()

    posted = [body["reason"] for verb, plural, _, body in client.calls if plural == "events"]
    assert posted == ["RolloutStepCompleted"]


def following(decide: Any) -> tuple[Reconciler, list[RolloutKey], FakeClient]:
    client = FakeClient()
    executor, cache = make(client)
    followed: list[RolloutKey] = []
    reconciler = Reconciler(cache=cache, executor=executor, metrics=ControllerMetrics(), decide=decide,
                            clock=lambda: NOW, follow_up=followed.append)
    return reconciler, followed, client


def stepping(last_step: int, *, write_at: int | None = None) -> Any:
    """A decision that moves ``status.currentStepIndex`` one step per call up to ``last_step`` (each step announced
    by an Event), patching the canary Service too when it reaches ``write_at``."""

    def decide(snapshot: RolloutSnapshot) -> Plan:
        step = (snapshot.rollout.get("status") or {}).get("currentStepIndex", 0)
        if step >= last_step:
            return Plan(requeue_after=30)
        writes = (WRITES[1],) if step + 1 == write_at else ()
        return Plan(writes=writes, status_patch={"currentStepIndex": step + 1},
                    events=(Event("Normal", "RolloutStepCompleted", f"step {step + 1}"),))

    return decide


def status_patches(client: FakeClient) -> list[Any]:
    return [body["status"] for verb, plural, sub, body in client.calls if sub == "status"]


async def test_a_pass_that_wrote_decides_again_and_asks_for_no_follow_up_once_nothing_is_left() -> None:
    """A chain "complete a step → enter the next" is one pass: the second decision is made from the first's
    outcome, and the last one finds nothing to do, so no follow-up pass is needed."""
    reconciler, followed, client = following(stepping(2))
    assert await reconciler.reconcile(KEY) == 30
    assert followed == []
    assert status_patches(client) == [{"currentStepIndex": 2}]


async def test_the_status_changes_of_consecutive_rounds_are_one_patch_and_their_events_follow_it() -> None:
    reconciler, _, client = following(stepping(2))
    await reconciler.reconcile(KEY)
    await reconciler.executor._events.drain()
    assert client.writes() == [("patch", "rollouts", "status")]
    posted = [body["message"] for verb, plural, _, body in client.calls if plural == "events"]
    assert posted == ["step 1", "step 2"]


async def test_a_held_status_is_written_before_a_later_rounds_write() -> None:
    """The cluster never holds a later write beside a status older than the one decided before it: the status of
    step 1 is stored before the Service patch of step 2."""
    reconciler, _, client = following(stepping(3, write_at=2))
    await reconciler.reconcile(KEY)
    assert client.writes() == [("patch", "rollouts", "status"), ("patch", "services", None),
                               ("patch", "rollouts", "status")]
    assert status_patches(client) == [{"currentStepIndex": 1}, {"currentStepIndex": 3}]


async def test_a_pass_whose_last_round_still_wrote_asks_for_one_follow_up_pass() -> None:
    """Rounds are bounded (MAX_ROUNDS): the chain goes on in a pass of its own, queued by the pass."""
    reconciler, followed, client = following(stepping(MAX_ROUNDS + 2))
    await reconciler.reconcile(KEY)
    assert followed == [KEY]
    assert status_patches(client) == [{"currentStepIndex": MAX_ROUNDS}]


async def test_a_round_that_changes_nothing_ends_the_pass() -> None:
    """A decision that repeats a write already made (the executor skips it) and a status already held is the
    cluster's state: deciding again would say the same."""
    calls: list[int] = []
    plan = Plan(writes=(WRITES[1],), status_patch={"currentStepIndex": 1})

    def decide(snapshot: RolloutSnapshot) -> Plan:
        calls.append(1)
        return plan

    reconciler, followed, client = following(decide)
    await reconciler.reconcile(KEY)
    assert len(calls) == 2 and followed == []
    assert client.writes() == [("patch", "services", None), ("patch", "rollouts", "status")]


async def test_a_pass_that_wrote_nothing_asks_for_no_follow_up() -> None:
    reconciler, followed, client = following(lambda snapshot: Plan(requeue_after=5))
    assert await reconciler.reconcile(KEY) == 5
    assert client.writes() == [] and followed == []


async def test_a_later_round_decides_from_the_stored_parse_with_the_held_status() -> None:
    """The spec and its validation are the stored version's; only the status is the one this pass holds, in
    the typed model as in the manifest the decision sees."""
    seen: list[RolloutSnapshot] = []
    decide = stepping(2)

    def recording(snapshot: RolloutSnapshot) -> Plan:
        seen.append(snapshot)
        return cast(Plan, decide(snapshot))

    reconciler, _, _ = following(recording)
    await reconciler.reconcile(KEY)
    first, second = seen[0].parsed, seen[1]
    assert second.rollout["status"] == {"currentStepIndex": 1}
    assert second.parsed is not None and second.parsed.manifest is second.rollout
    assert second.parsed.rollout is not None and second.parsed.rollout.status.current_step_index == 1
    assert first is not None and first.rollout is not None
    assert second.parsed.rollout.spec == first.rollout.spec and second.parsed.issues == first.issues
