"""Source directories in `rollouts lint`: a Kustomize or Helm directory is rendered, as the sync engine would
render it, and its output linted, instead of its inputs (``kustomization.yaml``, ``Chart.yaml``, values files,
templates) being read as manifests.

A render that needs what lint cannot have is skipped with a note rather than reported as an error: a chart
dependency from a remote Helm repository (lint downloads nothing), or a kustomization resource that the directory's
``.gitignore`` marks as generated at render time (a config management plugin's output, e.g. Argo CD's
kustomized-helm example).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gitops.render.detection import CHART_FILE, HELM, KUSTOMIZATION_FILES, discovered_source_type, kustomization_file
from gitops.render.errors import RenderError
from gitops.render.helm import DependencyUnavailable
from gitops.render.source import RenderContext, render_source
from gitops.resources import JsonObject

SOURCE_FILES = (*KUSTOMIZATION_FILES, CHART_FILE)
LINT_NAMESPACE = "default"


def is_source_root(directory: Path) -> bool:
    """Whether the directory is rendered by a tool (Kustomize or Helm) rather than read file by file."""
    return discovered_source_type(directory) != "Directory"


def source_roots(directory: Path) -> list[Path]:
    """Every Kustomize or Helm directory at or below ``directory`` (hidden ones and a chart's insides — its
    subcharts, rendered with it — left out), in a stable order."""
    found: list[Path] = []
    pending = [directory]
    while pending:
        current = pending.pop()
        kind = discovered_source_type(current)
        if kind != "Directory":
            found.append(current)
        if kind == HELM:
            continue
        pending.extend(
            child for child in current.iterdir() if child.is_dir() and not child.name.startswith(".")
        )
    return sorted(found)


def inside_source_root(directory: Path, roots: list[Path]) -> bool:
    """Whether a directory's files are inputs of a rendered source (so not manifests of their own)."""
    return any(directory == root or directory.is_relative_to(root) for root in roots)


@dataclass
class RenderedSource:
    """What rendering one source directory gave lint: manifests, or a note why it was skipped, or an error."""

    directory: Path
    source_type: str
    manifests: list[JsonObject] = field(default_factory=list)
    note: str | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        """How findings name the rendered output: the directory and the tool."""
        return f"{self.directory} ({self.source_type})"


def _ignored_by_gitignore(directory: Path, name: str) -> bool:
    ignore = directory / ".gitignore"
    if not ignore.is_file():
        return False
    patterns = [line.strip().lstrip("/") for line in ignore.read_text(errors="replace").splitlines()]
    return any(pattern and not pattern.startswith("#") and fnmatch.fnmatch(name, pattern) for pattern in patterns)


def generated_resources(directory: Path) -> list[str]:
    """Resources a kustomization lists that are absent and ignored by Git: made at render time by a plugin."""
    found = kustomization_file(directory)
    if found is None:
        return []
    try:
        kustomization = yaml.safe_load(found.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # the build reports an unreadable kustomization with its own message
    if not isinstance(kustomization, dict):
        return []
    listed = [str(item) for item in kustomization.get("resources") or [] if isinstance(item, str)]
    return [
        item
        for item in listed
        if "://" not in item
        and not (directory / item).exists()
        and _ignored_by_gitignore(directory, Path(item).name)
    ]


def render_for_lint(directory: Path, base: Path) -> RenderedSource:
    """Render a source directory the way the engine would (chart defaults, the directory name as release name)."""
    kind = discovered_source_type(directory)
    outcome = RenderedSource(directory, kind)
    if kind == "Kustomize":
        generated = generated_resources(directory)
        if generated:
            outcome.note = (
                f"not rendered: {', '.join(generated)} is made at render time (listed in .gitignore; "
                "a config management plugin builds it)"
            )
            return outcome
    root = base if directory.is_relative_to(base) else directory
    context = RenderContext(app_name=directory.resolve().name or "app", namespace=LINT_NAMESPACE)
    try:
        _, outcome.manifests = render_source({}, directory, root, context)
    except DependencyUnavailable as error:
        outcome.note = f"not rendered: {error} (lint downloads no charts; run `helm dependency build` to vendor it)"
    except RenderError as error:
        outcome.error = f"cannot render as {kind}: {error}"
    return outcome
