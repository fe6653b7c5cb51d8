"""`rollouts demo` from start to summary: start the process tree, apply the example, run each scenario while
showing what happens, and return the exit status (0 only when every scenario ended as expected)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cli.demo.display import Reporter, Snapshot
from cli.demo.environment import DemoEnvironment
from cli.demo.manifests import DEMO_EXAMPLE, RolloutShape, load_documents, prepare, rollout_of, rollout_shape
from cli.demo.scenarios import ABORTED, Scenario, ScenarioProgress, SummaryRow, summary_row
from kube.json_data import JsonObject
from kube.resources import ROLLOUTS, VIRTUAL_SERVICES

# Beyond the steps' own pauses: pods starting, the analysis's first measurement, reconcile passes.
SCENARIO_SLACK_SECONDS: Final = 30.0
# A fresh interpreter importing kopf and the kubernetes client takes seconds, more on a loaded CI machine.
CONTROLLER_READY_SECONDS: Final = 60.0
REDRAW_SECONDS: Final = 0.2


@dataclass(frozen=True)
class DemoOptions:
    scenarios: Sequence[Scenario]
    speed: float = 1.0
    example: Path = DEMO_EXAMPLE
    ready_delay: float = 0.2
    dashboard_port: int | None = None  # serve the dashboard on this port while the demo runs


def run_demo(options: DemoOptions, reporter: Reporter) -> int:
    """Run the scenarios; 0 if every one ended as expected, 1 otherwise. Everything started is stopped."""
    documents = load_documents(options.example)
    error_rates = {s.image: s.error_rate for s in options.scenarios if s.error_rate > 0}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rollouts-demo-") as work_dir:
        environment = DemoEnvironment(Path(work_dir), error_rates=error_rates, ready_delay=options.ready_delay,
                                      dashboard_port=options.dashboard_port)
        try:
            environment.start(reporter.stage)
            prepared = prepare(documents, speed=options.speed, prometheus_url=environment.prometheus_url)
            shape = rollout_shape(rollout_of(prepared))
            reporter.stage(f"applying examples/{options.example.name}/ "
                           f"(Rollout {shape.name}, its Services, VirtualService and AnalysisTemplate) at speed "
                           f"{options.speed:g}")
            environment.apply(prepared)
            environment.wait_for(lambda: _phase(environment, shape.name) == "Healthy", CONTROLLER_READY_SECONDS,
                                 f"the controller to make {shape.name} Healthy")
            reporter.stage(f"{shape.name} is Healthy with {shape.image} (ready in "
                           f"{time.monotonic() - started:.1f} s)")
            rows: list[SummaryRow] = []
            for scenario in options.scenarios:
                mark = environment.notifications.mark() if environment.notifications is not None else 0
                progress = run_scenario(environment, reporter, scenario, shape)
                rows.append(summary_row(progress, time.time()))
                report_notifications(environment, reporter, mark, progress)
            all_expected = all(row.verdict == "expected" for row in rows)
            reporter.summary(rows, all_expected)
            reporter.stage(f"the demo took {time.monotonic() - started:.1f} s; stopping the controller, "
                           "Prometheus and the sandbox")
            return 0 if all_expected else 1
        finally:
            reporter.close()
            environment.stop()


def run_scenario(
    environment: DemoEnvironment,
    reporter: Reporter,
    scenario: Scenario,
    shape: RolloutShape,
    change: Callable[[], None] | None = None,
) -> ScenarioProgress:
    """Start the scenario's update (``change``: by default `rollouts set image`; the GitOps demo commits to Git
    instead) and follow the Rollout until it settles."""
    recorder = environment.recorder
    assert recorder is not None
    rollout = environment.get(ROLLOUTS, shape.name) or {}
    status = rollout.get("status") or {}
    from_image = _image(rollout, shape.container)
    progress = ScenarioProgress(
        scenario=scenario,
        rollout_name=shape.name,
        canary_service=shape.canary_service,
        virtual_service=shape.virtual_service,
        started_at=time.time(),
        stable_hash_before=status.get("stableRS"),
    )
    progress.begin(rollout, environment.get(VIRTUAL_SERVICES, shape.virtual_service), environment.family()[2])
    index = len(recorder)
    reporter.scenario_started(progress, from_image)
    if change is None:
        environment.set_image(shape.name, shape.container, scenario.image)
    else:
        change()
    # The prepared manifests are already scaled to the speed: their pauses are what the steps will take.
    deadline = time.monotonic() + shape.pauses_seconds + SCENARIO_SLACK_SECONDS
    while not progress.done:
        environment.check_controller()
        if time.monotonic() > deadline:
            progress.timed_out = True
            break
        recorder.wait(index, REDRAW_SECONDS)
        changes = recorder.changes_since(index)
        index += len(changes)
        notes = progress.observe(changes)
        reporter.update(progress, notes, _snapshot(environment, shape.name) if reporter.wants_snapshots else None)
    reporter.scenario_finished(progress, _snapshot(environment, shape.name))
    return progress


def report_notifications(
    environment: DemoEnvironment, reporter: Reporter, mark: int, progress: ScenarioProgress
) -> None:
    """What the scenario's notifications told the webhook receiver, as it received them."""
    notifications = environment.notifications
    if notifications is None:
        return
    # The default templates' words for the scenario's end (a step's message says "step number … has been completed").
    ending = "aborted" if progress.scenario.expected == ABORTED else "completed"
    outcome = f"Rollout {progress.rollout_name} has been {ending}."
    messages = notifications.since(mark, outcome=outcome)
    reporter.stage(f"the webhook receiver at {notifications.receiver.url} got {len(messages)} notification(s) "
                   f"from scenario {progress.scenario.name}:")
    for message in messages:
        reporter.stage(f"  notification: {message}")


def _snapshot(environment: DemoEnvironment, name: str) -> Snapshot:
    replicasets, pods, runs = environment.family()
    return Snapshot(environment.get(ROLLOUTS, name), replicasets, pods, runs)


def _phase(environment: DemoEnvironment, name: str) -> str | None:
    rollout = environment.get(ROLLOUTS, name) or {}
    phase = (rollout.get("status") or {}).get("phase")
    return str(phase) if phase is not None else None


def _image(rollout: JsonObject, container: str) -> str:
    containers = (((rollout.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return next((str(c.get("image", "")) for c in containers if c.get("name") == container), "")
