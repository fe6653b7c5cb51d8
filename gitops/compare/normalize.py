"""Normalisation applied to both sides of a comparison, so fields nobody wrote by hand never make a diff.

- metadata the API server owns (creationTimestamp, uid, resourceVersion, generation, managedFields, selfLink) goes;
- the ``status`` of custom resources goes (``ignore_status="crd"``, Argo CD's
  ``resource.compareoptions.ignoreResourceStatusField`` default), of every resource with ``"all"``, of none with
  ``"off"``;
- a Secret's ``stringData`` is folded into base64 ``data``, as the API server stores it;
- resource quantities (``cpu: 1`` / ``"1000m"``, ``memory: 1Gi`` / ``"1024Mi"``) are written one canonical way.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from gitops.compare.json_tree import copy_tree
from gitops.resources import JsonObject, group_of

SERVER_METADATA = ("creationTimestamp", "uid", "resourceVersion", "generation", "managedFields", "selfLink")
IGNORE_STATUS_CRD, IGNORE_STATUS_ALL, IGNORE_STATUS_OFF = "crd", "all", "off"
IGNORE_STATUS_MODES = (IGNORE_STATUS_CRD, IGNORE_STATUS_ALL, IGNORE_STATUS_OFF)

# API groups served by Kubernetes itself; anything else is a custom resource.
BUILT_IN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "extensions",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)

_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")
_SUFFIX = {
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
# Maps whose values are all quantities, by the key that holds them.
_QUANTITY_MAPS = frozenset({"limits", "requests", "hard", "default", "defaultRequest", "max", "min", "capacity"})


def is_custom_resource(obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` is of an API group Kubernetes does not serve itself."""
    return group_of(str(obj.get("apiVersion", ""))) not in BUILT_IN_GROUPS


def canonical_quantity(value: Any) -> Any:
    """A Kubernetes quantity as one canonical decimal string (``"1000m"`` and ``1`` → ``"1"``); others unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return value
    match = _QUANTITY.match(str(value).strip())
    if match is None:
        return value
    number, suffix = match.groups()
    try:
        amount = Decimal(number)
        if suffix in _SUFFIX:
            amount *= _SUFFIX[suffix]
        elif suffix:
            amount *= Decimal(10) ** int(suffix[1:])
    except (InvalidOperation, ValueError):
        return value
    return format(amount.normalize(), "f")


def _is_quantity(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, str)) and bool(_QUANTITY.match(str(value)))


def _canonical_quantities(node: Any) -> None:
    if isinstance(node, dict):
        for key, child in node.items():
            # Only maps made wholly of quantities (resources.limits, ResourceQuota spec.hard, ...) are rewritten.
            if key in _QUANTITY_MAPS and isinstance(child, dict) and all(map(_is_quantity, child.values())):
                for name, quantity in child.items():
                    child[name] = canonical_quantity(quantity)
            else:
                _canonical_quantities(child)
    elif isinstance(node, list):
        for item in node:
            _canonical_quantities(item)


def fold_string_data(secret: JsonObject) -> None:
    """Move a Secret's ``stringData`` into base64 ``data`` in place (stringData wins, as in the API server)."""
    string_data = secret.pop("stringData", None)
    if not isinstance(string_data, Mapping):
        return
    data = secret.get("data")
    merged = dict(data) if isinstance(data, Mapping) else {}
    for key, value in string_data.items():
        merged[key] = base64.b64encode(str(value).encode()).decode()
    secret["data"] = merged


def normalize(obj: JsonObject, *, ignore_status: str = IGNORE_STATUS_CRD) -> JsonObject:
    """A normalised deep copy of ``obj`` (see the module docstring for what changes)."""
    if ignore_status not in IGNORE_STATUS_MODES:
        raise ValueError(
            f"resource.compareoptions.ignoreResourceStatusField: unknown value {ignore_status!r}; "
            f"expected one of {', '.join(IGNORE_STATUS_MODES)}"
        )
    result = copy_tree(obj)
    metadata = result.get("metadata")
    if isinstance(metadata, dict):
        for field in SERVER_METADATA:
            metadata.pop(field, None)
    if ignore_status == IGNORE_STATUS_ALL or (ignore_status == IGNORE_STATUS_CRD and is_custom_resource(result)):
        result.pop("status", None)
    if result.get("kind") == "Secret" and group_of(str(result.get("apiVersion", ""))) == "":
        fold_string_data(result)
    _canonical_quantities(result)
    return result
