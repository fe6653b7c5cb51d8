"""The ``matrix`` and ``merge`` generators: parameter sets combined from two or more child generators."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gitops.appset.generators.list_generator import GeneratorError
from gitops.appset.parameters import Params, lookup
from gitops.appset.templating import merge_over, render_value

# Produces a child generator's parameter sets; the second argument is the parameter set the child is
# interpolated with (a matrix's second child sees the first child's parameters), or None.
ChildParams = Callable[[Mapping[str, Any], Params | None], list[Params]]


def _combine(first: Params, second: Params, *, go: bool) -> Params:
    if go:
        return merge_over(first, second)
    combined = dict(first)
    for key, value in second.items():
        if key in combined and combined[key] != value:
            raise GeneratorError(
                f"matrix: found duplicate key {key} with different value, a: {combined[key]} ,b: {value}"
            )
        combined[key] = value
    return combined


def matrix_params(spec: Mapping[str, Any], child_params: ChildParams, *, go: bool) -> list[Params]:
    """Every pairing of the first child's sets with the second's; the second child is rendered with each first set."""
    children: Sequence[Mapping[str, Any]] = spec.get("generators") or []
    if len(children) != 2:
        raise GeneratorError(f"matrix: exactly 2 child generators are allowed, got {len(children)}")
    found: list[Params] = []
    for first in child_params(children[0], None):
        second_spec = render_value(dict(children[1]), first, go=go)
        for second in child_params(second_spec, first):
            found.append(_combine(first, second, go=go))
    return found


def _merge_key(params: Params, keys: Sequence[str]) -> str | None:
    values = [lookup(params, key) for key in keys]
    if any(value is None for value in values):
        return None
    return json.dumps(values, sort_keys=True, default=str)


def merge_params(spec: Mapping[str, Any], child_params: ChildParams, *, go: bool) -> list[Params]:
    """The first child's sets, each overridden by the later children's sets whose ``mergeKeys`` values equal its own."""
    children: Sequence[Mapping[str, Any]] = spec.get("generators") or []
    keys: Sequence[str] = spec.get("mergeKeys") or []
    if len(children) < 2:
        raise GeneratorError("merge: at least 2 child generators are required")
    if not keys:
        raise GeneratorError("merge: mergeKeys is required")
    base = child_params(children[0], None)
    by_key: dict[str, int] = {}
    for index, params in enumerate(base):
        key = _merge_key(params, keys)
        if key is not None:
            if key in by_key:
                raise GeneratorError(f"merge: two parameter sets of the first generator share the merge key {key}")
            by_key[key] = index
    for child in children[1:]:
        for params in child_params(child, None):
            key = _merge_key(params, keys)
            if key is not None and key in by_key:
                index = by_key[key]
                base[index] = merge_over(base[index], params) if go else {**base[index], **params}
    return base
