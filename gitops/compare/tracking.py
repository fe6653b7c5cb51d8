"""Which Application a live object belongs to: Argo CD's resource tracking.

Three methods, as Argo CD's ``application.resourceTrackingMethod``:

- ``annotation`` (the default since Argo CD 3.0): ``argocd.argoproj.io/tracking-id:
  <app>:<group>/<kind>:<namespace>/<name>``. The id names the object it sits on, so an annotation copied onto another
  object (a Deployment's annotations copied to its ReplicaSet, a manifest duplicated by hand) is ignored.
- ``label``: ``app.kubernetes.io/instance: <app>``.
- ``annotation+label``: tracked by the annotation; the label is also written, for tools that select on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.compare.json_tree import copy_tree
from gitops.resources import JsonObject, group_of

TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"
INSTALLATION_ID_ANNOTATION = "argocd.argoproj.io/installation-id"
ANNOTATION, LABEL, ANNOTATION_AND_LABEL = "annotation", "label", "annotation+label"
TRACKING_METHODS = (ANNOTATION, LABEL, ANNOTATION_AND_LABEL)
# A label value is at most 63 characters; Argo CD refuses to label with a longer app name.
MAX_LABEL_VALUE = 63


def _check_method(method: str) -> None:
    if method not in TRACKING_METHODS:
        raise ValueError(
            f"resourceTrackingMethod: unknown method {method!r}; expected one of {', '.join(TRACKING_METHODS)}"
        )


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def tracking_id(app_name: str, obj: JsonObject, *, installation_id: str | None = None) -> str:
    """The tracking id of ``obj`` for ``app_name``: ``<app>:<group>/<kind>:<namespace>/<name>``.

    ``installation_id`` never changes the id: Argo CD keeps it in its own annotation
    (``argocd.argoproj.io/installation-id``, written by :func:`with_tracking`); the parameter is accepted so a caller
    can pass its settings through unchanged.
    """
    del installation_id  # see the docstring: the installation id lives in its own annotation
    metadata = _metadata(obj)
    group = group_of(str(obj.get("apiVersion", "")))
    namespace = str(metadata.get("namespace") or "")
    return f"{app_name}:{group}/{obj.get('kind', '')}:{namespace}/{metadata.get('name', '')}"


def parse_tracking_id(value: str) -> tuple[str, str, str, str, str] | None:
    """``(app, group, kind, namespace, name)`` from a tracking id, or None when it is not one."""
    app, sep1, rest = value.partition(":")
    group_kind, sep2, namespace_name = rest.partition(":")
    if not (sep1 and sep2 and app):
        return None
    group, sep3, kind = group_kind.partition("/")
    namespace, sep4, name = namespace_name.partition("/")
    if not (sep3 and sep4 and kind and name):
        return None
    return app, group, kind, namespace, name


def with_tracking(
    obj: JsonObject, app_name: str, method: str = ANNOTATION, *, installation_id: str | None = None
) -> JsonObject:
    """A copy of ``obj`` marked as belonging to ``app_name`` by ``method`` (and with the installation id, if any)."""
    _check_method(method)
    marked = copy_tree(obj)
    metadata = marked.setdefault("metadata", {})
    if method in (ANNOTATION, ANNOTATION_AND_LABEL):
        annotations = metadata.get("annotations") or {}
        annotations[TRACKING_ANNOTATION] = tracking_id(app_name, marked)
        if installation_id:
            annotations[INSTALLATION_ID_ANNOTATION] = installation_id
        metadata["annotations"] = annotations
    if method in (LABEL, ANNOTATION_AND_LABEL):
        if len(app_name) > MAX_LABEL_VALUE:
            raise ValueError(
                f"metadata.labels[{INSTANCE_LABEL}]: application name {app_name!r} is longer than "
                f"{MAX_LABEL_VALUE} characters; use annotation tracking"
            )
        labels = metadata.get("labels") or {}
        labels[INSTANCE_LABEL] = app_name
        metadata["labels"] = labels
    return marked


def owning_app(obj: JsonObject, method: str = ANNOTATION, *, installation_id: str | None = None) -> str | None:
    """The Application that tracks ``obj``, or None.

    With annotation tracking the id must name this very object (group, kind, namespace, name), else it is a copied
    annotation and is ignored; with an ``installation_id`` the object must carry the same one.
    """
    _check_method(method)
    metadata = _metadata(obj)
    if method == LABEL:
        labels = metadata.get("labels")
        value = labels.get(INSTANCE_LABEL) if isinstance(labels, Mapping) else None
        return value if isinstance(value, str) and value else None
    annotations = metadata.get("annotations")
    if not isinstance(annotations, Mapping):
        return None
    if installation_id and annotations.get(INSTALLATION_ID_ANNOTATION) != installation_id:
        return None
    value = annotations.get(TRACKING_ANNOTATION)
    parsed = parse_tracking_id(value) if isinstance(value, str) else None
    if parsed is None:
        return None
    app, group, kind, namespace, name = parsed
    names_this_object = (
        group == group_of(str(obj.get("apiVersion", "")))
        and kind == obj.get("kind")
        and name == metadata.get("name")
        and namespace == str(metadata.get("namespace") or "")
    )
    return app if names_this_object else None
