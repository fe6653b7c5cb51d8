"""The ``clusters`` generator: one parameter set per Argo CD cluster Secret matching the selector.

The local cluster (``in-cluster``, ``https://kubernetes.default.svc``) takes part when no Secret declares it and
the generator has no selector, as in Argo CD.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops.appset.go_template import TemplateError
from gitops.appset.names import sanitize_name
from gitops.appset.parameters import Params
from gitops.appset.selection import selector_matches
from gitops.appset.templating import render_value

CLUSTER_SECRET_LABEL = "argocd.argoproj.io/secret-type"
LOCAL_SERVER = "https://kubernetes.default.svc"
LOCAL_NAME = "in-cluster"


@dataclass(frozen=True)
class Cluster:
    """A destination cluster as an Argo CD cluster Secret declares it (its ``config`` is not needed here)."""

    name: str
    server: str
    project: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


def _decoded(data: Mapping[str, Any], key: str) -> str:
    raw = data.get(key)
    if not raw:
        return ""
    try:
        return base64.b64decode(str(raw), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def clusters_from_secrets(secrets: Sequence[Mapping[str, Any]]) -> list[Cluster]:
    """Every ``secret-type: cluster`` Secret as a Cluster (``stringData`` read too), in name order."""
    found: list[Cluster] = []
    for secret in secrets:
        metadata = secret.get("metadata") or {}
        labels = dict(metadata.get("labels") or {})
        if labels.get(CLUSTER_SECRET_LABEL) != "cluster":
            continue
        data = secret.get("data") or {}
        plain = secret.get("stringData") or {}
        server = plain.get("server") or _decoded(data, "server")
        name = plain.get("name") or _decoded(data, "name") or server
        project = plain.get("project") or _decoded(data, "project")
        if server:
            found.append(Cluster(name, server, project, labels, dict(metadata.get("annotations") or {})))
    return sorted(found, key=lambda cluster: cluster.name)


def clusters_params(spec: Mapping[str, Any], clusters: Sequence[Cluster], *, go: bool) -> list[Params]:
    """Argo CD's cluster generator parameters, ``values`` rendered against each cluster's own parameters."""
    selector = spec.get("selector") or {}
    has_selector = bool(selector.get("matchLabels") or selector.get("matchExpressions"))
    candidates = list(clusters)
    if not has_selector and not any(cluster.server == LOCAL_SERVER for cluster in candidates):
        candidates.insert(0, Cluster(LOCAL_NAME, LOCAL_SERVER))
    found: list[Params] = []
    for cluster in candidates:
        if has_selector and not selector_matches(selector, cluster.labels):
            continue
        if go:
            params: Params = {
                "name": cluster.name,
                "nameNormalized": sanitize_name(cluster.name),
                "server": cluster.server,
                "project": cluster.project,
                "metadata": {"labels": dict(cluster.labels), "annotations": dict(cluster.annotations)},
            }
        else:
            params = {
                "name": cluster.name,
                "nameNormalized": sanitize_name(cluster.name),
                "server": cluster.server,
                "project": cluster.project,
                **{f"metadata.labels.{key}": value for key, value in cluster.labels.items()},
                **{f"metadata.annotations.{key}": value for key, value in cluster.annotations.items()},
            }
        values = spec.get("values") or {}
        if values:
            try:
                rendered = render_value(dict(values), params, go=go)
            except TemplateError as error:
                raise TemplateError(f"clusters.values: {error}") from error
            if go:
                params["values"] = rendered
            else:
                params.update({f"values.{key}": str(value) for key, value in rendered.items()})
        found.append(params)
    return found
