"""`rollouts get rollout NAME [-w]`: a rollout's header and the tree of what it owns, once or live.

With ``--watch`` the picture is redrawn whenever the rollout, its ReplicaSets, its pods or its AnalysisRuns
change — driven by API watch events, coalesced so that it redraws at most every 200 ms — and the command ends
once the rollout is Healthy or Degraded (Argo issue #1172: a watch that never ends is useless in scripts), as
:mod:`cli.live_view` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from cli.get_command import add_get_command
from cli.main import app
from cli.options import CliError, Cluster, get_rollout, label_selector
from cli.phase import FINISHED_PHASES, rollout_phase
from cli.tree import render_rollout
from cli.watching import Change, Watches, fold_change, followed_object, list_into
from kube.resources import ANALYSIS_RUNS, EXPERIMENTS, PODS, REPLICASETS, ROLLOUTS, ResourceKind

if TYPE_CHECKING:
    from kube.json_data import JsonObject


get_app = typer.Typer(
    name="get",
    help="Show a rollout with its revisions, ReplicaSets, pods and AnalysisRuns, or one AnalysisRun.",
    no_args_is_help=True,
)
app.add_typer(get_app)


@dataclass
class RolloutFamily:
    """A Rollout and the objects of its namespace it may own, kept current from watch events (keyed by UID), with
    the resourceVersion to watch each kind from."""

    rollout: JsonObject
    namespace: str
    replicasets: dict[str, JsonObject] = field(default_factory=dict)
    pods: dict[str, JsonObject] = field(default_factory=dict)
    analysis_runs: dict[str, JsonObject] = field(default_factory=dict)
    experiments: dict[str, JsonObject] = field(default_factory=dict)
    versions: dict[ResourceKind, str] = field(default_factory=dict)

    def render(self, now: datetime, *, color: bool) -> str:
        lines = render_rollout(
            self.rollout,
            list(self.replicasets.values()),
            list(self.pods.values()),
            list(self.analysis_runs.values()),
            now,
            color=color,
            experiments=list(self.experiments.values()),
        )
        return "\n".join(lines) + "\n"

    def apply(self, change: Change) -> None:
        """Fold one change in; raises CliError when the rollout itself was deleted."""
        if change.kind == ROLLOUTS:
            rollout = followed_object(change)
            if rollout is None:
                name = self.rollout.get("metadata", {}).get("name", "")
                raise CliError(f'rollout "{name}" was deleted')
            self.rollout = rollout
            return
        table = {
            REPLICASETS: self.replicasets, PODS: self.pods, ANALYSIS_RUNS: self.analysis_runs,
            EXPERIMENTS: self.experiments,
        }[change.kind]
        fold_change(table, change, _uid)

    def finished(self) -> bool:
        """Healthy or Degraded: Argo issue #1172, a watch that never ends is useless in scripts."""
        return rollout_phase(self.rollout)[0] in FINISHED_PHASES

    def follow(self, watches: Watches) -> None:
        for kind, version in self.versions.items():
            label, field_selector = self._selectors(kind)
            watches.follow(kind, self.namespace, version, label_selector=label, field_selector=field_selector)

    def _selectors(self, kind: ResourceKind) -> tuple[str | None, str | None]:
        if kind == ROLLOUTS:
            return None, f"metadata.name={self.rollout['metadata']['name']}"
        if kind in (ANALYSIS_RUNS, EXPERIMENTS):
            return None, None
        return label_selector((self.rollout.get("spec") or {}).get("selector")), None


def _uid(obj: JsonObject) -> str:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("uid") or metadata.get("name", ""))


def fetch_family(cluster: Cluster, name: str) -> RolloutFamily:
    """The rollout and its candidate children, with the resourceVersion to watch each kind from."""
    rollout = get_rollout(cluster, name)
    # The rollout's selector matches its ReplicaSets and pods; filtering server-side keeps big namespaces cheap.
    selector = label_selector((rollout.get("spec") or {}).get("selector"))
    family = RolloutFamily(rollout, cluster.namespace)
    family.versions[ROLLOUTS] = str(rollout.get("metadata", {}).get("resourceVersion", ""))
    for kind, table, kind_selector in (
        (REPLICASETS, family.replicasets, selector),
        (PODS, family.pods, selector),
        (ANALYSIS_RUNS, family.analysis_runs, None),
        (EXPERIMENTS, family.experiments, None),
    ):
        version = list_into(cluster.client, kind, cluster.namespace, table, _uid, kind_selector)
        if version is not None:
            family.versions[kind] = version
    return family


add_get_command(
    get_app, ROLLOUTS, "ro", fetch_family, name_help="Name of the rollout.", until="the rollout is Healthy or Degraded",
    summary="""Get details about a rollout: header, then its revisions, ReplicaSets, pods and AnalysisRuns.

    Icons: ⟳ Rollout, # revision, ⧉ ReplicaSet, □ Pod, Σ Experiment, α AnalysisRun, ⊞ Job.
    """,
)
