"""What an ApplicationSet controller writes: which Applications to create, update and delete, and its status.

Argo CD's rules (``applicationset/controllers``):
- ``syncPolicy.applicationsSync``: ``create-only`` creates; ``create-update`` creates and updates;
  ``create-delete`` creates and deletes; ``sync`` (the default) does all three.
- An update copies the generated spec, labels, annotations and finalizers over the live Application but keeps
  the annotations Argo CD treats specially (refresh, hydrate, notifications), the ``preservedFields``, and every
  field an ``ignoreApplicationDifferences`` rule names; the Application's ``status`` and ``operation`` are not the
  ApplicationSet's to touch.
- Only Applications the ApplicationSet owns (a controller ownerReference) are updated or deleted; one of the same
  name owned by something else is reported and left alone.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jq

from gitops.resources import JsonObject
from kube.object_meta import controller_owner_reference
from kube.resources import APPLICATION_SETS

PRESERVED_ANNOTATIONS = (
    "notified.notifications.argoproj.io",
    "argocd.argoproj.io/refresh",
    "argocd.argoproj.io/hydrate",
)
POLICIES = ("create-only", "create-update", "create-delete", "sync")


@dataclass(frozen=True)
class ApplicationWrites:
    """The writes one pass makes, and the Applications it could not manage (name → reason)."""

    create: tuple[JsonObject, ...] = ()
    update: tuple[JsonObject, ...] = ()
    delete: tuple[JsonObject, ...] = ()
    refused: Mapping[str, str] = field(default_factory=dict)


def owner_reference(appset: Mapping[str, Any]) -> JsonObject:
    metadata = appset.get("metadata") or {}
    return controller_owner_reference(
        api_version=APPLICATION_SETS.api_version,
        kind="ApplicationSet",
        name=metadata.get("name", ""),
        uid=metadata.get("uid", ""),
    )


def owned_by(application: Mapping[str, Any], appset: Mapping[str, Any]) -> bool:
    """Whether the ApplicationSet is the Application's controller owner."""
    uid = (appset.get("metadata") or {}).get("uid")
    name = (appset.get("metadata") or {}).get("name")
    return any(
        reference.get("kind") == "ApplicationSet"
        and reference.get("controller")
        and (reference.get("uid") == uid if uid else reference.get("name") == name)
        for reference in (application.get("metadata") or {}).get("ownerReferences") or []
    )


def _pointer_parts(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def _get(document: Any, path: Sequence[Any]) -> tuple[bool, Any]:
    for part in path:
        if isinstance(document, Mapping) and part in document:
            document = document[part]
        elif isinstance(document, list) and str(part).isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return False, None
    return True, document


def _set(document: Any, path: Sequence[Any], value: Any) -> None:
    for part in path[:-1]:
        if isinstance(document, dict):
            document = document.setdefault(part, {})
        elif isinstance(document, list) and str(part).isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return
    if isinstance(document, dict):
        document[path[-1]] = value
    elif isinstance(document, list) and str(path[-1]).isdigit() and int(path[-1]) < len(document):
        document[int(path[-1])] = value


def _remove(document: Any, path: Sequence[Any]) -> None:
    found, parent = _get(document, path[:-1])
    if found and isinstance(parent, dict):
        parent.pop(path[-1], None)


def _ignored_paths(rule: Mapping[str, Any], live: JsonObject) -> list[list[Any]]:
    paths = [_pointer_parts(pointer) for pointer in rule.get("jsonPointers") or []]
    for expression in rule.get("jqPathExpressions") or []:
        try:
            found = jq.compile(f"[path({expression})]").input_value(live).first()
        except ValueError:
            continue  # an expression that does not apply to this Application ignores nothing
        paths.extend(list(path) for path in found or [])
    return paths


def keep_ignored_fields(appset: Mapping[str, Any], live: JsonObject, generated: JsonObject) -> JsonObject:
    """``generated`` with the live values of every field the ``ignoreApplicationDifferences`` rules name
    (``generated`` itself, not a copy, when there are no rules)."""
    rules = (appset.get("spec") or {}).get("ignoreApplicationDifferences") or []
    if not rules:
        return generated
    result = copy.deepcopy(generated)
    name = (live.get("metadata") or {}).get("name")
    for rule in rules:
        names = rule.get("name")
        if names and name not in ([names] if isinstance(names, str) else names):
            continue
        for path in _ignored_paths(rule, live):
            if not path:
                continue
            present, value = _get(live, path)
            if present:
                _set(result, path, copy.deepcopy(value))
            else:
                _remove(result, path)
    return result


def _merged_for_update(appset: Mapping[str, Any], live: JsonObject, generated: JsonObject) -> JsonObject:
    spec = appset.get("spec") or {}
    preserved = spec.get("preservedFields") or {}
    wanted = keep_ignored_fields(appset, live, generated)
    live_meta = live.get("metadata") or {}
    meta = dict(wanted.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    labels = dict(meta.get("labels") or {})
    for key in (*PRESERVED_ANNOTATIONS, *(preserved.get("annotations") or [])):
        if key in (live_meta.get("annotations") or {}):
            annotations[key] = live_meta["annotations"][key]
    for key in preserved.get("labels") or []:
        if key in (live_meta.get("labels") or {}):
            labels[key] = live_meta["labels"][key]
    # A shallow copy: only the top level and the metadata map are changed, and nothing here mutates what it shares
    # with ``live`` (a deep copy of every owned Application on every pass was most of a pass's cost).
    updated = dict(live)
    updated["spec"] = wanted.get("spec") or {}
    updated_meta = updated["metadata"] = dict(live.get("metadata") or {})
    for key, value in (("annotations", annotations), ("labels", labels), ("finalizers", meta.get("finalizers"))):
        if value:
            updated_meta[key] = value
        else:
            updated_meta.pop(key, None)
    if "operation" in wanted:
        updated["operation"] = wanted["operation"]
    return updated


def plan_application_writes(
    appset: Mapping[str, Any], desired: Sequence[JsonObject], existing: Sequence[JsonObject]
) -> ApplicationWrites:
    """The creates, updates and deletes that make the owned Applications what the ApplicationSet generates."""
    policy = ((appset.get("spec") or {}).get("syncPolicy") or {}).get("applicationsSync") or "sync"
    if policy not in POLICIES:
        policy = "sync"
    by_name = {str((app.get("metadata") or {}).get("name")): app for app in existing}
    reference = owner_reference(appset)
    create: list[JsonObject] = []
    update: list[JsonObject] = []
    refused: dict[str, str] = {}
    wanted_names: set[str] = set()
    for generated in desired:
        name = str(generated["metadata"]["name"])
        wanted_names.add(name)
        live = by_name.get(name)
        if live is None:
            body = copy.deepcopy(generated)
            body["metadata"]["ownerReferences"] = [reference]
            create.append(body)
            continue
        if not owned_by(live, appset):
            refused[name] = (
                f"application {name} already exists and is not owned by ApplicationSet "
                f"{(appset.get('metadata') or {}).get('name')}"
            )
            continue
        if policy in ("create-only", "create-delete"):
            continue
        merged = _merged_for_update(appset, live, generated)
        if merged != live:
            update.append(merged)
    delete: list[JsonObject] = []
    if policy in ("sync", "create-delete"):
        delete = [
            app
            for name, app in sorted(by_name.items())
            if name not in wanted_names and owned_by(app, appset)
            and not (app.get("metadata") or {}).get("deletionTimestamp")
        ]
    return ApplicationWrites(tuple(create), tuple(update), tuple(delete), refused)


def resource_entries(desired: Sequence[JsonObject], existing: Sequence[JsonObject]) -> list[JsonObject]:
    """``status.resources``: each generated Application that exists, with its sync and health status."""
    by_name = {str((app.get("metadata") or {}).get("name")): app for app in existing}
    entries: list[JsonObject] = []
    for generated in desired:
        name = str(generated["metadata"]["name"])
        live = by_name.get(name)
        if live is None:
            continue
        status = live.get("status") or {}
        entry: JsonObject = {
            "group": "argoproj.io",
            "version": "v1alpha1",
            "kind": "Application",
            "namespace": generated["metadata"].get("namespace", ""),
            "name": name,
        }
        if (sync := (status.get("sync") or {}).get("status")) is not None:
            entry["status"] = sync
        if health := status.get("health"):
            entry["health"] = {key: value for key, value in health.items() if key in ("status", "message")}
        entries.append(entry)
    return entries
