"""`rollouts get experiment NAME [-w]`: one Experiment — its phase and message, the ReplicaSet of each template and
the AnalysisRun of each analysis.

With ``--watch`` the page is redrawn whenever the Experiment, a ReplicaSet or an AnalysisRun of its namespace changes
(API watches; redraws coalesced to at most one every 200 ms), and the command ends once the Experiment has
completed, as `get analysisrun -w` does. Registered on the `get` group of :mod:`cli.get`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cli.analysisrun_view import COMPLETED_PHASES
from cli.experiment_view import experiment_phase, render_experiment
from cli.get import get_app
from cli.get_command import add_get_command
from cli.options import CliError, Cluster, get_object
from cli.watching import Change, Watches, fold_change, followed_object, list_into
from kube.json_data import JsonObject
from kube.object_meta import controller_reference
from kube.resources import ANALYSIS_RUNS, EXPERIMENTS, REPLICASETS, ResourceKind


@dataclass
class ExperimentView:
    """The Experiment and the ReplicaSets and AnalysisRuns of its namespace (by name), kept current from watch
    events, with the resourceVersion to watch each kind from."""

    experiment: JsonObject
    namespace: str
    replica_sets: dict[str, JsonObject] = field(default_factory=dict)
    runs: dict[str, JsonObject] = field(default_factory=dict)
    versions: dict[ResourceKind, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str((self.experiment.get("metadata") or {}).get("name", ""))

    def render(self, now: datetime, *, color: bool) -> str:
        templates = (self.experiment.get("spec") or {}).get("templates") or ()
        names = [f"{self.name}-{template.get('name', '')}" for template in templates]
        replica_sets = [found for name in names if (found := self._owned(self.replica_sets.get(name))) is not None]
        recorded = ((self.experiment.get("status") or {}).get("analysisRuns")) or ()
        run_names = [str(entry.get("analysisRun") or "") for entry in recorded]
        runs = [found for name in run_names if (found := self._owned(self.runs.get(name))) is not None]
        return "\n".join(render_experiment(self.experiment, replica_sets, runs, now, color=color)) + "\n"

    def _owned(self, obj: JsonObject | None) -> JsonObject | None:
        """``obj`` if this Experiment controls it."""
        owner = controller_reference(obj, "Experiment") if obj is not None else None
        return obj if owner is not None and owner.get("name") == self.name else None

    def apply(self, change: Change) -> None:
        """Fold one change in; raises CliError when the Experiment itself was deleted."""
        if change.kind == EXPERIMENTS:
            experiment = followed_object(change)
            if experiment is None:
                raise CliError(f'experiment "{self.name}" was deleted')
            self.experiment = experiment
            return
        table = self.replica_sets if change.kind == REPLICASETS else self.runs
        fold_change(table, change, _name)

    def finished(self) -> bool:
        return experiment_phase(self.experiment) in COMPLETED_PHASES

    def follow(self, watches: Watches) -> None:
        for kind, version in self.versions.items():
            field_selector = f"metadata.name={self.name}" if kind == EXPERIMENTS else None
            watches.follow(kind, self.namespace, version, field_selector=field_selector)


def _name(obj: JsonObject) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def fetch_experiment(cluster: Cluster, name: str) -> ExperimentView:
    """The Experiment and what it may run, with the resourceVersion to watch each kind from; a CliError when the
    Experiment does not exist."""
    experiment = get_object(cluster, EXPERIMENTS, name)
    view = ExperimentView(experiment, cluster.namespace)
    view.versions[EXPERIMENTS] = str((experiment.get("metadata") or {}).get("resourceVersion", ""))
    for kind, table in ((REPLICASETS, view.replica_sets), (ANALYSIS_RUNS, view.runs)):
        version = list_into(cluster.client, kind, cluster.namespace, table, _name)
        if version is not None:
            view.versions[kind] = version
    return view


add_get_command(
    get_app, EXPERIMENTS, "exp", fetch_experiment, name_help="The Experiment to show.",
    until="the experiment has completed",
    summary="""Show an Experiment: its status, the ReplicaSet of each template and the AnalysisRun of each analysis.

    Icons: Σ Experiment, ⧉ ReplicaSet, α AnalysisRun.
    """,
)
