"""`rollouts list rollouts [-A]`: one line per rollout, in the columns of Argo's plugin.

NAME STRATEGY STATUS STEP SET-WEIGHT READY DESIRED UP-TO-DATE AVAILABLE, with a NAMESPACE column first for
``-A``. Values are padded to about their header's width before the columns are aligned, as Argo does, so the
table keeps its shape from one run to the next.

`rollouts list analysisruns [-A]` (Argo's plugin has none): NAME STATUS AGE, the columns `kubectl get` shows for
the kind, newest first, so that the run to look at with `get analysisrun` is at the top.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli.cluster_options import ClusterOptions
from cli.main import app
from cli.option_groups import with_option_groups
from cli.options import Cluster
from cli.phase import canary_steps, current_set_weight, desired_replicas, rollout_phase, step_label
from cli.tree import COLUMN_GAP, age, analysis_run_phase, strategy_name
from kube.json_data import as_int
from kube.resources import ANALYSIS_RUNS, ROLLOUTS, ResourceKind
from kube.timestamps import parse_time

if TYPE_CHECKING:
    from kube.json_data import JsonObject

HEADERS = ("NAME", "STRATEGY", "STATUS", "STEP", "SET-WEIGHT", "READY", "DESIRED", "UP-TO-DATE", "AVAILABLE")
# Minimum widths of the values, from Argo's row format; STATUS is wider than its header for "Progressing".
MIN_WIDTHS = (10, 9, 12, 4, 10, 5, 7, 10, 9)
NAMESPACE_MIN_WIDTH = 9

list_app = typer.Typer(name="list", help="List rollouts or AnalysisRuns.", no_args_is_help=True)
app.add_typer(list_app)


def rollout_row(rollout: JsonObject) -> list[str]:
    """The columns of one rollout, without NAMESPACE."""
    spec, status = rollout.get("spec") or {}, rollout.get("status") or {}
    is_canary = canary_steps(rollout) is not None
    return [
        str((rollout.get("metadata") or {}).get("name", "")),
        strategy_name(rollout) or "unknown",
        rollout_phase(rollout)[0],
        (step_label(rollout) or "-") if is_canary else "-",
        str(current_set_weight(rollout)) if is_canary else "-",
        f"{as_int(status.get('readyReplicas'))}/{as_int(status.get('replicas'))}",
        str(desired_replicas(spec)),
        str(as_int(status.get("updatedReplicas"))),
        str(as_int(status.get("availableReplicas"))),
    ]


def rollout_table(rollouts: Sequence[JsonObject], *, all_namespaces: bool = False) -> list[str]:
    """The table's lines, header first."""
    headers = list(HEADERS)
    min_widths = list(MIN_WIDTHS)
    rows = []
    for rollout in rollouts:
        row = rollout_row(rollout)
        if all_namespaces:
            row.insert(0, str((rollout.get("metadata") or {}).get("namespace", "")))
        rows.append(row)
    if all_namespaces:
        headers.insert(0, "NAMESPACE")
        min_widths.insert(0, NAMESPACE_MIN_WIDTH)
    padded = [[value.ljust(width) for value, width in zip(row, min_widths, strict=True)] for row in rows]
    table = [headers, *padded]
    widths = [max(len(row[i]) for row in table) + COLUMN_GAP for i in range(len(headers) - 1)]
    return [_line(row, widths) for row in table]


def _line(row: Sequence[str], widths: Sequence[int]) -> str:
    cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
    return ("".join(cells) + row[-1]).rstrip(" ")


def _print_listing(
    cluster: Cluster,
    kind: ResourceKind,
    noun: str,
    table: Callable[[list[JsonObject]], list[str]],
    *,
    all_namespaces: bool,
    field_selector: str | None = None,
) -> None:
    """The ``table`` of the objects of ``kind`` in the namespace (every namespace with -A), or a line on stderr saying
    there are no ``noun`` (a plural)."""
    items = cluster.client.list(kind, None if all_namespaces else cluster.namespace, field_selector=field_selector)
    if not items:
        where = "any namespace" if all_namespaces else f'namespace "{cluster.namespace}"'
        typer.echo(f"No {noun} found in {where}.", err=True)
        return
    for line in table(items):
        typer.echo(line)


@with_option_groups
def _rollouts_command(
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="List rollouts in every namespace.")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="Only show the rollout with this name.")] = None,
    *,
    cluster_options: ClusterOptions,
) -> None:
    """List the rollouts of a namespace (the context's by default), or of all namespaces with -A."""

    def table(rollouts: list[JsonObject]) -> list[str]:
        rollouts.sort(key=lambda r: ((r.get("metadata") or {}).get("namespace", ""), r["metadata"].get("name", "")))
        return rollout_table(rollouts, all_namespaces=all_namespaces)

    with cluster_options.connected() as cluster:
        _print_listing(cluster, ROLLOUTS, "rollouts", table, all_namespaces=all_namespaces,
                       field_selector=f"metadata.name={name}" if name else None)


list_app.command("rollouts")(_rollouts_command)
list_app.command("rollout", hidden=True)(_rollouts_command)
list_app.command("ro", hidden=True)(_rollouts_command)


def analysis_run_table(runs: Sequence[JsonObject], now: datetime, *, all_namespaces: bool = False) -> list[str]:
    """NAME STATUS AGE (NAMESPACE first with ``-A``), header first."""
    headers = ["NAMESPACE", "NAME", "STATUS", "AGE"] if all_namespaces else ["NAME", "STATUS", "AGE"]
    rows: list[list[str]] = [headers]
    for run in runs:
        meta = run.get("metadata") or {}
        row = [str(meta.get("name", "")), analysis_run_phase(run), age(parse_time(meta.get("creationTimestamp")), now)]
        rows.append([str(meta.get("namespace", "")), *row] if all_namespaces else row)
    widths = [max(len(row[i]) for row in rows) + COLUMN_GAP for i in range(len(headers) - 1)]
    return [_line(row, widths) for row in rows]


def newest_first(runs: list[JsonObject]) -> list[JsonObject]:
    """AnalysisRuns by namespace, newest first within one (the run that matters is usually the latest), then name."""
    runs = sorted(runs, key=lambda r: str((r.get("metadata") or {}).get("name", "")))
    runs.sort(key=lambda r: str((r.get("metadata") or {}).get("creationTimestamp", "")), reverse=True)
    runs.sort(key=lambda r: str((r.get("metadata") or {}).get("namespace", "")))
    return runs


@with_option_groups
def _analysis_runs_command(
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="List AnalysisRuns in every namespace.")
    ] = False,
    *,
    cluster_options: ClusterOptions,
) -> None:
    """List the AnalysisRuns of a namespace (the context's by default), or of all namespaces with -A."""

    def table(runs: list[JsonObject]) -> list[str]:
        return analysis_run_table(newest_first(runs), datetime.now(UTC), all_namespaces=all_namespaces)

    with cluster_options.connected() as cluster:
        _print_listing(cluster, ANALYSIS_RUNS, "AnalysisRuns", table, all_namespaces=all_namespaces)


list_app.command("analysisruns")(_analysis_runs_command)
list_app.command("analysisrun", hidden=True)(_analysis_runs_command)
list_app.command("ar", hidden=True)(_analysis_runs_command)
