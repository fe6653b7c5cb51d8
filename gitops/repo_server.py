"""Argo CD's repo-server role, in-process: resolve a source's revision, fetch it, render it, cache the result.

This is the one place the engine touches Git and Helm repositories. Everything it returns is plain data; every
failure is a :class:`SourceError` (the repository: unreachable, refused, unknown revision) or a :class:`RenderError`
(the content: a YAML error, a template error, a missing path), each with a message fit for a ComparisonError
condition — naming the URL, file, line or field, and never a secret. An empty render is returned as it is (the
controller decides what an empty target means; it never prunes on one without ``allowEmpty``).
"""

from __future__ import annotations

import collections
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops.patterns import DOUBLESTAR, PatternError, compile_glob
from gitops.render.errors import RenderError
from gitops.render.helm import DependencyUnavailable
from gitops.render.render_cache import RenderCache
from gitops.render.source import RenderContext, render_source
from gitops.resources import JsonObject
from gitops.sources.credentials import RepositoryCredentials, credentials_for
from gitops.sources.errors import SourceError
from gitops.sources.git import GitRepositories
from gitops.sources.helm_repository import HelmRepositories
from gitops.sources.urls import is_full_sha, normalize_git_url

__all__ = ["Manifests", "RenderError", "RepoServer", "RepositoryCredentials", "SourceError"]

# Fields of a source that do not change what it renders to, once the revision is resolved.
_DIRECTORY_LISTINGS = 64  # (repository, SHA) listings kept for the git directory generator
_NOT_RENDER_INPUTS = ("repoURL", "targetRevision", "ref", "name")


@dataclass(frozen=True)
class Manifests:
    """A rendered source: the commit SHA (or chart version) it came from, its manifests, and the tool that made
    them (``Directory``, ``Kustomize`` or ``Helm``)."""

    revision: str
    manifests: list[JsonObject]
    source_type: str


class RepoServer:
    """Sources in, manifests out, with a Git/Helm cache on disk under ``cache_dir`` and a bounded render cache."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        credentials: Callable[[], list[JsonObject]] = lambda: [],
        timeout: float = 60.0,
        render_cache_entries: int = 1024,
        render_cache_bytes: int = 256 << 20,
        revision_cache_seconds: float = 0.0,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self._secrets = credentials
        self.timeout = timeout
        self.git = GitRepositories(self.cache_dir, timeout=timeout, refs_max_age=revision_cache_seconds)
        self.helm = HelmRepositories(self.cache_dir, timeout=timeout, index_max_age=revision_cache_seconds)
        self.render_cache = RenderCache(max_entries=render_cache_entries, max_bytes=render_cache_bytes)
        # A commit's tree never changes: its directory listing is read once per (repository, SHA), not once per
        # ApplicationSet pass (a walk of every path of a checkout of a thousand directories).
        self._directories: collections.OrderedDict[tuple[str, str], tuple[str, ...]] = collections.OrderedDict()
        self._directories_lock = threading.Lock()

    def credentials_for(self, repo_url: str) -> RepositoryCredentials | None:
        """The credentials the repository Secrets give ``repo_url`` (None when none match)."""
        return credentials_for(repo_url, self._secrets())

    # --- revisions --------------------------------------------------------------------------------------------

    def resolve_revision(
        self, repo_url: str, target_revision: str, *, chart: str | None = None, fresh: bool = False
    ) -> str:
        """The full commit SHA a Git ``targetRevision`` names, or for a Helm repository chart the version it
        selects (an exact version or a semver range). ``fresh`` asks the remote even when the refs it gave less
        than ``revision_cache_seconds`` ago are remembered."""
        credentials = self.credentials_for(repo_url)
        if chart:
            return self.helm.resolve(repo_url, chart, target_revision, credentials, fresh=fresh)
        return self.git.resolve(repo_url, target_revision, credentials, fresh=fresh)

    def forget_revisions(self, repo_url: str) -> None:
        """Forget the remembered refs (or Helm index) of a repository, so the next resolve asks it (a webhook)."""
        self.git.forget_refs(repo_url)
        self.helm.forget_index(repo_url)

    # --- manifests --------------------------------------------------------------------------------------------

    def generate_manifests(
        self,
        source: JsonObject,
        *,
        app_name: str,
        namespace: str,
        revision: str | None = None,
        hard_refresh: bool = False,
        ref_sources: Mapping[str, JsonObject] | None = None,
    ) -> Manifests:
        """Render one Application source (``spec.source``, or one entry of ``spec.sources``).

        ``revision`` pins the commit (or chart version) instead of resolving ``targetRevision``; ``hard_refresh``
        bypasses the render cache; ``ref_sources`` maps a ``ref`` name to its source, for ``$ref/…`` value files.
        """
        repo_url = str(source.get("repoURL") or "")
        if not repo_url:
            raise RenderError("spec.source.repoURL: must not be empty")
        chart = str(source.get("chart") or "")
        target_revision = str(source.get("targetRevision") or "")
        if chart:
            resolved = revision or self.resolve_revision(repo_url, target_revision, chart=chart, fresh=hard_refresh)
        else:
            resolved = revision if revision and is_full_sha(revision) else self.resolve_revision(
                repo_url, revision or target_revision, fresh=hard_refresh
            )
        refs = dict(ref_sources or {})
        ref_revisions = {
            name: self.resolve_revision(str(ref["repoURL"]), str(ref.get("targetRevision") or ""), fresh=hard_refresh)
            for name, ref in sorted(refs.items())
            if _uses_ref(source, name)
        }
        key = (
            normalize_git_url(repo_url),
            resolved,
            str(source.get("path") or ""),
            chart,
            json.dumps({k: v for k, v in source.items() if k not in _NOT_RENDER_INPUTS}, sort_keys=True, default=str),
            app_name,
            namespace,
            tuple((name, normalize_git_url(str(refs[name]["repoURL"])), sha) for name, sha in ref_revisions.items()),
        )
        if not hard_refresh:
            cached = self.render_cache.get(key)
            if cached is not None:
                return Manifests(resolved, cached.manifests, cached.source_type)
        ref_roots = {
            name: self.git.checkout(
                str(refs[name]["repoURL"]), sha, self.credentials_for(str(refs[name]["repoURL"]))
            )
            for name, sha in ref_revisions.items()
        }
        context = RenderContext(
            app_name=app_name,
            namespace=namespace,
            revision=resolved,
            repo_url=repo_url,
            timeout=self.timeout,
            fetch_chart=self._fetch_dependency,
            ref_roots=ref_roots,
        )
        credentials = self.credentials_for(repo_url)
        if chart:
            root = self.helm.chart(repo_url, chart, resolved, credentials)
            app_dir = root
        else:
            root = self.git.checkout(repo_url, resolved, credentials)
            app_dir = _app_dir(root, str(source.get("path") or ""))
        source_type, manifests = render_source(source, app_dir, root, context)
        self.render_cache.put(key, source_type, manifests)
        return Manifests(resolved, manifests, source_type)

    def _fetch_dependency(self, repository: str, chart: str, constraint: str) -> Path:
        """A chart dependency from an http(s) Helm repository (``helm dependency build``)."""
        credentials = self.credentials_for(repository)
        try:
            version = self.helm.resolve(repository, chart, constraint, credentials)
            return self.helm.chart(repository, chart, version, credentials)
        except SourceError as error:
            raise DependencyUnavailable(f"chart dependency {chart} {constraint}: {error}") from None

    # --- for webhooks and the ApplicationSet Git generators ---------------------------------------------------

    def changed_files(self, repo_url: str, old_revision: str, new_revision: str) -> list[str]:
        """The paths a push changed between two commits (both full SHAs, or refs resolved first)."""
        old = self.resolve_revision(repo_url, old_revision)
        new = self.resolve_revision(repo_url, new_revision)
        return self.git.changed_files(repo_url, old, new, self.credentials_for(repo_url))

    def list_directories(self, repo_url: str, revision: str) -> list[str]:
        """Every directory of the tree at ``revision`` (relative, ``/``-separated; ``.git`` left out), sorted."""
        sha = revision if is_full_sha(revision) else self.resolve_revision(repo_url, revision)
        key = (normalize_git_url(repo_url), sha)
        with self._directories_lock:
            cached = self._directories.get(key)
            if cached is not None:
                self._directories.move_to_end(key)
                return list(cached)
        root = self.git.checkout(repo_url, sha, self.credentials_for(repo_url))
        found: list[str] = []
        for directory, subdirectories, _files in os.walk(root):
            subdirectories[:] = [name for name in subdirectories if name != ".git"]
            relative = Path(directory).relative_to(root)
            found += [(relative / name).as_posix() for name in subdirectories]
        listing = tuple(sorted(found))
        with self._directories_lock:
            self._directories[key] = listing
            while len(self._directories) > _DIRECTORY_LISTINGS:
                self._directories.popitem(last=False)
        return list(listing)

    def read_files(self, repo_url: str, revision: str, pattern: str) -> dict[str, bytes]:
        """The files of the tree at ``revision`` whose relative path matches ``pattern`` (``*`` within one path
        segment, ``**`` across segments, ``{a,b}`` alternatives), with their contents."""
        try:
            compiled = compile_glob(pattern, DOUBLESTAR)
        except PatternError as error:
            raise RenderError(f"files[].path: {error}") from None
        root = self._checkout(repo_url, revision)
        return {
            relative: path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file() and compiled.match(relative := path.relative_to(root).as_posix())
        }

    def _checkout(self, repo_url: str, revision: str) -> Path:
        sha = revision if is_full_sha(revision) else self.resolve_revision(repo_url, revision)
        return self.git.checkout(repo_url, sha, self.credentials_for(repo_url))


def _uses_ref(source: Mapping[str, Any], name: str) -> bool:
    value_files = (source.get("helm") or {}).get("valueFiles") or []
    return any(str(f) == f"${name}" or str(f).startswith(f"${name}/") for f in value_files)


def _app_dir(root: Path, path: str) -> Path:
    """The source path inside the checkout; it must exist and stay inside it."""
    if path.startswith("/"):
        raise RenderError(f"spec.source.path: {path!r} must be relative to the repository root")
    app_dir = (root / path).resolve() if path not in ("", ".") else root
    if not app_dir.is_relative_to(root.resolve()):
        raise RenderError(f"spec.source.path: {path!r} leaves the repository")
    if not app_dir.is_dir():
        raise RenderError(f"spec.source.path: app path does not exist: {path!r}")
    return app_dir
