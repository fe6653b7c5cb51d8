"""One source directory rendered by the tool Argo CD would pick for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops.render.detection import DIRECTORY, HELM, KUSTOMIZE, PLUGIN, source_type
from gitops.render.directory import render_directory
from gitops.render.errors import RenderError
from gitops.render.helm import ChartFetcher, render_helm
from gitops.render.kustomize import render_kustomize
from gitops.resources import JsonObject


@dataclass(frozen=True)
class RenderContext:
    """What a render needs besides the source: the Application it is for, and how to reach other charts."""

    app_name: str
    """``$ARGOCD_APP_NAME``, and Helm's release name unless ``helm.releaseName`` names one."""
    namespace: str
    """The destination namespace: ``$ARGOCD_APP_NAMESPACE``, and Helm's release namespace unless ``helm.namespace``
    names one."""
    revision: str = ""
    """The commit SHA the source resolved to: ``$ARGOCD_APP_REVISION`` (and, its first 7 characters,
    ``$ARGOCD_APP_REVISION_SHORT``); empty when there is none, as for a local directory."""
    repo_url: str = ""
    """The source's repository: ``$ARGOCD_APP_SOURCE_REPO_URL``."""
    timeout: float = 60.0
    """Seconds a ``kustomize build`` may run before the render fails."""
    fetch_chart: ChartFetcher | None = None
    """Fetches a chart dependency from its Helm repository (repository, name, version); None: such a dependency fails
    the render unless it is vendored in ``charts/``."""
    ref_roots: Mapping[str, Path] | None = None
    """The checkouts of the Application's other sources by ``ref`` name, for Helm value files written ``$ref/…``."""

    def build_variables(self, source: Mapping[str, Any]) -> dict[str, str]:
        """The variables Argo CD gives a build (``$ARGOCD_APP_NAME`` …), for kustomize's envsubst."""
        return {
            "ARGOCD_APP_NAME": self.app_name,
            "ARGOCD_APP_NAMESPACE": self.namespace,
            "ARGOCD_APP_REVISION": self.revision,
            "ARGOCD_APP_REVISION_SHORT": self.revision[:7],
            "ARGOCD_APP_SOURCE_REPO_URL": self.repo_url,
            "ARGOCD_APP_SOURCE_PATH": str(source.get("path") or ""),
            "ARGOCD_APP_SOURCE_TARGET_REVISION": str(source.get("targetRevision") or ""),
        }


def render_source(
    source: Mapping[str, Any], app_dir: Path, repo_root: Path, context: RenderContext
) -> tuple[str, list[JsonObject]]:
    """(source type, manifests) of ``source`` whose files are at ``app_dir`` inside ``repo_root``."""
    kind = source_type(source, app_dir)
    if kind == PLUGIN:
        raise RenderError("spec.source.plugin: config management plugins are not supported by this engine")
    if kind == DIRECTORY:
        options = source.get("directory") or {}
        if options.get("jsonnet") and any(options["jsonnet"].values()):
            raise RenderError("spec.source.directory.jsonnet: Jsonnet is not supported by this engine")
        return kind, render_directory(app_dir, options, label_root=repo_root)
    if kind == KUSTOMIZE:
        return kind, render_kustomize(
            app_dir,
            repo_root,
            source.get("kustomize"),
            timeout=context.timeout,
            variables=context.build_variables(source),
        )
    assert kind == HELM
    helm = source.get("helm") or {}
    extra: dict[str, Any] = {}
    if context.fetch_chart is not None:
        extra["fetch_chart"] = context.fetch_chart
    return kind, render_helm(
        app_dir,
        repo_root,
        helm,
        release_name=str(helm.get("releaseName") or context.app_name),
        namespace=str(helm.get("namespace") or context.namespace),
        ref_roots=context.ref_roots,
        **extra,
    )
