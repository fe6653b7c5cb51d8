"""Field ownership: server-side apply and the ``Update`` records of every other write. Pure: no store, no clock.

Each ``metadata.managedFields`` entry names a manager (with its operation, ``Apply`` or ``Update``, and the
subresource it wrote through) and the set of fields it owns. The rules are upstream's (structured-merge-diff):

* an **update** (create, PUT, any non-apply patch) gives its manager the fields it changed or added and takes them
  from every other manager; removed fields leave every set;
* an **apply** merges the applied configuration into the object; fields whose value it changes that another manager
  owns are **conflicts** (refused unless forced; forcing takes them over); the applier then owns exactly the fields
  of its configuration, and fields it owned before, no longer applies, and nobody else owns are removed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kube.json_data import decoded_json_object
from kube.merge_patch import json_copy
from sandbox.emulator import managed_fields
from sandbox.emulator.managed_fields import FieldsError, FieldType, FieldTypeOf, Names, Path

Operation = Literal["Apply", "Update"]
Scope = Literal["main", "status", "all"]
MAX_MANAGER_LENGTH = 128
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
KUBECTL_MANAGER = "kubectl"  # the manager kubectl apply --server-side uses by default


@dataclass(frozen=True, slots=True)
class ManagerEntry:
    """One ``metadata.managedFields`` entry, its fields decoded."""

    manager: str
    operation: Operation
    api_version: str
    time: str | None
    subresource: str
    fields: frozenset[Path]
    # The FieldsV1 document the fields were read from, reused while they are unchanged (encoding is not free).
    fields_v1: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def identity(self) -> tuple[str, str, str]:
        # Upstream keeps one entry per manager, operation and subresource.
        return (self.manager, self.operation, self.subresource)

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"manager": self.manager, "operation": self.operation,
                                 "apiVersion": self.api_version}
        if self.time is not None:
            entry["time"] = self.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = self.fields_v1 if self.fields_v1 is not None else managed_fields.encode(self.fields)
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field the applier would change that ``owner`` owns."""

    owner: ManagerEntry
    path: Path

    @property
    def field(self) -> str:
        return managed_fields.path_string(self.path)

    @property
    def message(self) -> str:
        return f"conflict with {describe_manager(self.owner)}"


class ApplyConflict(Exception):
    """An apply would change fields other managers own; ``force`` was not given."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        super().__init__(conflict_message(conflicts))

    def causes(self) -> list[dict[str, str]]:
        """``Status.details.causes`` as the API server words them."""
        return [{"reason": "FieldManagerConflict", "message": c.message, "field": c.field} for c in self.conflicts]


def describe_manager(entry: ManagerEntry) -> str:
    """How conflict messages name a manager: ``"mgr"``, or ``"mgr" using apps/v1 at <time>`` for an Update."""
    text = f'"{entry.manager}"'
    if entry.subresource:
        text += f' with subresource "{entry.subresource}"'
    if entry.operation == "Update":
        text += f" using {entry.api_version}"
        if entry.time:
            text += f" at {entry.time}"
    return text


def conflict_message(conflicts: list[Conflict]) -> str:
    """The Status message of a refused apply, worded as upstream's."""
    if len(conflicts) == 1:
        only = conflicts[0]
        return f"Apply failed with 1 conflict: {only.message}: {only.field}"
    by_owner: dict[str, list[Conflict]] = {}
    for conflict in conflicts:
        by_owner.setdefault(describe_manager(conflict.owner), []).append(conflict)
    lines: list[str] = []
    for owner in sorted(by_owner):
        lines.append(f"conflict with {owner}:")
        lines.extend(f"- {c.field}" for c in by_owner[owner])
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def default_manager(field_manager: str | None, user_agent: str | None) -> str:
    """The manager of a non-apply write: ``fieldManager``, else the User-Agent's product (``kubectl-edit``)."""
    if field_manager:
        return field_manager
    product = (user_agent or "").split("/", 1)[0].strip()
    return product[:MAX_MANAGER_LENGTH] or "unknown"


# --------------------------------------------------------------------------------------------------
# Reading and writing managedFields
# --------------------------------------------------------------------------------------------------


def read_entries(obj: Mapping[str, Any] | None) -> list[ManagerEntry]:
    """The object's managedFields entries; :class:`FieldsError` when they are malformed."""
    if obj is None:
        return []
    raw = (obj.get("metadata") or {}).get("managedFields") or []
    if not isinstance(raw, list):
        raise FieldsError("metadata.managedFields must be a list")
    entries: list[ManagerEntry] = []
    for number, item in enumerate(raw):
        if not isinstance(item, dict):
            raise FieldsError(f"metadata.managedFields[{number}] must be an object")
        operation = item.get("operation")
        if operation not in ("Apply", "Update"):
            raise FieldsError(f"metadata.managedFields[{number}].operation must be Apply or Update")
        if item.get("fieldsType", "FieldsV1") != "FieldsV1":
            raise FieldsError(f"metadata.managedFields[{number}].fieldsType must be FieldsV1")
        time = item.get("time")
        fields_v1 = item.get("fieldsV1", {})
        entries.append(ManagerEntry(
            manager=str(item.get("manager", "")),
            operation=operation,
            api_version=str(item.get("apiVersion", "")),
            time=str(time) if time is not None else None,
            subresource=str(item.get("subresource", "")),
            fields=frozenset(managed_fields.decode(fields_v1)),
            fields_v1=fields_v1 if isinstance(fields_v1, dict) else None,
        ))
    return entries



def write_entries(entries: list[ManagerEntry]) -> list[dict[str, Any]]:
    """Entries in upstream's order (Apply before Update, then by time, manager, apiVersion, subresource)."""
    ordered = sorted(entries, key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource))
    return [entry.to_json() for entry in ordered]


# --------------------------------------------------------------------------------------------------
# Update
# --------------------------------------------------------------------------------------------------


def record_update(old: Mapping[str, Any] | None, new: Mapping[str, Any], *, manager: str, api_version: str,
                  now: str, field_type: FieldTypeOf, scope: Scope = "all",
                  subresource: str = "") -> list[dict[str, Any]]:
    """``new``'s managedFields after ``manager`` wrote it (over ``old``, None for a create).

    The entries start from those ``new`` carries (the stored ones, or the ones the client sent). Nothing changes
    when the write changed no tracked field.
    """
    entries = read_entries(new)
    before = managed_fields.tracked_fields(old or {}, scope=scope)
    after = managed_fields.tracked_fields(new, scope=scope)
    comparison = managed_fields.compare(before, after, field_type)
    if not comparison.changed and not comparison.removed:
        return write_entries(entries)
    me = (manager, "Update", subresource)
    kept: list[ManagerEntry] = []
    mine: frozenset[Path] = frozenset()
    for entry in entries:
        if entry.identity == me:
            mine = entry.fields
            continue
        remaining = entry.fields - comparison.changed - comparison.removed
        if remaining == entry.fields:
            kept.append(entry)
        elif remaining:
            kept.append(replace(entry, fields=remaining, fields_v1=None))
    owned = (mine | comparison.changed) - comparison.removed
    if owned:
        kept.append(ManagerEntry(manager, "Update", api_version, now, subresource, owned))
    return write_entries(kept)


# --------------------------------------------------------------------------------------------------
# Apply
# --------------------------------------------------------------------------------------------------


def apply(live: Mapping[str, Any] | None, config: Mapping[str, Any], *, manager: str, api_version: str,
          now: str, field_type: FieldTypeOf, force: bool = False, scope: Scope = "all",
          subresource: str = "") -> dict[str, Any]:
    """The object after ``manager`` applied ``config`` to ``live`` (None: the object does not exist yet).

    The result carries its new ``metadata.managedFields``. Raises :class:`ApplyConflict` when the apply would
    change fields other managers own and ``force`` is false; :class:`FieldsError` when live's entries are malformed.
    ``scope`` limits which fields of ``config`` count (see :func:`managed_fields.tracked_fields`).
    """
    base: Mapping[str, Any] = live or {}
    entries = read_entries(live)
    me = (manager, "Apply", subresource)
    previous = next((entry for entry in entries if entry.identity == me), None)
    others = [entry for entry in entries if entry.identity != me]

    applied = managed_fields.tracked_fields(config, scope=scope)
    config_set = frozenset(managed_fields.field_set(applied, field_type))
    merged = _merge_map(base, applied, (), field_type)
    changed = managed_fields.compare(managed_fields.tracked_fields(base, scope=scope),
                                     managed_fields.tracked_fields(merged, scope=scope), field_type).changed

    conflicts = [Conflict(entry, path) for entry in others for path in sorted(entry.fields & changed)]
    if conflicts and not force and not _upgrades_client_side_apply(base, manager, conflicts, field_type):
        raise ApplyConflict(conflicts)

    kept: list[ManagerEntry] = []
    for entry in others:
        remaining = entry.fields - changed  # forced: the applier takes the conflicting fields over
        if remaining:
            kept.append(replace(entry, fields=remaining, fields_v1=None) if remaining != entry.fields else entry)
    still_owned = config_set.union(*(entry.fields for entry in kept))
    dropped = (previous.fields - still_owned) if previous is not None else frozenset()
    pruned = bool(dropped) and _has_removable(merged, dropped, still_owned, field_type)
    if pruned:
        merged = _prune_copy(merged, dropped, still_owned, field_type)

    unchanged = previous is not None and previous.fields == config_set and not changed and not pruned
    if config_set:
        if unchanged and previous is not None:
            kept.append(previous)
        else:
            kept.append(ManagerEntry(manager, "Apply", api_version, now, subresource, config_set))
    metadata = dict(merged.get("metadata") or {})
    _sync_last_applied(metadata, base, config, manager)
    metadata["managedFields"] = write_entries(kept)
    if not metadata["managedFields"]:
        metadata.pop("managedFields")
    merged["metadata"] = metadata
    return merged


def _last_applied(obj: Mapping[str, Any]) -> str | None:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(LAST_APPLIED)
    return value if isinstance(value, str) else None


def _upgrades_client_side_apply(live: Mapping[str, Any], manager: str, conflicts: list[Conflict],
                                field_type: FieldTypeOf) -> bool:
    """Whether kubectl's first server-side apply may take over what client-side ``kubectl apply`` set.

    Upstream lets the manager ``kubectl`` force its apply when every conflicting field is one the object's
    last-applied-configuration annotation sets, so that switching to ``--server-side`` needs no ``--force-conflicts``.
    """
    if manager != KUBECTL_MANAGER:
        return False
    previous = decoded_json_object(_last_applied(live))
    if previous is None:
        return False
    allowed = managed_fields.field_set(managed_fields.tracked_fields(previous), field_type)
    return all(conflict.path in allowed for conflict in conflicts)


def _sync_last_applied(metadata: dict[str, Any], live: Mapping[str, Any], config: Mapping[str, Any],
                       manager: str) -> None:
    """Keep a client-side apply annotation in step with kubectl's server-side applies, as upstream does."""
    if manager != KUBECTL_MANAGER or _last_applied(live) is None:
        return
    applied = json_copy(dict(config))
    applied_annotations = (applied.get("metadata") or {}).get("annotations")
    if isinstance(applied_annotations, dict):
        applied_annotations.pop(LAST_APPLIED, None)
    annotations = dict(metadata.get("annotations") or {})
    annotations[LAST_APPLIED] = json.dumps(applied, sort_keys=True, separators=(",", ":"))
    metadata["annotations"] = annotations


def _merge_value(live: Any, applied: Any, names: Names, field_type: FieldTypeOf) -> Any:
    if isinstance(live, dict) and isinstance(applied, dict) and field_type(names, applied).kind != "atomic":
        return _merge_map(live, applied, names, field_type)
    if isinstance(live, list) and isinstance(applied, list) and live:
        live_type, applied_type = field_type(names, live), field_type(names, applied)
        if live_type == applied_type and live_type.kind == "set":
            present = {managed_fields.value_element(item) for item in live}
            return [*live, *(json_copy(item) for item in applied
                             if managed_fields.value_element(item) not in present)]
        if live_type == applied_type and live_type.kind == "map":
            return _merge_keyed_items(live, applied, live_type, names, field_type)
    return json_copy(applied)


def _merge_keyed_items(live: list[Any], applied: list[Any], kind: FieldType, names: Names,
                       field_type: FieldTypeOf) -> list[Any]:
    """Items merged by key, ordered as upstream orders them.

    Items in both lists follow the applied order; items only the live list has keep their place relative to
    their neighbours; items only the applied list has come where the applied list puts them.
    """
    live_by_key = {managed_fields.key_element(item, kind): item for item in live}
    applied_by_key = {managed_fields.key_element(item, kind): item for item in applied}
    live_keys, applied_keys = list(live_by_key), list(applied_by_key)
    shared = [key for key in applied_keys if key in live_by_key]
    result: list[Any] = []
    li = ai = si = 0
    while li < len(live_keys) or ai < len(applied_keys):
        if li < len(live_keys):
            key = live_keys[li]
            if key not in applied_by_key:  # only live has it: it stays here
                result.append(live_by_key[key])
                li += 1
                continue
            if si < len(shared) and key != shared[si]:  # a shared item the applied order wants later
                li += 1
                continue
            if ai < len(applied_keys) and key == applied_keys[ai]:
                result.append(_merge_map(live_by_key[key], applied_by_key[key], names, field_type))
                li, ai, si = li + 1, ai + 1, si + 1
                continue
        if ai >= len(applied_keys):
            li += 1  # a shared item already emitted in applied order
            continue
        key = applied_keys[ai]
        if key in live_by_key:
            result.append(_merge_map(live_by_key[key], applied_by_key[key], names, field_type))
            si += 1
        else:
            result.append(json_copy(applied_by_key[key]))
        ai += 1
    return result


def _merge_map(live: Mapping[str, Any], applied: Mapping[str, Any], names: Names,
               field_type: FieldTypeOf) -> dict[str, Any]:
    result = dict(live)
    for key, value in applied.items():
        child_names = (*names, key)
        result[key] = _merge_value(live[key], value, child_names, field_type) if key in live else json_copy(value)
    return result


def _has_removable(obj: dict[str, Any], dropped: frozenset[Path], still_owned: frozenset[Path],
           field_type: FieldTypeOf) -> bool:
    """Whether any dropped path is present and removable (no owned field lies beneath it)."""
    return any(_removable(path, still_owned) and _locate(obj, path, field_type) is not None for path in dropped)


def _removable(path: Path, still_owned: frozenset[Path]) -> bool:
    return not any(managed_fields.has_prefix(owned, path) for owned in still_owned)


def _prune_copy(merged: dict[str, Any], dropped: frozenset[Path], still_owned: frozenset[Path],
                field_type: FieldTypeOf) -> dict[str, Any]:
    """A copy of ``merged`` without the dropped fields, and without maps that only they filled."""
    result: dict[str, Any] = json_copy(merged)
    owned_prefixes = {owned[:i] for owned in still_owned for i in range(1, len(owned) + 1)}
    # Shallowest first: an item goes with its fields (whose own paths are then absent), and is still found by
    # its key fields before they would be removed.
    for path in sorted(dropped, key=len):
        if not _removable(path, still_owned):
            continue
        chain = _locate(result, path, field_type)
        if chain is None:
            continue
        for depth in range(len(path) - 1, -1, -1):
            container, accessor = chain[depth]
            if isinstance(container, dict):
                container.pop(accessor, None)
            else:
                del container[accessor]
            # Go on up only through maps this removal left empty and nobody owns.
            parent_path = path[:depth]
            if depth == 0 or parent_path in owned_prefixes or parent_path == ("f:metadata",):
                break
            emptied = chain[depth - 1][0][chain[depth - 1][1]]
            if emptied or not parent_path[-1].startswith("f:"):
                break
    return result


def _locate(obj: dict[str, Any], path: Path, field_type: FieldTypeOf) -> list[tuple[Any, Any]] | None:
    """The (container, key or index) pairs from the root to the value at ``path``; None when it is absent."""
    chain: list[tuple[Any, Any]] = []
    current: Any = obj
    names: Names = ()
    for element in path:
        kind, text = element[:2], element[2:]
        if kind == "f:":
            if not isinstance(current, dict) or text not in current:
                return None
            chain.append((current, text))
            current = current[text]
            names = (*names, text)
            continue
        if not isinstance(current, list):
            return None
        position: int | None = None
        if kind == "k:":
            item_kind = field_type(names, current)
            if item_kind.kind == "map":
                position = next((i for i, item in enumerate(current)
                                 if managed_fields.key_element(item, item_kind) == element), None)
        elif kind == "v:":
            position = next((i for i, item in enumerate(current)
                             if managed_fields.value_element(item) == element), None)
        elif text.isdigit() and int(text) < len(current):
            position = int(text)
        if position is None:
            return None
        chain.append((current, position))
        current = current[position]
    return chain
