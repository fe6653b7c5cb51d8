"""The ``clusters`` generator: one parameter set per Argo CD cluster Secret matching the selector.

The local cluster (``in-cluster``, ``https://kubernetes.default.svc``) takes part when no Secret declares it and
the generator has no selector, as in Argo CD.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.appset.go_template import TemplateError
from gitops.appset.names import sanitize_name
from gitops.appset.parameters import Params
from gitops.appset.templating import render_value
from gitops.clusters import LOCAL_CLUSTER, ClusterConfig
from kube.label_selectors import selector_matches


def clusters_params(spec: Mapping[str, Any], clusters: Sequence[ClusterConfig], *, go: bool) -> list[Params]:
    """Argo CD's cluster generator parameters, ``values`` rendered against each cluster's own parameters.

    ``clusters`` is what ``gitops.clusters.clusters_from_secrets`` returns: the implicit local cluster takes part
    only when the generator has no selector, as in Argo CD.
    """
    selector = spec.get("selector") or {}
    has_selector = bool(selector.get("matchLabels") or selector.get("matchExpressions"))
    found: list[Params] = []
    for cluster in clusters:
        if cluster.problem:
            continue
        if has_selector and (cluster is LOCAL_CLUSTER or not selector_matches(selector, cluster.labels)):
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
