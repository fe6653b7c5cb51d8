"""Kubernetes manifests read from YAML files and directories, one document at a time.

YAML is read the way ``kubectl`` reads it, not the way PyYAML would by default: timestamps stay strings (the
API server receives them as JSON strings) and a key repeated in one mapping is an error rather than a silent
overwrite. A document that cannot be used is reported with its position instead of ending the whole file, so
a linter can show every problem; a path that cannot be read at all raises :class:`ManifestReadError`.

Manifests come from users and from Git repositories, so reading one is bounded: a file larger than
:data:`MAX_MANIFEST_BYTES` is not read, a document nested deeper than :data:`MAX_DEPTH` levels (in the text or
through aliases) is refused before Python's recursion limit is near, aliases may not expand a document beyond
:data:`MAX_ALIAS_EXPANSION` values (the "billion laughs": 645 bytes that would become gigabytes), and only values
JSON can hold are accepted (no ``!!binary``, ``!!set``, ``!!omap``). Each is a problem at its line, not an
exception.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode

MANIFEST_SUFFIXES = (".yaml", ".yml")

MAX_MANIFEST_BYTES = 32 * 2**20
"""The largest manifest file read (the API server takes at most 3 MiB per object; rendered charts are bigger)."""
MAX_DEPTH = 128
"""The deepest nesting of a document, counting through aliases (CRD schemas, the deepest real manifests, stay
well under 40)."""
MAX_ALIAS_EXPANSION = 100_000
"""The most values a document that uses aliases may expand to."""

# The tags a JSON value can have: YAML's core schema without timestamps (kept strings) and the `<<` merge key.
_JSON_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq", "merge")
)
# Python refuses to turn longer digit strings into an int (sys.int_info.str_digits_check_threshold aside).
_MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300


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
    """SafeLoader without timestamp conversion, with duplicate keys rejected and nesting bounded."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # PyYAML composes recursively: refuse deep nesting while the stack is still far from Python's limit.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

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


def _too_large(path: Path | str) -> ManifestReadError:
    return ManifestReadError(path, f"larger than {MAX_MANIFEST_BYTES // 2**20} MiB, the limit for a manifest file")


def read_limited(stream: IO[str], label: str) -> str:
    """All of a text stream (stdin) up to :data:`MAX_MANIFEST_BYTES`; raises ManifestReadError beyond it."""
    text = stream.read(MAX_MANIFEST_BYTES + 1)
    if len(text) > MAX_MANIFEST_BYTES:
        raise _too_large(label)
    return text


def load_file(path: Path | str) -> Iterator[LoadedDocument]:
    """The documents of one YAML file. Raises ManifestReadError when the file cannot be read as UTF-8 text or
    is larger than :data:`MAX_MANIFEST_BYTES`."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise _too_large(path)
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
    if len(text) > MAX_MANIFEST_BYTES:
        limit = f"{MAX_MANIFEST_BYTES // 2**20} MiB"
        yield LoadedDocument(path, 0, None, ManifestProblem(f"text larger than {limit}, the limit for manifests"))
        return
    cleaned = _TRAILING_TABS.sub("", text)
    try:
        loader = _KubernetesYamlLoader(cleaned)
    except yaml.reader.ReaderError as error:
        # The reader checks every character up front: a NUL or another control character anywhere.
        yield LoadedDocument(path, 0, None, _reader_problem(error, cleaned))
        return
    index = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    return
                node = loader.get_node()
                refused = _unreadable_node(node) if node is not None else None
                if refused is not None:
                    yield LoadedDocument(path, index, None, refused)
                    return
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


def _reader_problem(error: yaml.reader.ReaderError, text: str) -> ManifestProblem:
    position = error.position
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    character = error.character if isinstance(error.character, int) else ord(error.character)
    return ManifestProblem(
        f"invalid YAML: unacceptable character #x{character:04x}: {error.reason}", line, column
    )


def _at(node: Node, message: str) -> ManifestProblem:
    return ManifestProblem(f"invalid YAML: {message}", node.start_mark.line + 1, node.start_mark.column + 1)


def _unreadable_node(root: Node) -> ManifestProblem | None:
    """Why a composed document must not be constructed, or None: a value JSON cannot hold, an integer Python
    will not read, an alias to its own ancestor, or aliases that expand it too far or too deep.

    Aliases make the node graph a DAG (or, through an ancestor, a cycle); this walks each node once, without
    recursion, and counts what the document would be once its aliases were copied out.
    """
    done: dict[int, tuple[int, int]] = {}  # node id -> (values once expanded, depth once expanded)
    open_nodes: set[int] = set()  # the current path of the depth-first walk
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            size = 1 + sum(done[id(child)][0] for child in children)
            depth = 1 + max((done[id(child)][1] for child in children), default=0)
            done[key] = (size, depth)
            continue
        if key in done:
            continue
        if key in open_nodes:
            return _at(node, "an alias refers to a value that contains it")
        if node.tag not in _JSON_TAGS:
            return _at(node, f"tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not a JSON value")
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:int":
            digits = len(node.value.strip().lstrip("+-"))
            if digits > _MAX_INT_DIGITS:
                return _at(node, f"integer of {digits} digits is too long to read (at most {_MAX_INT_DIGITS})")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children)
    expanded, depth = done[id(root)]
    if expanded > MAX_ALIAS_EXPANSION and expanded > len(done):
        return _at(root, f"aliases expand the document beyond {MAX_ALIAS_EXPANSION} values")
    if depth > MAX_DEPTH:
        return _at(root, f"nested deeper than {MAX_DEPTH} levels (through aliases)")
    return None


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, CollectionNode):
        return list(node.value)
    return []


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
