"""The demo's scenarios and what they showed, as pure data: no clock, no I/O.

A scenario changes the Rollout's image and then reads the changes the sandbox stored — the Rollout, its
VirtualService, its AnalysisRuns, each with the moment it was stored — into a `ScenarioProgress`: the canary's
weight over time, every measurement with its value, the phase, and once the Rollout has settled, the outcome and
whether it is the one the scenario expects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from kube.json_data import JsonObject

Outcome = Literal["promoted", "aborted"]

PROMOTED: Final = "promoted"
ABORTED: Final = "aborted"
TERMINAL_MEASUREMENTS: Final = frozenset({"Successful", "Failed", "Inconclusive", "Error"})


@dataclass(frozen=True)
class Scenario:
    """One update of the Rollout: the image it sets, how that version behaves in the mesh, what must happen."""

    name: str
    image: str
    expected: Outcome
    description: str
    error_rate: float = 0.0


SCENARIOS: Final = (
    Scenario("good", "reviews:v2", PROMOTED, "a good version, promoted through every step"),
    Scenario("bad", "reviews:v3", ABORTED, "a version failing 40 % of its requests, rolled back automatically",
             error_rate=0.4),
)


def scenarios_named(choice: str) -> list[Scenario]:
    """`good`, `bad`, or `all` (both, the good one first: the bad one then starts from the promoted version)."""
    if choice == "all":
        return list(SCENARIOS)
    found = [scenario for scenario in SCENARIOS if scenario.name == choice]
    if not found:
        names = ", ".join([s.name for s in SCENARIOS] + ["all"])
        raise ValueError(f"unknown scenario {choice!r} (choose one of: {names})")
    return found


class StoredChange(Protocol):
    """A change as the sandbox recorded it (`sandbox.recorder.Change` is one)."""

    @property
    def at(self) -> float: ...

    @property
    def type(self) -> str: ...

    @property
    def plural(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def object(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Measurement:
    """One completed measurement, seen when the analysis controller stored it."""

    at: float
    run: str
    metric: str
    phase: str
    value: str
    message: str


@dataclass(frozen=True)
class Note:
    """A line of the scenario's running log: something changed at `at`."""

    at: float
    text: str


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def canary_weight(virtual_service: Mapping[str, Any], canary_service: str) -> int | None:
    """The weight of the canary Service's destination in the VirtualService's HTTP routes (the first found)."""
    for route in _mapping(virtual_service.get("spec")).get("http") or []:
        for destination in _mapping(route).get("route") or []:
            if _mapping(_mapping(destination).get("destination")).get("host") == canary_service:
                weight = _mapping(destination).get("weight", 0)
                return int(weight) if isinstance(weight, int | float) else 0
    return None


def format_value(value: Any) -> str:
    """A measurement's value as the run stored it (a string; Prometheus vectors as ``[0.6]``), numbers shortened
    to three significant digits: ``0.9076739987077629`` is ``0.908``."""
    text = str(value)
    try:
        return f"{float(text.strip('[]')):.3g}"
    except ValueError:
        return text


@dataclass
class ScenarioProgress:
    """What a scenario has shown so far; fold the recorded changes in with `observe`."""

    scenario: Scenario
    rollout_name: str
    canary_service: str
    virtual_service: str
    started_at: float
    stable_hash_before: str | None
    weights: list[tuple[float, int]] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    rollout: JsonObject | None = None
    outcome: Outcome | None = None
    finished_at: float | None = None
    timed_out: bool = False
    _seen: set[tuple[str, str, str, str]] = field(default_factory=set)
    _phase: tuple[str, str] | None = None

    # ---------------------------------------------------------------------------------------------- folding

    def begin(
        self,
        rollout: Mapping[str, Any] | None,
        virtual_service: Mapping[str, Any] | None,
        analysis_runs: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Start from the objects as they are before the update, so that only changes are noted (the measurements
        of an earlier scenario's runs included)."""
        for run in analysis_runs:
            name = str(_mapping(run.get("metadata")).get("name", ""))
            for _, key, _ in self._measurements_of(name, run):
                self._seen.add(key)
        if rollout is not None:
            self.rollout = dict(rollout)
            status = _mapping(rollout.get("status"))
            self._phase = (str(status.get("phase", "")), str(status.get("message", "")))
        weight = canary_weight(virtual_service, self.canary_service) if virtual_service is not None else None
        if weight is not None:
            self.weights.append((self.started_at, weight))

    def observe(self, changes: Sequence[StoredChange]) -> list[Note]:
        """Fold changes in (oldest first); return the notes they produced."""
        notes: list[Note] = []
        for change in changes:
            if change.plural == "virtualservices" and change.name == self.virtual_service:
                notes.extend(self._observe_weight(change))
            elif change.plural == "analysisruns" and change.type != "DELETED":
                notes.extend(self._observe_run(change))
            elif change.plural == "rollouts" and change.name == self.rollout_name and change.type != "DELETED":
                notes.extend(self._observe_rollout(change))
        self.notes.extend(notes)
        return notes

    def _observe_weight(self, change: StoredChange) -> list[Note]:
        weight = canary_weight(change.object, self.canary_service)
        if weight is None or (self.weights and self.weights[-1][1] == weight):
            return []
        self.weights.append((change.at, weight))
        return [Note(change.at, f"canary weight {weight} %  (stable {100 - weight} %)")]

    def _observe_run(self, change: StoredChange) -> list[Note]:
        run = change.object
        if not self._belongs_to_rollout(run):
            return []
        notes = []
        if change.type == "ADDED":
            notes.append(Note(change.at, f"AnalysisRun {change.name} created"))
        for metric, key, measurement in self._measurements_of(change.name, run):
            if key in self._seen:
                continue
            self._seen.add(key)
            phase = str(measurement.get("phase", ""))
            seen = Measurement(change.at, change.name, metric, phase, format_value(measurement.get("value", "")),
                               str(measurement.get("message", "")))
            self.measurements.append(seen)
            text = f"measurement {metric} = {seen.value or '(none)'}  {phase}"
            notes.append(Note(change.at, text + (f": {seen.message}" if seen.message and phase != "Successful"
                                                 else "")))
        return notes

    @staticmethod
    def _measurements_of(
        name: str, run: Mapping[str, Any]
    ) -> list[tuple[str, tuple[str, str, str, str], dict[str, Any]]]:
        """(metric, identity, measurement) of every completed measurement a run holds."""
        found = []
        for result in _mapping(run.get("status")).get("metricResults") or []:
            metric = str(_mapping(result).get("name", ""))
            for measurement in _mapping(result).get("measurements") or []:
                measurement = _mapping(measurement)
                if measurement.get("phase") in TERMINAL_MEASUREMENTS:
                    key = (name, metric, str(measurement.get("startedAt", "")), str(measurement.get("finishedAt", "")))
                    found.append((metric, key, measurement))
        return found

    def _belongs_to_rollout(self, run: Mapping[str, Any]) -> bool:
        metadata = _mapping(run.get("metadata"))
        owners = [_mapping(o) for o in metadata.get("ownerReferences") or []]
        return any(o.get("kind") == "Rollout" and o.get("name") == self.rollout_name for o in owners)

    def _observe_rollout(self, change: StoredChange) -> list[Note]:
        self.rollout = change.object
        status = _mapping(change.object.get("status"))
        phase = (str(status.get("phase", "")), str(status.get("message", "")))
        notes = []
        if phase != self._phase and phase[0]:
            self._phase = phase
            notes.append(Note(change.at, f"Rollout {phase[0]}" + (f": {phase[1]}" if phase[1] else "")))
        if self.outcome is None:
            outcome = self._settled(status)
            if outcome is not None:
                self.outcome, self.finished_at = outcome, change.at
        return notes

    def _settled(self, status: Mapping[str, Any]) -> Outcome | None:
        phase = status.get("phase")
        current, stable = status.get("currentPodHash"), status.get("stableRS")
        updated = current is not None and current != self.stable_hash_before
        if phase == "Healthy" and updated and stable == current:
            return PROMOTED
        if phase == "Degraded" and status.get("abort") is True:
            return ABORTED
        return None

    # -------------------------------------------------------------------------------------------- questions

    @property
    def done(self) -> bool:
        """The Rollout settled, and (after an abort) the traffic is back on stable."""
        if self.outcome is None:
            return False
        return self.current_weight in (0, None)

    @property
    def current_weight(self) -> int | None:
        return self.weights[-1][1] if self.weights else None

    @property
    def expected(self) -> bool:
        return self.outcome == self.scenario.expected and self.done and not self.timed_out

    @property
    def first_failure_at(self) -> float | None:
        failed = [m.at for m in self.measurements if m.phase == "Failed"]
        return min(failed) if failed else None

    @property
    def failure_to_stable_seconds(self) -> float | None:
        """From the first failing measurement stored to the canary's weight 0 stored after it."""
        failure = self.first_failure_at
        if failure is None:
            return None
        for at, weight in self.weights:
            if at >= failure and weight == 0:
                return at - failure
        return None

    @property
    def verdict(self) -> str:
        return "expected" if self.expected else "unexpected"

    @property
    def result(self) -> str:
        """What happened, in a few words."""
        if self.outcome is not None:
            return self.outcome
        if self.timed_out:
            phase = self._phase[0] if self._phase else "no status"
            return f"timed out ({phase})"
        return "running"

    @property
    def abort_message(self) -> str:
        status = _mapping((self.rollout or {}).get("status"))
        return str(status.get("message", "")) if status.get("abort") else ""

    def weight_timeline(self) -> list[tuple[float, int]]:
        """(seconds since the scenario started, canary weight) at each change."""
        return [(max(0.0, at - self.started_at), weight) for at, weight in self.weights]

    def elapsed(self, now: float) -> float:
        return (self.finished_at or now) - self.started_at


def describe_timeline(timeline: Sequence[tuple[float, int]]) -> str:
    """``t+0.4s: 20 %, t+11.5s: 50 %``."""
    return ", ".join(f"t+{at:.1f}s: {weight} %" for at, weight in timeline) or "no weight change"


@dataclass(frozen=True)
class SummaryRow:
    scenario: str
    image: str
    expected: str
    result: str
    verdict: str
    timeline: str
    failure_to_stable: str
    duration: str


def summary_row(progress: ScenarioProgress, now: float) -> SummaryRow:
    latency = progress.failure_to_stable_seconds
    return SummaryRow(
        scenario=progress.scenario.name,
        image=progress.scenario.image,
        expected=progress.scenario.expected,
        result=progress.result,
        verdict=progress.verdict,
        timeline=describe_timeline(progress.weight_timeline()),
        failure_to_stable="—" if latency is None else f"{latency:.2f} s",
        duration=f"{progress.elapsed(now):.1f} s",
    )
