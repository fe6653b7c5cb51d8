"""Decoding request bodies (JSON and YAML) within the bounds a real API server keeps, so that a hostile body is a
400 naming the problem rather than a traceback or a server busy for minutes.

- YAML aliases are expanded by reference when read, but every later step (copying, validation, the response)
  walks them in full: a ~700-byte "billion laughs" document becomes 10^9 strings. go-yaml, which kube-apiserver
  reads YAML with, refuses "excessive aliasing"; so does this module, counting the nodes the aliases expand to
  before building anything.
- Nesting: Python's parsers and every recursive walk after them stop near 1,000 levels with a RecursionError;
  bodies are refused beyond ``MAX_NESTING`` levels (kube-apiserver's JSON decoder allows 10,000; no Kubernetes
  object comes near either).
"""

from __future__ import annotations

import json
from typing import Any, Final

import yaml

# Deeper bodies are refused. Objects of real clusters, CRD schemas included, stay under about 40 levels.
MAX_NESTING: Final = 200
# Nodes an alias expansion may add beyond the document as written: generous for anchors used as intended
# (shared label sets, repeated container specs), far below what a bomb expands to.
MAX_ALIAS_EXPANSION: Final = 100_000


class BodyError(ValueError):
    """A body that cannot be decoded; the message says why, in the API server's words where it has them."""


class _JsonCompatibleLoader(yaml.SafeLoader):
    """YAML as the API server reads it (converted to JSON): dates and times stay strings."""


_JsonCompatibleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def decode_json(body: bytes) -> Any:
    """The JSON document in ``body``."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise BodyError(str(exc)) from None
    check_nesting(value)
    return value


def decode_yaml(body: bytes) -> Any:
    """The single YAML document in ``body`` (JSON is YAML too), aliases bounded as go-yaml bounds them."""
    loader = _JsonCompatibleLoader(body)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(node)
        value = loader.construct_document(node)
    except RecursionError:
        raise _too_deep() from None
    except yaml.YAMLError as exc:
        raise BodyError(str(exc)) from None
    finally:
        loader.dispose()
    check_nesting(value)
    return value


def check_nesting(value: Any) -> None:
    """Raise :class:`BodyError` when ``value`` nests objects and arrays deeper than ``MAX_NESTING``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            raise _too_deep()
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values() if isinstance(child, (dict, list)))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))


def _too_deep() -> BodyError:
    return BodyError(f"the request body nests objects and arrays more than {MAX_NESTING} levels deep")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_aliases(root: yaml.Node) -> None:
    """Count the nodes ``root`` expands to (an alias counts its target's nodes again), without expanding."""
    sizes: dict[int, int] = {}
    unique = 0
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            in_progress.discard(key)
            if sizes[key] - unique > MAX_ALIAS_EXPANSION:
                raise BodyError("yaml: document contains excessive aliasing")
            continue
        if key in sizes:
            continue
        if key in in_progress:
            raise BodyError("yaml: document contains a recursive alias")  # JSON cannot hold a cycle
        in_progress.add(key)
        unique += 1
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
