"""Which AnalysisRun stands for each analysis a Rollout runs, when a new one starts, and what its phase means.

A Rollout names its current runs in its status (``{name, status, message}`` under
``status.canary.currentStepAnalysisRunStatus``, ``currentBackgroundAnalysisRunStatus``,
``status.blueGreen.prePromotionAnalysisRunStatus``, ``postPromotionAnalysisRunStatus``). Each pass looks the named
run up among the runs the Rollout owns; it still counts while its labels and revision say it is that analysis' run
for the revision being rolled out. When the status names none (a status write lost after the run was created, say),
a run of that analysis and revision still running is taken up again instead of starting a second one: names are
deterministic and the runs are in the cluster, so a pass repeated after a crash never creates two.

A new run starts when there is none, and also after a retry (``abort`` cleared while ``abortedAt`` is still set) and
after a person answered an inconclusive verdict with ``promote``: a run is never reused for a new attempt. What a
run's phase means is the same everywhere: Successful lets the Rollout go on, Failed and Error abort it, Inconclusive
pauses it; Pending and Running hold it.

Pure: plain dicts in, plain data out; the strategies (``rollouts.canary.analysis``,
``rollouts.bluegreen.promotion_analysis``) decide when an analysis runs at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.models import AnalysisPhase
from kube.json_data import JsonObject
from kube.resources import ANALYSIS_RUNS
from rollouts.gating.runs import AnalysisProblem, RevisionFacts, RunRole, new_analysis_run
from rollouts.hashing import HASH_LABEL
from rollouts.pause_state import INCONCLUSIVE_ANALYSIS, PauseState
from rollouts.plan import Create, Event
from rollouts.replicasets import REVISION_ANNOTATION
from rollouts.snapshot import RolloutSnapshot

FAILING = frozenset({AnalysisPhase.FAILED, AnalysisPhase.ERROR})


@dataclass(frozen=True)
class AnalysisInputs:
    """What starting and finding runs needs: the Rollout, the runs it owns, the templates, and the revision."""

    manifest: Mapping[str, Any]
    runs: Sequence[JsonObject]
    templates: Mapping[str, JsonObject]
    cluster_templates: Mapping[str, JsonObject]
    facts: RevisionFacts

    @classmethod
    def of(
        cls, snapshot: RolloutSnapshot, *, current_hash: str, stable_hash: str | None, revision: int
    ) -> AnalysisInputs:
        return cls(
            manifest=snapshot.rollout,
            runs=snapshot.analysis_runs,
            templates=snapshot.analysis_templates,
            cluster_templates=snapshot.cluster_analysis_templates,
            facts=RevisionFacts(current_hash=current_hash, stable_hash=stable_hash, revision=revision),
        )

    @property
    def namespace(self) -> str:
        return str((self.manifest.get("metadata") or {}).get("namespace") or "default")


@dataclass(frozen=True)
class TrackedRun:
    """An analysis' current run as this pass sees it; ``created`` is its body when this pass creates it."""

    role: RunRole
    name: str
    phase: AnalysisPhase
    message: str | None = None
    created: JsonObject | None = None

    @property
    def status_entry(self) -> JsonObject:
        """``{name, status, message}`` for the Rollout's status."""
        entry: JsonObject = {"name": self.name, "status": self.phase.value}
        if self.message:
            entry["message"] = self.message
        return entry

    @property
    def failed(self) -> bool:
        return self.phase in FAILING

    @property
    def verdict(self) -> str:
        """``Step-based analysis phase Failed: AnalysisRun reviews-6b8f9c-2-1: <the run's message>`` — what the
        abort, the pause and the Events say."""
        text = f"{self.role.title} phase {self.phase.value}: AnalysisRun {self.name}"
        return f"{text}: {self.message}" if self.message else text

    @property
    def waiting(self) -> str:
        """What a Rollout held by this run waits for."""
        return f"waiting for {self.role.title.lower()}: AnalysisRun {self.name} is {self.phase.value}"

    def create(self, namespace: str) -> Create | None:
        return None if self.created is None else Create(kind=ANALYSIS_RUNS, namespace=namespace, body=self.created)


def run_phase(run: Mapping[str, Any]) -> AnalysisPhase:
    """A run's phase; Pending until the analysis controller first writes one (Go leaves it "")."""
    try:
        return AnalysisPhase((run.get("status") or {}).get("phase") or AnalysisPhase.PENDING.value)
    except ValueError:
        return AnalysisPhase.PENDING


def is_completed(run: Mapping[str, Any]) -> bool:
    return run_phase(run).completed


def is_terminating(run: Mapping[str, Any]) -> bool:
    return (run.get("spec") or {}).get("terminate") is True


def name_of(run: Mapping[str, Any]) -> str:
    return str((run.get("metadata") or {}).get("name") or "")


def tracked(role: RunRole, run: Mapping[str, Any]) -> TrackedRun:
    message = (run.get("status") or {}).get("message")
    return TrackedRun(role, name_of(run), run_phase(run), str(message) if message else None)


def belongs(role: RunRole, run: Mapping[str, Any], inputs: AnalysisInputs) -> bool:
    """Whether a run is ``role``'s run for the revision being rolled out (labels, pod hash and revision)."""
    metadata = run.get("metadata") or {}
    labels = metadata.get("labels") or {}
    revision = (metadata.get("annotations") or {}).get(REVISION_ANNOTATION)
    return (
        role.labelled_on(run)
        and labels.get(HASH_LABEL) == inputs.facts.current_hash
        and revision == str(inputs.facts.revision)
        and metadata.get("deletionTimestamp") is None
    )


def current_run(role: RunRole, entry: Mapping[str, Any] | None, inputs: AnalysisInputs) -> JsonObject | None:
    """The run the status ``entry`` names while it is still ``role``'s run for this revision; otherwise the newest
    run of that role and revision still running (its name was lost), or None."""
    named = str(entry.get("name") or "") if isinstance(entry, Mapping) else ""
    if named:
        for run in inputs.runs:
            if name_of(run) == named and belongs(role, run, inputs):
                return run
    candidates = [
        run
        for run in inputs.runs
        if belongs(role, run, inputs) and not is_completed(run) and not is_terminating(run)
    ]
    if not candidates:
        return None
    return max(candidates, key=_newest_first_key)


def _newest_first_key(run: Mapping[str, Any]) -> tuple[str, str]:
    # RFC 3339 timestamps in UTC sort as text; the name breaks ties between runs created in the same second.
    return str((run.get("metadata") or {}).get("creationTimestamp") or ""), name_of(run)


def start_run(role: RunRole, analysis: Mapping[str, Any], inputs: AnalysisInputs) -> TrackedRun | AnalysisProblem:
    """A new run for ``analysis``, named apart from every run the Rollout owns."""
    body = new_analysis_run(
        inputs.manifest,
        analysis,
        role,
        inputs.templates,
        inputs.cluster_templates,
        inputs.facts,
        taken={name_of(run) for run in inputs.runs},
    )
    if isinstance(body, AnalysisProblem):
        return body
    return TrackedRun(role, name_of(body), AnalysisPhase.PENDING, created=body)


def retried(observed: PauseState) -> bool:
    """The pass answers ``rollouts retry``: ``abort`` is cleared and ``abortedAt`` not yet (Argo's test for starting
    fresh runs rather than reading the verdicts that caused the abort)."""
    return not observed.abort and bool(observed.aborted_at)


def answered_inconclusive(observed: PauseState, run: Mapping[str, Any]) -> bool:
    """``promote`` cleared the pause an inconclusive run caused: ``controllerPause`` with no pause condition left
    (so not a pause step's or a blue-green pause's either) and the run Inconclusive. It asks for a new run."""
    return run_phase(run) is AnalysisPhase.INCONCLUSIVE and observed.controller_pause and not observed.paused


def paused_for_inconclusive(observed: PauseState) -> bool:
    return observed.holds(INCONCLUSIVE_ANALYSIS)


def status_events(previous: Mapping[str, Any] | None, run: TrackedRun) -> list[Event]:
    """``AnalysisRun<Phase>`` when a run reaches a verdict the Rollout had not recorded yet (Warning for Failed and
    Error), with the verdict as the message."""
    if not run.phase.completed:
        return []
    if isinstance(previous, Mapping) and previous.get("name") == run.name and previous.get("status") == run.phase:
        return []
    return [Event("Warning" if run.failed else "Normal", f"AnalysisRun{run.phase.value}", run.verdict)]


def refreshed(
    entry: Mapping[str, Any] | None, runs: Sequence[JsonObject], current_hash: str | None = None
) -> JsonObject | None:
    """A status entry brought up to date with the run it names (kept as it was when that run is gone); None when
    there is none, or when it names a run of another pod-template hash than ``current_hash`` (if given)."""
    if not isinstance(entry, Mapping) or not entry.get("name"):
        return None
    for run in runs:
        if name_of(run) == entry["name"]:
            labels = (run.get("metadata") or {}).get("labels") or {}
            if current_hash is not None and labels.get(HASH_LABEL) != current_hash:
                return None
            message = (run.get("status") or {}).get("message")
            found: JsonObject = {"name": name_of(run), "status": run_phase(run).value}
            if message:
                found["message"] = str(message)
            return found
    return dict(entry)


__all__ = [
    "FAILING",
    "AnalysisInputs",
    "TrackedRun",
    "answered_inconclusive",
    "belongs",
    "current_run",
    "is_completed",
    "is_terminating",
    "name_of",
    "paused_for_inconclusive",
    "refreshed",
    "retried",
    "run_phase",
    "start_run",
    "status_events",
    "tracked",
]
