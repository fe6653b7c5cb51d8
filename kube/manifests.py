"""Kubernetes manifests read from YAML files and directories, one document at a time.

YAML is read the way ``kubectl`` reads it, not the way PyYAML would by default: timestamps stay strings (the
API server receives them as JSON strings) and a key repeated in one mapping is an error rather than a silent
overwrite. A document that cannot be used is reported with its position instead of ending the whole file, so
a linter can show every problem; a path that cannot be read at all raises :class:`ManifestReadError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

MANIFEST_SUFFIXES = (".yaml", ".yml")


class ManifestReadError(Exception):
    """A path that cannot be read at all: missing, not permitted, or not UTF-8 text."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True)
class ManifestProblem:
    """Why one document is not a usable Kubernetes object, with its 1-based position when known."""

    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        where = f"line {self.line}" if self.column is None else f"line {self.line}, column {self.column}"
        return f"{where}: {self.message}"


class LoadedDocument(NamedTuple):
    """One document of a file: its 0-based position in the file, and the object or a problem.

    Exactly one of ``manifest`` and ``problem`` is set. Empty documents are not yielded, but still count
    for the positions of the documents after them.
    """

    path: Path
    doc_index: int
    manifest: dict[str, Any] | None
    problem: ManifestProblem | None = None


class _KubernetesYamlLoader(yaml.SafeLoader):
    """SafeLoader without timestamp conversion, and with duplicate keys rejected."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<` merges are meant to be overridden by the keys beside them
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key; the base class reports it
            if duplicate:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


# Copy the resolver table before editing it, so PyYAML's own SafeLoader keeps resolving timestamps.
_KubernetesYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# PyYAML rejects a tab after a plain value ("kind: Service<TAB>"), which the YAML spec and kubectl accept.
# Dropping trailing whitespace that contains a tab keeps every line and column where it was.
_TRAILING_TABS = re.compile(r"[ \t]*\t[ \t]*$", re.MULTILINE)


def manifest_files(
    paths: Iterable[Path | str], *, skip_directory: Callable[[Path], bool] | None = None
) -> list[Path]:
    """The manifest files named by ``paths``: files as given, directories searched recursively for
    ``*.yaml`` / ``*.yml`` (hidden files and directories skipped), in a stable order.

    ``skip_directory`` leaves out a directory found in the search, with everything beneath it (a caller that reads
    some directories another way — a Helm chart, a kustomization — says which).
    Raises ManifestReadError for a path that does not exist.
    """
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(_files_under(path, skip_directory))
        elif path.exists():
            files.append(path)
        else:
            raise ManifestReadError(path, "no such file or directory")
    return files


def _files_under(directory: Path, skip_directory: Callable[[Path], bool] | None = None) -> list[Path]:
    found: list[Path] = []
    for parent, subdirectories, names in os.walk(directory):
        subdirectories[:] = [
            name
            for name in subdirectories
            if not name.startswith(".") and not (skip_directory and skip_directory(Path(parent, name)))
        ]
        for name in names:
            candidate = Path(parent, name)
            if not name.startswith(".") and candidate.suffix.lower() in MANIFEST_SUFFIXES and candidate.is_file():
                found.append(candidate)
    return sorted(found)


def load_manifests(paths: Iterable[Path | str]) -> Iterator[LoadedDocument]:
    """Every document of every manifest file under ``paths`` (see :func:`manifest_files`)."""
    for path in manifest_files(paths):
        yield from load_file(path)


def load_file(path: Path | str) -> Iterator[LoadedDocument]:
    """The documents of one YAML file. Raises ManifestReadError when the file cannot be read as UTF-8 text."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: editors on Windows may add a BOM
    except FileNotFoundError:
        raise ManifestReadError(path, "no such file or directory") from None
    except IsADirectoryError:
        raise ManifestReadError(path, "is a directory") from None
    except PermissionError:
        raise ManifestReadError(path, "permission denied") from None
    except UnicodeDecodeError as error:
        raise ManifestReadError(path, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ManifestReadError(path, error.strerror or str(error)) from None
    yield from load_text(text, path)


def load_text(text: str, path: Path | str = "<text>") -> Iterator[LoadedDocument]:
    """The documents of YAML text; ``path`` only labels the results."""
    path = Path(path)
    loader = _KubernetesYamlLoader(_TRAILING_TABS.sub("", text))
    index = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    return
                node = loader.get_node()
                data = loader.construct_document(node) if node is not None else None
            except yaml.MarkedYAMLError as error:
                # The stream cannot be followed past a syntax error: report it and stop reading this file.
                yield LoadedDocument(path, index, None, _syntax_problem(error))
                return
            except yaml.YAMLError as error:
                yield LoadedDocument(path, index, None, ManifestProblem(f"invalid YAML: {error}"))
                return
            if data is not None:
                problem = _object_problem(data, node)
                yield LoadedDocument(path, index, None if problem else data, problem)
            index += 1
    finally:
        loader.dispose()


def _syntax_problem(error: yaml.MarkedYAMLError) -> ManifestProblem:
    mark = error.problem_mark or error.context_mark
    message = error.problem or "invalid YAML"
    if error.context:
        message += f" ({error.context})"
    if mark is None:
        return ManifestProblem(f"invalid YAML: {message}")
    return ManifestProblem(f"invalid YAML: {message}", mark.line + 1, mark.column + 1)


_YAML_SHAPES: dict[type, str] = {
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


def _object_problem(data: object, node: Node | None) -> ManifestProblem | None:
    """Why a parsed document is not a Kubernetes object, or None when it is one."""
    line = node.start_mark.line + 1 if node is not None else None
    if not isinstance(data, dict):
        shape = _YAML_SHAPES.get(type(data), "a scalar")
        return ManifestProblem(f"document is {shape}, not a mapping with apiVersion and kind", line)
    missing = [key for key in ("apiVersion", "kind") if key not in data or data[key] in (None, "")]
    if missing:
        return ManifestProblem(f"document has no {' and no '.join(missing)}", line)
    for key in ("apiVersion", "kind"):
        if not isinstance(data[key], str):
            return ManifestProblem(f"{key} must be a string, got {data[key]!r}", line)
    return None


def describe(manifest: dict[str, Any]) -> str:
    """``Kind/name`` for messages; ``generateName`` stands in for a name the server has yet to choose."""
    metadata = manifest.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("name") or metadata.get("generateName") or "<unnamed>"
    return f"{manifest.get('kind', '<no kind>')}/{name}"
