"""Rendering a multi-source Application (``spec.sources``) through the repo server: every source resolved, the
sources with a ``ref`` lent to the others' ``$ref/…`` Helm value files, the manifests concatenated.

As Argo CD (user-guide/multiple_sources.md): "Argo CD will generate the manifests for each source separately and
combine the resulting manifests"; a source with only a ``ref`` (no ``path``, no ``chart``) contributes no manifests
but its revision is resolved and recorded like the others'; "if multiple sources produce the same resource … the
last source to produce the resource will take precedence" (with a ``RepeatedResourceWarning``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gitops.repo_server import Manifests, RenderError, SourceError
from gitops.resources import JsonObject
from gitops.sync.source_revisions import ref_sources, renders_manifests, revisions_label

# (source, pinned revision or None) → the full SHA or chart version to render.
Resolver = Callable[[Mapping[str, Any], str | None], str]


class ManifestGenerator(Protocol):
    """The part of the repo server this needs (``RepoServer.generate_manifests``)."""

    def generate_manifests(
        self, source: JsonObject, *, app_name: str, namespace: str, revision: str | None = None,
        hard_refresh: bool = False, ref_sources: Mapping[str, JsonObject] | None = None,
    ) -> Manifests: ...


@dataclass(frozen=True)
class RenderedSources:
    """Every source rendered: one revision and one source type per source (``""`` for a ref-only source), the
    manifests of all of them, and ``revision``, the label standing for the revisions inside a pass."""

    revisions: tuple[str, ...]
    source_types: tuple[str, ...]
    manifests: list[JsonObject]

    @property
    def revision(self) -> str:
        return revisions_label(self.revisions)

    @property
    def source_type(self) -> str:
        return ""


def generate_sources(
    repo: ManifestGenerator,
    sources: Sequence[Mapping[str, Any]],
    *,
    app_name: str,
    namespace: str,
    pinned: Sequence[str | None],
    resolve: Resolver,
    hard: bool,
) -> RenderedSources:
    """Resolve each source (at its ``pinned`` revision when one is given, as a rollback does), then render the
    ones that make manifests, value files read from the ref sources at their resolved commits.

    Raises ``RenderError`` naming the source (``spec.sources[i]``) that failed.
    """
    if len(pinned) != len(sources):
        raise RenderError(f"operation.sync.revisions: {len(pinned)} revisions given for {len(sources)} sources")
    revisions: list[str] = []
    for index, (source, revision) in enumerate(zip(sources, pinned, strict=True)):
        if not str(source.get("repoURL") or ""):
            raise RenderError(f"spec.sources[{index}].repoURL: must not be empty")
        try:
            revisions.append(resolve(source, revision))
        except (SourceError, RenderError) as error:
            raise RenderError(f"spec.sources[{index}]: {error}") from None
    refs = ref_sources(sources, revisions)
    per_source: list[list[JsonObject]] = []
    source_types: list[str] = []
    for index, (source, revision) in enumerate(zip(sources, revisions, strict=True)):
        if not renders_manifests(source):
            per_source.append([])
            source_types.append("")
            continue
        try:
            manifests = repo.generate_manifests(dict(source), app_name=app_name, namespace=namespace,
                                                revision=revision, hard_refresh=hard, ref_sources=refs)
        except (SourceError, RenderError) as error:
            raise RenderError(f"spec.sources[{index}]: {error}") from None
        per_source.append(manifests.manifests)
        source_types.append(manifests.source_type)
    return RenderedSources(tuple(revisions), tuple(source_types), combined(per_source))


def combined(per_source: Sequence[Sequence[JsonObject]]) -> list[JsonObject]:
    """The manifests of all sources, the later sources' first: the comparison keeps the first manifest of a
    repeated resource (and warns with ``RepeatedResourceWarning``), so the last source to produce it wins, as in
    Argo CD. Within a source the order is kept."""
    return [obj for manifests in reversed(per_source) for obj in manifests]
