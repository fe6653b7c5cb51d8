"""The ``git`` generator: parameter sets from a repository's directories or from the files it holds.

Directories: every directory of the repository (dot-directories and what is below them skipped) matching some
``directories[].path`` (Go's ``path.Match``: ``*`` stays within one path segment) and no ``exclude: true`` entry —
an exclusion wins whatever the order. Files: every file matching a ``files[].path`` glob (``**`` crosses
segments), parsed as JSON or YAML; a file holding a list gives one parameter set per item.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import yaml

from gitops.appset.generators.list_generator import GeneratorError
from gitops.appset.go_template import TemplateError
from gitops.appset.names import sanitize_name
from gitops.appset.parameters import Params, flatten
from gitops.appset.templating import render_value
from gitops.patterns import GO_PATH, PatternError, compile_glob, file_glob_match


class GitReader(Protocol):
    """What the generator reads from a repository (the repo server provides it)."""

    def list_directories(self, repo_url: str, revision: str) -> list[str]: ...

    def read_files(self, repo_url: str, revision: str, pattern: str) -> dict[str, bytes]: ...


def _directory_pattern(glob: str) -> re.Pattern[str]:
    """A ``directories[].path`` compiled as Go's ``path.Match`` reads it; an unreadable one is an error."""
    try:
        return compile_glob(glob, GO_PATH)
    except PatternError as error:
        raise GeneratorError(f"git path pattern {glob!r}: {error}") from None


def _visible(path: str) -> bool:
    return not any(part.startswith(".") for part in path.split("/"))


def selected_directories(entries: Sequence[Mapping[str, Any]], directories: Sequence[str]) -> list[str]:
    """The directories some include entry matches and no exclude entry does, sorted."""
    chosen: list[str] = []
    for directory in sorted(set(directories)):
        if not directory or directory == "." or not _visible(directory):
            continue
        included = excluded = False
        for entry in entries:
            if _directory_pattern(str(entry.get("path", ""))).match(directory):
                if entry.get("exclude"):
                    excluded = True
                else:
                    included = True
        if included and not excluded:
            chosen.append(directory)
    return chosen


def _path_params(directory: str, *, go: bool, filename: str | None, prefix: str) -> Params:
    segments = directory.split("/") if directory else []
    basename = posixpath.basename(directory) if directory else ""
    key = f"{prefix}.path" if prefix else "path"
    if go:
        value: dict[str, Any] = {
            "path": directory,
            "basename": basename,
            "basenameNormalized": sanitize_name(basename),
            "segments": segments,
        }
        if filename is not None:
            value["filename"] = filename
            value["filenameNormalized"] = sanitize_name(filename)
        if prefix:
            return {prefix: {"path": value}}
        return {"path": value}
    params: Params = {
        key: directory,
        f"{key}.basename": basename,
        f"{key}.basenameNormalized": sanitize_name(basename),
    }
    if filename is not None:
        params[f"{key}.filename"] = filename
        params[f"{key}.filenameNormalized"] = sanitize_name(filename)
    for index, segment in enumerate(segments):
        if segment:
            params[f"{key}[{index}]"] = segment
    return params


def _with_values(params: Params, values: Mapping[str, Any], *, go: bool) -> Params:
    if not values:
        return params
    try:
        rendered = render_value(dict(values), params, go=go)
    except TemplateError as error:
        raise TemplateError(f"git.values: {error}") from error
    if go:
        return {**params, "values": rendered}
    return {**params, **{f"values.{key}": str(value) for key, value in rendered.items()}}


def _parse_file(path: str, content: bytes) -> list[Mapping[str, Any]]:
    text = content.decode("utf-8", errors="replace")
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise GeneratorError(f"git file {path}: unable to parse: {error}") from error
    items = data if isinstance(data, list) else [data] if data is not None else []
    for item in items:
        if not isinstance(item, Mapping):
            raise GeneratorError(f"git file {path}: expected an object or a list of objects")
    return items


def git_params(spec: Mapping[str, Any], reader: GitReader, *, go: bool) -> list[Params]:
    """Parameter sets of a git generator, reading the repository through ``reader``."""
    repo_url = str(spec.get("repoURL") or "")
    revision = str(spec.get("revision") or "HEAD")
    prefix = str(spec.get("pathParamPrefix") or "")
    values = spec.get("values") or {}
    if not repo_url:
        raise GeneratorError("git.repoURL is required")
    if spec.get("directories"):
        directories = selected_directories(spec["directories"], reader.list_directories(repo_url, revision))
        return [
            _with_values(_path_params(directory, go=go, filename=None, prefix=prefix), values, go=go)
            for directory in directories
        ]
    found: list[Params] = []
    for entry in spec.get("files") or []:
        pattern = str(entry.get("path", ""))
        files = reader.read_files(repo_url, revision, pattern)
        for path in sorted(files):
            if not file_glob_match(pattern, path) or not _visible(path):
                continue
            directory, filename = posixpath.split(path)
            for item in _parse_file(path, files[path]):
                content: Params = dict(item) if go else flatten(item)
                found.append(
                    _with_values({**content, **_path_params(directory, go=go, filename=filename, prefix=prefix)},
                                 values, go=go)
                )
    if not spec.get("files") and not spec.get("directories"):
        raise GeneratorError("git generator needs directories or files")
    return found
