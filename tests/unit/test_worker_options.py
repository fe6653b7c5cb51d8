"""The options every controller shares, and those of the controllers run in the Rollout controller's process."""

from __future__ import annotations

from analysis.controller.controller import AnalysisOptions
from rollouts.controller.controller import ControllerOptions
from rollouts.experiments.controller import ExperimentOptions


def test_a_controller_beside_the_rollout_controller_watches_its_namespaces_with_its_resync_and_election() -> None:
    rollouts = ControllerOptions(
        namespaces=("team-a", "team-b"), workers=3, resync_seconds=42.0, leader_election=True, analysis_workers=7
    )

    analysis = AnalysisOptions.beside(rollouts, workers=7)

    assert analysis.namespaces == ("team-a", "team-b")
    assert (analysis.resync_seconds, analysis.leader_election, analysis.workers) == (42.0, True, 7)
    # What only the analysis controller has keeps its default.
    assert analysis.measurement_timeout == AnalysisOptions().measurement_timeout


def test_the_experiment_controller_beside_it_takes_its_own_workers_not_the_rollout_controllers() -> None:
    rollouts = ControllerOptions(workers=9, resync_seconds=0.0)

    experiments = ExperimentOptions.beside(rollouts, workers=2)

    assert experiments == ExperimentOptions(workers=2, resync_seconds=0.0)
