"""``setMirrorRoute`` through the Gateway API: a managed HTTPRoute rule with a ``RequestMirror`` filter.

Argo's gatewayAPI plugin accepts the step and does nothing; the Gateway API can express it, so it is carried out
here as Istio's mirror route is: in every HTTPRoute the Rollout names, a rule named as the step names it, first in
``managedRoutes`` order, whose ``matches`` are the step's matches, whose ``backendRefs`` are a copy of the weighed
rule's (so mirrored requests are still answered as the weights say, and follow them), and whose ``RequestMirror``
filter sends a copy of ``percentage`` % of them (all without one) to the canary Service.

Matches: a method must be exact (the Gateway API has no method patterns); a path is ``Exact``, or
``RegularExpression`` for a regex or a prefix (anchored: Istio's prefix is a string prefix, the Gateway API's
``PathPrefix`` matches whole path elements); headers as for header routes. ``percent`` needs Gateway API 1.2 or
later. Pure: rules from the Rollout and the observed rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from kube.issues import FieldIssue
from kube.json_data import JsonObject
from kube.merge_patch import json_copy
from rollouts.models import RouteMatch, SetMirrorRoute, StringMatch

REQUEST_MIRROR: Final = "RequestMirror"
# The keys of a backendRef a RequestMirror filter takes (a BackendObjectReference: no weight, no filters).
_BACKEND_OBJECT_KEYS: Final = ("group", "kind", "name", "namespace", "port")


def mirror_match_issues(mirror: SetMirrorRoute, path: str) -> list[FieldIssue]:
    """What of a mirror step's matches the Gateway API cannot express, at the step's ``path``."""
    return [
        FieldIssue(f"{path}.match[{index}].method", "must be exact with the Gateway API (it has no method patterns)")
        for index, match in enumerate(mirror.match)
        if match.method is not None and match.method.exact is None
    ]


def is_mirror_rule(rule: Any) -> bool:
    """Whether an HTTPRoute rule mirrors requests (has a RequestMirror filter)."""
    filters = rule.get("filters") if isinstance(rule, dict) else None
    return isinstance(filters, list) and any(
        isinstance(entry, dict) and entry.get("type") == REQUEST_MIRROR for entry in filters
    )


def mirror_rule(route: SetMirrorRoute, weighed_refs: Sequence[Any], canary_ref: JsonObject) -> JsonObject:
    """The managed rule for ``route``: its matches, the weighed rule's backendRefs, and a RequestMirror filter to
    the canary backend (``percent`` only when the step sets a percentage)."""
    backend = {key: json_copy(canary_ref[key]) for key in _BACKEND_OBJECT_KEYS if key in canary_ref}
    mirror: JsonObject = {"backendRef": backend}
    if route.percentage is not None:
        mirror["percent"] = route.percentage
    return {
        "name": route.name or "",
        "matches": [_route_match(match) for match in route.match],
        "filters": [{"type": REQUEST_MIRROR, "requestMirror": mirror}],
        "backendRefs": json_copy(list(weighed_refs)),
    }


def _route_match(match: RouteMatch) -> JsonObject:
    found: JsonObject = {}
    if match.path is not None:
        found["path"] = _path_match(match.path)
    if match.method is not None and match.method.exact is not None:
        found["method"] = match.method.exact
    headers = [_header(name, value) for name, value in match.headers.items()]
    if headers:
        found["headers"] = headers
    return found


def _path_match(value: StringMatch) -> JsonObject:
    if value.exact is not None:
        return {"type": "Exact", "value": value.exact}
    if value.regex is not None:
        return {"type": "RegularExpression", "value": value.regex}
    return {"type": "RegularExpression", "value": f"^{re.escape(value.prefix or '')}.*"}


def _header(name: str, value: StringMatch) -> JsonObject:
    if value.exact is not None:
        return {"name": name, "type": "Exact", "value": value.exact}
    if value.regex is not None:
        return {"name": name, "type": "RegularExpression", "value": value.regex}
    return {"name": name, "type": "RegularExpression", "value": f"^{re.escape(value.prefix or '')}.*"}


__all__ = ["REQUEST_MIRROR", "is_mirror_rule", "mirror_match_issues", "mirror_rule"]
