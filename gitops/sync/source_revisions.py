"""An Application's source(s) and revision(s) as Argo CD records them, single- or multi-source. Pure.

Argo CD (user-guide/multiple_sources.md): "When you specify the sources field, Argo CD will ignore the source
(singular) field." A multi-source Application records one revision per source, in the order of ``spec.sources``,
where a single-source one records one: ``status.sync.revisions`` instead of ``revision``, ``comparedTo.sources``,
``status.sourceTypes``, ``operation.sync.revisions``, ``syncResult.revisions``/``sources`` and history entries'
``revisions``/``sources``.

Inside one pass the engine carries a multi-source Application's revisions as one text, their *label*
(``revisions_label``: the SHAs joined by commas), so that the sync step, automated sync and Events, written for a
single revision, work unchanged; the functions here turn the label back into the list fields Argo CD writes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Final

from gitops.resources import JsonObject

LABEL_SEPARATOR: Final = ","


def has_multiple_sources(app: Mapping[str, Any]) -> bool:
    """Multi-source mode: a non-empty ``spec.sources``, which wins over ``spec.source``."""
    sources = (app.get("spec") or {}).get("sources")
    return isinstance(sources, list) and bool(sources)


def app_sources(app: Mapping[str, Any]) -> list[JsonObject]:
    """The sources that are rendered: ``spec.sources`` when set, else ``[spec.source]`` (or none)."""
    spec = app.get("spec") or {}
    if has_multiple_sources(app):
        return [dict(source) if isinstance(source, Mapping) else {} for source in spec["sources"]]
    source = spec.get("source")
    return [dict(source)] if isinstance(source, Mapping) else []


def renders_manifests(source: Mapping[str, Any]) -> bool:
    """Whether a source contributes manifests: one with a ``ref`` and neither ``path`` nor ``chart`` only lends its
    files to ``$ref/…`` value files (Argo CD's repo server skips generating it)."""
    return not (source.get("ref") and not source.get("path") and not source.get("chart"))


def ref_sources(sources: Sequence[Mapping[str, Any]], revisions: Sequence[str]) -> dict[str, JsonObject]:
    """The sources with a ``ref``, by ref name, each pinned to its resolved revision — so that a value file is read
    at the very commit recorded for its source (and, in a rollback, at the commit the history entry names)."""
    found: dict[str, JsonObject] = {}
    for source, revision in zip(sources, revisions, strict=True):
        name = str(source.get("ref") or "")
        if name:
            found[name] = {**source, "targetRevision": revision}
    return found


def revisions_label(revisions: Sequence[str]) -> str:
    """The one text that stands for a multi-source Application's revisions inside a pass."""
    return LABEL_SEPARATOR.join(revisions)


def label_revisions(label: str) -> list[str]:
    """The revisions a label stands for."""
    return label.split(LABEL_SEPARATOR) if label else []


def compared_to(app: Mapping[str, Any]) -> JsonObject:
    """``status.sync.comparedTo``: the destination and the source (or sources) the comparison used."""
    spec = app.get("spec") or {}
    result: JsonObject = {"destination": copy.deepcopy(spec.get("destination") or {})}
    if has_multiple_sources(app):
        result["sources"] = copy.deepcopy(list(spec["sources"]))
    elif spec.get("source"):
        result["source"] = copy.deepcopy(spec["source"])
    return result


def sync_status(app: Mapping[str, Any], status: str, revision: str) -> JsonObject:
    """``status.sync``: ``revision`` for a single source, ``revisions`` (one per source) for several."""
    if has_multiple_sources(app):
        return {"status": status, "revisions": label_revisions(revision), "comparedTo": compared_to(app)}
    return {"status": status, "revision": revision, "comparedTo": compared_to(app)}


def operation_revisions(operation: Mapping[str, Any]) -> str | None:
    """The revision (or label of revisions) an operation asks for; None when it names none (sync what the target
    revisions name now)."""
    sync = operation.get("sync") or {}
    revisions = sync.get("revisions")
    if isinstance(revisions, list) and revisions:
        return revisions_label([str(r) for r in revisions])
    return str(sync.get("revision") or "") or None


def multi_source_operation(app: Mapping[str, Any], operation: JsonObject) -> JsonObject:
    """An operation as Argo CD writes it: a multi-source Application's ``sync.revision`` label becomes
    ``sync.revisions``; a single-source operation is returned as it is."""
    sync = operation.get("sync")
    if not has_multiple_sources(app) or not isinstance(sync, Mapping) or "revision" not in sync:
        return operation
    sync = {key: value for key, value in sync.items() if key != "revision"}
    label = str((operation.get("sync") or {}).get("revision") or "")
    if label:
        sync["revisions"] = label_revisions(label)
    return {**operation, "sync": sync}


def multi_source_state(app: Mapping[str, Any], state: JsonObject, sources: Sequence[Mapping[str, Any]]) -> JsonObject:
    """An operation state as Argo CD writes it: for a multi-source Application, ``syncResult.revision`` (the label)
    becomes ``syncResult.revisions``, with the ``sources`` synced."""
    result = state.get("syncResult")
    if not has_multiple_sources(app) or not isinstance(result, Mapping) or "revision" not in result:
        return state
    converted: JsonObject = {key: value for key, value in result.items() if key != "revision"}
    converted["revisions"] = label_revisions(str(result.get("revision") or ""))
    converted["sources"] = copy.deepcopy(list(sources))
    return {**state, "syncResult": converted}


def recorded_revision(sync_result: Mapping[str, Any]) -> str:
    """The revision (or the label of the revisions) a ``syncResult`` or history entry records."""
    revisions = sync_result.get("revisions")
    if isinstance(revisions, list) and revisions:
        return revisions_label([str(r) for r in revisions])
    return str(sync_result.get("revision") or "")
