"""How `rollouts get experiment` draws an Experiment: a header (name, namespace, status, message, images) and the
tree of what it runs — a ReplicaSet per template and an AnalysisRun per analysis — with Argo's icons (Σ for the
Experiment). Pure: objects in, lines out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from cli.tree import (
    ICON_ANALYSIS_RUN,
    ICON_EXPERIMENT,
    ICON_REPLICASET,
    Cell,
    age,
    align,
    analysis_icon,
    header_line,
    paint,
    replica_set_health,
    replica_set_icon,
)
from kube.json_data import JsonObject
from kube.timestamps import parse_time

TREE_HEADER: Final = ("NAME", "KIND", "STATUS", "AGE", "INFO")


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, Mapping) else {}


def experiment_phase(experiment: Mapping[str, Any]) -> str:
    """The Experiment's phase, ``Pending`` before its controller has written one."""
    return str(_status(experiment).get("phase") or "Pending")


def _images(replica_sets: Sequence[JsonObject]) -> list[str]:
    found: dict[str, None] = {}
    for replica_set in replica_sets:
        template = ((replica_set.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in template.get("containers") or ():
            if isinstance(container, Mapping) and container.get("image"):
                found[str(container["image"])] = None
    return list(found)


def _tree_row(obj: Mapping[str, Any], icon: str, kind: str, status: str, info: str, now: datetime) -> list[Cell]:
    """One row of the tree: the object's icon and name, its kind, its status, its age and what else it says."""
    name = _meta(obj).get("name", "")
    created = age(parse_time(_meta(obj).get("creationTimestamp")), now)
    return [Cell.of(f"{icon} {name}"), Cell.of(kind), Cell.of(status), Cell.of(created), Cell.of(info)]


def render_experiment(
    experiment: JsonObject,
    replica_sets: Sequence[JsonObject],
    runs: Sequence[JsonObject],
    now: datetime,
    *,
    color: bool = False,
) -> list[str]:
    """The page `get experiment` prints: header, blank line, tree."""
    phase = experiment_phase(experiment)
    icon = analysis_icon(phase)
    lines = [
        header_line("Name:", _meta(experiment).get("name", "")),
        header_line("Namespace:", _meta(experiment).get("namespace", "")),
        header_line("Status:", f"{paint(icon, None, color)} {phase}"),
    ]
    message = _status(experiment).get("message")
    if message:
        lines.append(header_line("Message:", message))
    images = _images(replica_sets)
    if images:
        lines.append(header_line("Images:", "\n".join(images)))
    lines.append("")
    rows: list[list[Cell]] = [[Cell.of(title) for title in TREE_HEADER]]
    rows.append(_tree_row(experiment, ICON_EXPERIMENT, "Experiment", f"{icon} {phase}", "", now))
    children: list[list[Cell]] = []
    for replica_set in replica_sets:
        health = replica_set_health(replica_set)
        spec_replicas = (replica_set.get("spec") or {}).get("replicas", 0)
        ready = f"ready:{_status(replica_set).get('readyReplicas', 0)}/{spec_replicas}"
        children.append(
            _tree_row(replica_set, ICON_REPLICASET, "ReplicaSet", f"{replica_set_icon(health)} {health}", ready, now)
        )
    for run in runs:
        run_phase = str(_status(run).get("phase") or "Pending")
        children.append(_tree_row(run, ICON_ANALYSIS_RUN, "AnalysisRun", f"{analysis_icon(run_phase)} {run_phase}", "",
                                  now))
    for index, row in enumerate(children):
        branch = "└──" if index == len(children) - 1 else "├──"
        row[0] = Cell.of(branch + row[0].render(False))
        rows.append(row)
    return lines + align(rows, color)
