"""`rollouts get rollout NAME [-w]`: a rollout's header and the tree of what it owns, once or live.

With ``--watch`` the picture is redrawn whenever the rollout, its ReplicaSets, its pods or its AnalysisRuns
change — driven by API watch events, coalesced so that it redraws at most every 200 ms — and the command ends
once the rollout is Healthy or Degraded (Argo issue #1172: a watch that never ends is useless in scripts).
On a terminal each frame replaces the last one; into a pipe or file, frames follow each other, blank-line
separated, and only when the text changed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli.cluster_options import ClusterOptions, cluster_command
from cli.main import app
from cli.options import CliError, Cluster, get_rollout, label_selector, reported_errors, wants_color
from cli.phase import FINISHED_PHASES, rollout_phase
from cli.tree import render_rollout
from cli.watching import RESYNC, Change, FrameWriter, Watches, redraw_until
from kube.errors import NotFound
from kube.resources import ANALYSIS_RUNS, PODS, REPLICASETS, ROLLOUTS, ResourceKind

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
    """A Rollout and the objects of its namespace it may own, kept current from watch events (keyed by UID)."""

    rollout: JsonObject
    replicasets: dict[str, JsonObject] = field(default_factory=dict)
    pods: dict[str, JsonObject] = field(default_factory=dict)
    analysis_runs: dict[str, JsonObject] = field(default_factory=dict)

    def render(self, now: datetime, *, color: bool) -> str:
        lines = render_rollout(
            self.rollout,
            list(self.replicasets.values()),
            list(self.pods.values()),
            list(self.analysis_runs.values()),
            now,
            color=color,
        )
        return "\n".join(lines) + "\n"

    def apply(self, change: Change) -> None:
        """Fold one change in; raises CliError when the rollout itself was deleted."""
        if change.kind == ROLLOUTS:
            # A resync of the rollout's watch lists by name: no item means it is gone.
            if change.type == "DELETED" or (change.type == RESYNC and not change.items):
                name = self.rollout.get("metadata", {}).get("name", "")
                raise CliError(f'rollout "{name}" was deleted')
            self.rollout = change.items[0] if change.type == RESYNC else change.obj
            return
        table = {REPLICASETS: self.replicasets, PODS: self.pods, ANALYSIS_RUNS: self.analysis_runs}[change.kind]
        if change.type == RESYNC:
            table.clear()
            table.update((_uid(item), item) for item in change.items)
        elif change.type == "DELETED":
            table.pop(_uid(change.obj), None)
        else:
            table[_uid(change.obj)] = change.obj


def _uid(obj: JsonObject) -> str:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("uid") or metadata.get("name", ""))


def fetch_family(cluster: Cluster, name: str) -> tuple[RolloutFamily, dict[ResourceKind, str]]:
    """The rollout and its candidate children, with the resourceVersion to watch each kind from."""
    rollout = get_rollout(cluster, name)
    # The rollout's selector matches its ReplicaSets and pods; filtering server-side keeps big namespaces cheap.
    selector = label_selector((rollout.get("spec") or {}).get("selector"))
    family = RolloutFamily(rollout)
    versions: dict[ResourceKind, str] = {ROLLOUTS: str(rollout.get("metadata", {}).get("resourceVersion", ""))}
    for kind, table, kind_selector in (
        (REPLICASETS, family.replicasets, selector),
        (PODS, family.pods, selector),
        (ANALYSIS_RUNS, family.analysis_runs, None),
    ):
        try:
            items, version = cluster.client.list_page(kind, cluster.namespace, kind_selector)
        except NotFound:
            continue  # AnalysisRun CRD not installed: there are simply none to show
        table.update((_uid(item), kind.manifest(item)) for item in items)
        versions[kind] = version
    return family, versions


def _selectors(family: RolloutFamily, kind: ResourceKind) -> tuple[str | None, str | None]:
    if kind == ROLLOUTS:
        return None, f"metadata.name={family.rollout['metadata']['name']}"
    if kind == ANALYSIS_RUNS:
        return None, None
    return label_selector((family.rollout.get("spec") or {}).get("selector")), None


def watch_family(
    family: RolloutFamily,
    watches: Watches,
    draw: Callable[[str], None],
    *,
    color: bool,
    refresh_ages: bool,
    timeout: float | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Redraw on changes (at most every MIN_REDRAW_SECONDS) until the rollout is Healthy or Degraded, or timeout."""
    redraw_until(
        lambda now: family.render(now, color=color),
        family.apply,
        lambda: rollout_phase(family.rollout)[0] in FINISHED_PHASES,
        watches,
        draw,
        refresh_ages=refresh_ages,
        timeout=timeout,
        clock=clock,
    )


@cluster_command
def _rollout_command(
    cluster_options: ClusterOptions,
    name: Annotated[str, typer.Argument(metavar="ROLLOUT_NAME", help="Name of the rollout.", show_default=False)],
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Redraw on every change until the rollout is Healthy or Degraded.")
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Do not colorize output.")] = False,
    timeout_seconds: Annotated[
        int, typer.Option("--timeout-seconds", min=0, help="With --watch, stop after this many seconds (0: never).")
    ] = 0,
) -> None:
    """Get details about a rollout: header, then its revisions, ReplicaSets, pods and AnalysisRuns.

    Icons: ⟳ Rollout, # revision, ⧉ ReplicaSet, □ Pod, α AnalysisRun, ⊞ Job.
    """
    color = wants_color(no_color)
    terminal = sys.stdout.isatty()
    with reported_errors():
        cluster = cluster_options.connect()
        family, versions = fetch_family(cluster, name)
        if not watch:
            sys.stdout.write(family.render(datetime.now(UTC), color=color))
            return
        draw = FrameWriter(terminal)
        with Watches(cluster.client) as watches:
            for kind, version in versions.items():
                label, field_selector = _selectors(family, kind)
                watches.follow(kind, cluster.namespace, version, label_selector=label, field_selector=field_selector)
            watch_family(
                family,
                watches,
                draw,
                color=color,
                refresh_ages=terminal,
                timeout=float(timeout_seconds) if timeout_seconds else None,
            )


# Argo's plugin accepts `get ro` and `get rollouts` too.
get_app.command("rollout")(_rollout_command)
get_app.command("ro", hidden=True)(_rollout_command)
get_app.command("rollouts", hidden=True)(_rollout_command)
