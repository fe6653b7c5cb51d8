"""The Kustomize renderer: ``kustomize build`` (or ``kubectl kustomize`` when no ``kustomize`` binary is installed)
on the source path, after the Application's kustomize options are written into a copy of the kustomization."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gitops.render.detection import kustomization_file
from gitops.render.documents import yaml_objects
from gitops.render.errors import RenderError
from gitops.render.kustomize_edits import edited_kustomization, has_edits
from gitops.resources import JsonObject


def kustomize_command() -> list[str]:
    """How to run a build here: the ``kustomize`` binary, else ``kubectl kustomize``."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise RenderError("Kustomize source: neither `kustomize` nor `kubectl` is installed")


# kubectl prefixes its error with a klog header: `E1207 01:40:06.363368   13295 run.go:72] "command failed" err=`.
_KLOG_HEADER = re.compile(r"^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] ")


def _tool_message(stderr: str) -> str:
    """The error kustomize printed, without deprecation warnings and kubectl's log header."""
    lines = [_KLOG_HEADER.sub("", line) for line in stderr.splitlines() if not line.startswith("# Warning")]
    return "\n".join(line for line in lines if line.strip()).strip()


def _build(directory: Path, label: str, timeout: float, env: Mapping[str, str], hide: str) -> str:
    try:
        result = subprocess.run(
            [*kustomize_command(), str(directory)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"{label}: kustomize build timed out after {timeout:g}s") from None
    if result.returncode != 0:
        # Name files as the repository does, not by the scratch directory they were built in.
        message = _tool_message(result.stderr).replace(hide + "/", "").replace(hide, ".")
        raise RenderError(f"{label}: kustomize build failed: {message}")
    return result.stdout


def render_kustomize(
    app_dir: Path,
    repo_root: Path,
    options: Mapping[str, Any] | None,
    *,
    timeout: float = 60.0,
    variables: Mapping[str, str] | None = None,
) -> list[JsonObject]:
    """The manifests ``kustomize build`` makes of ``app_dir`` (inside ``repo_root``), with ``options`` applied."""
    variables = dict(variables or {})
    relative = app_dir.relative_to(repo_root)
    label = relative.as_posix() or "."
    if not has_edits(options):
        output = _build(app_dir, label, timeout, variables, str(repo_root))
        return yaml_objects(output, f"{label} (kustomize build output)", strict=True)
    with tempfile.TemporaryDirectory(prefix="rollouts-kustomize-") as scratch:
        # Bases and overlays may reach anywhere in the repository, so the whole tree is copied (files only as
        # data: the checkout is read-only and the copy must not be).
        copy_root = Path(scratch) / "repo"
        shutil.copytree(repo_root, copy_root, symlinks=True, copy_function=shutil.copyfile)
        for directory, _, _ in os.walk(copy_root):
            os.chmod(directory, 0o755)
        target = copy_root / relative
        found = kustomization_file(target)
        if found is None:
            raise RenderError(f"{label}: no kustomization.yaml, kustomization.yml or Kustomization in the path")
        try:
            current = yaml.safe_load(found.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise RenderError(f"{label}/{found.name}: invalid YAML: {error}") from None
        if not isinstance(current, dict):
            raise RenderError(f"{label}/{found.name}: not a mapping")
        edited = edited_kustomization(
            current,
            options or {},
            variables=variables,
            component_exists=lambda path: (target / path).exists(),
        )
        found.unlink()
        found.write_text(yaml.safe_dump(edited, sort_keys=False), encoding="utf-8")
        output = _build(target, label, timeout, variables, str(copy_root))
    return yaml_objects(output, f"{label} (kustomize build output)", strict=True)
