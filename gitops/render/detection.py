"""Which tool renders a source, decided as Argo CD decides it.

An Application may name the tool by setting exactly one of ``directory``, ``helm``, ``kustomize`` (and ``plugin``,
which this engine does not run). Otherwise the source directory's own files decide: a kustomization file makes it
Kustomize, a ``Chart.yaml`` Helm, anything else a plain Directory. With both, Kustomize wins: Argo CD walks the files
in name order and the later match (``kustomization.yaml`` sorts after ``Chart.yaml``) overwrites the earlier.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops.render.errors import RenderError

DIRECTORY = "Directory"
KUSTOMIZE = "Kustomize"
HELM = "Helm"
PLUGIN = "Plugin"

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
CHART_FILE = "Chart.yaml"

_EXPLICIT = {"directory": DIRECTORY, "helm": HELM, "kustomize": KUSTOMIZE, "plugin": PLUGIN}


def explicit_source_type(source: Mapping[str, Any]) -> str | None:
    """The tool the source names by its options, or None when it names none.

    Raises RenderError when it names more than one (Argo CD: "multiple application sources defined").
    """
    named = [kind for field, kind in _EXPLICIT.items() if source.get(field) is not None]
    if len(named) > 1:
        raise RenderError(
            f"multiple application sources defined: spec.source sets {', '.join(named)}; set only one"
        )
    return named[0] if named else None


def kustomization_file(directory: Path) -> Path | None:
    """The directory's kustomization file, if it has one."""
    for name in KUSTOMIZATION_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def discovered_source_type(directory: Path) -> str:
    """The tool Argo CD picks from the files of ``directory`` alone."""
    if kustomization_file(directory) is not None:
        return KUSTOMIZE
    if (directory / CHART_FILE).is_file():
        return HELM
    return DIRECTORY


def source_type(source: Mapping[str, Any], directory: Path) -> str:
    """The tool that renders ``source`` checked out at ``directory``: named by the source, else discovered.
    A chart from a Helm repository is always Helm."""
    if source.get("chart"):
        return HELM
    explicit = explicit_source_type(source)
    return explicit if explicit is not None else discovered_source_type(directory)
