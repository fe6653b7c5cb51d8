"""The Directory renderer: every manifest file of a directory (optionally recursive), filtered by include and
exclude globs, as Argo CD's ``spec.source.directory`` reads them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops.render.documents import json_object, yaml_objects
from gitops.render.errors import RenderError
from gitops.render.globs import GlobError, glob_match
from gitops.resources import JsonObject

YAML_SUFFIXES = (".yaml", ".yml")


def selected(relative: str, include: str, exclude: str) -> bool:
    """Whether a file (its path relative to the source path) is read: ``exclude`` wins over ``include``; an empty
    pattern does not filter."""
    try:
        if exclude and glob_match(exclude, relative):
            return False
        return not include or glob_match(include, relative)
    except GlobError as error:
        raise RenderError(f"spec.source.directory: {error}") from None


def manifest_paths(app_dir: Path, options: Mapping[str, Any]) -> list[Path]:
    """The files a Directory source reads, in a stable order."""
    recurse = bool(options.get("recurse"))
    include = str(options.get("include") or "")
    exclude = str(options.get("exclude") or "")
    found: list[Path] = []
    for directory, subdirectories, files in os.walk(app_dir):
        subdirectories[:] = sorted(d for d in subdirectories if d != ".git") if recurse else []
        for name in sorted(files):
            path = Path(directory, name)
            if path.suffix not in (*YAML_SUFFIXES, ".json", ".jsonnet"):
                continue
            if selected(path.relative_to(app_dir).as_posix(), include, exclude):
                found.append(path)
    return found


def render_directory(app_dir: Path, options: Mapping[str, Any], *, label_root: Path) -> list[JsonObject]:
    """The manifests of a Directory source; files are named relative to ``label_root`` in errors."""
    manifests: list[JsonObject] = []
    for path in manifest_paths(app_dir, options):
        label = path.relative_to(label_root).as_posix() if path.is_relative_to(label_root) else str(path)
        if path.suffix == ".jsonnet":
            raise RenderError(
                f"{label}: Jsonnet is not supported by this engine; exclude the file or render it to YAML"
            )
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise RenderError(f"{label}: cannot read the file: {error}") from None
        manifests.extend(json_object(text, label) if path.suffix == ".json" else yaml_objects(text, label))
    return manifests
