"""Helm chart repositories: ``index.yaml`` read over HTTP, a chart version chosen from it, and the chart archive
downloaded, checked against the index's digest and unpacked into a read-only cache directory per version.

Layout under the cache directory: ``helm/<hash of the repository URL>/<chart>/<version>/`` holding the chart.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import yaml

from gitops.sources.credentials import RepositoryCredentials
from gitops.sources.errors import SourceError
from gitops.sources.locks import repository_lock
from gitops.sources.semver_ranges import ConstraintError, select_version
from gitops.sources.urls import cache_key

Clock = Callable[[], float]


def chart_entries(index: Any, repo_url: str, chart: str) -> list[dict[str, Any]]:
    """The index entries of one chart. Raises SourceError when the index is not one or lacks the chart."""
    if not isinstance(index, dict) or not isinstance(index.get("entries"), dict):
        raise SourceError(repo_url, "index.yaml has no 'entries': not a Helm chart repository")
    entries = index["entries"].get(chart)
    if not isinstance(entries, list) or not entries:
        raise SourceError(repo_url, f"chart '{chart}' not found in the repository's index.yaml")
    return [entry for entry in entries if isinstance(entry, dict)]


def choose_entry(entries: list[dict[str, Any]], repo_url: str, chart: str, constraint: str) -> dict[str, Any]:
    """The entry of the highest version meeting ``constraint`` (Helm's rule)."""
    versions = [str(entry.get("version", "")) for entry in entries]
    try:
        chosen = select_version(versions, constraint)
    except ConstraintError as error:
        raise SourceError(repo_url, f"chart '{chart}': {error}") from None
    if chosen is None:
        listed = ", ".join(versions[:10]) + (", …" if len(versions) > 10 else "")
        raise SourceError(
            repo_url, f"chart '{chart}' has no version matching '{constraint or '*'}' (versions: {listed})"
        )
    return entries[versions.index(chosen)]


class HelmRepositories:
    """The Helm side of the repo server."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        timeout: float = 60.0,
        index_max_age: float = 0.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.cache_dir = Path(cache_dir) / "helm"
        self.timeout = timeout
        self.index_max_age = index_max_age
        self._clock = clock
        self._indexes: dict[str, tuple[float, Any]] = {}
        #: HTTP requests made, by what they fetched ("index", "chart").
        self.requests: dict[str, int] = {}

    def _get(self, url: str, what: str, repo_url: str, credentials: RepositoryCredentials | None) -> bytes:
        auth = None
        if credentials and (credentials.username or credentials.password):
            auth = httpx.BasicAuth(credentials.username or "", credentials.password or "")
        verify = not (credentials and credentials.insecure)
        secrets = credentials.secrets if credentials else ()
        self.requests[what] = self.requests.get(what, 0) + 1
        try:
            response = httpx.get(url, auth=auth, verify=verify, timeout=self.timeout, follow_redirects=True)
        except httpx.TimeoutException:
            raise SourceError(repo_url, f"fetching {what} timed out after {self.timeout:g}s", secrets=secrets) from None
        except httpx.HTTPError as error:
            raise SourceError(repo_url, f"fetching {what} failed: {error}", secrets=secrets) from None
        if response.status_code != 200:
            status = f"HTTP {response.status_code} {response.reason_phrase}"
            raise SourceError(repo_url, f"fetching {what} failed: {status}", secrets=secrets)
        return response.content

    def index(self, repo_url: str, credentials: RepositoryCredentials | None, *, fresh: bool = False) -> Any:
        """The repository's parsed ``index.yaml`` (reused for ``index_max_age`` seconds unless ``fresh``)."""
        now = self._clock()
        cached = self._indexes.get(repo_url)
        if cached and not fresh and now - cached[0] < self.index_max_age:
            return cached[1]
        raw = self._get(repo_url.rstrip("/") + "/index.yaml", "index.yaml", repo_url, credentials)
        try:
            index = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise SourceError(repo_url, f"index.yaml is not valid YAML: {error}") from None
        self._indexes[repo_url] = (now, index)
        return index

    def forget_index(self, repo_url: str) -> None:
        """Drop the remembered index of ``repo_url``."""
        self._indexes.pop(repo_url, None)

    def resolve(
        self,
        repo_url: str,
        chart: str,
        constraint: str,
        credentials: RepositoryCredentials | None,
        *,
        fresh: bool = False,
    ) -> str:
        """The chart version ``constraint`` (an exact version or a semver range) selects."""
        entries = chart_entries(self.index(repo_url, credentials, fresh=fresh), repo_url, chart)
        return str(choose_entry(entries, repo_url, chart, constraint).get("version"))

    def chart(
        self, repo_url: str, chart: str, version: str, credentials: RepositoryCredentials | None
    ) -> Path:
        """A read-only directory holding the unpacked chart ``chart`` at exactly ``version``."""
        home = self.cache_dir / cache_key(repo_url)
        target = home / _safe_name(chart) / _safe_name(version)
        if (target / ".complete").exists():
            return target / "chart"
        with repository_lock(home / "lock"):
            if (target / ".complete").exists():
                return target / "chart"
            entries = chart_entries(self.index(repo_url, credentials), repo_url, chart)
            matching = [entry for entry in entries if str(entry.get("version")) == version]
            if not matching:
                raise SourceError(repo_url, f"chart '{chart}' has no version '{version}'")
            entry = matching[0]
            urls = entry.get("urls") or []
            if not urls:
                raise SourceError(repo_url, f"chart '{chart}' {version}: the index gives no download URL")
            archive_url = urljoin(repo_url.rstrip("/") + "/", str(urls[0]))
            archive = self._get(archive_url, f"chart {chart}-{version}", repo_url, credentials)
            digest = str(entry.get("digest") or "")
            if digest and hashlib.sha256(archive).hexdigest() != digest.removeprefix("sha256:"):
                raise SourceError(
                    repo_url, f"chart '{chart}' {version}: the archive's sha256 does not match the index's digest"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
            try:
                _unpack_chart(repo_url, chart, archive, staging / "chart")
                (staging / ".complete").touch()
                staging.rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return target / "chart"


def _safe_name(text: str) -> str:
    """A path component from a chart name or version (which come from an index we do not trust)."""
    cleaned = "".join(c if c.isalnum() or c in "._+-" else "_" for c in text).lstrip(".")
    return cleaned or "_"


def _unpack_chart(repo_url: str, chart: str, archive: bytes, destination: Path) -> None:
    """Unpack a chart archive (``<chart>/…`` inside) so that ``destination`` is the chart directory."""
    unpacked = destination.parent / ".archive"
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            tar.extractall(unpacked, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise SourceError(repo_url, f"chart '{chart}': cannot unpack the archive: {error}") from None
    roots = [path for path in unpacked.iterdir() if (path / "Chart.yaml").is_file()]
    if len(roots) != 1:
        raise SourceError(repo_url, f"chart '{chart}': the archive holds no single chart directory")
    roots[0].rename(destination)
    shutil.rmtree(unpacked, ignore_errors=True)
