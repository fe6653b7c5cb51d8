"""Resolved revisions, remembered for a while (Argo CD's repo-server keeps `ls-remote` answers for
``--revision-cache-expiration``, 3 minutes): a thousand Applications on one repository and branch then cost one
`git ls-remote` per period instead of a thousand. A push webhook forgets its repository's answers at once, a hard
refresh and a new operation never use them. Thread-safe; the clock is a parameter."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Final

from gitops.controller.webhook import normalize_repo_url

DEFAULT_TTL_SECONDS: Final = 180.0

_Key = tuple[str, str, str]


class RevisionCache:
    """(repository, targetRevision, chart) → the SHA or chart version it resolved to, and when."""

    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._entries: dict[_Key, tuple[str, float]] = {}

    @staticmethod
    def _key(repo_url: str, target_revision: str, chart: str) -> _Key:
        return normalize_repo_url(repo_url), target_revision.strip() or "HEAD", chart

    def get(self, repo_url: str, target_revision: str, chart: str, now: float) -> str | None:
        """The remembered revision, unless older than the TTL."""
        with self._lock:
            entry = self._entries.get(self._key(repo_url, target_revision, chart))
        if entry is None or now - entry[1] >= self._ttl:
            return None
        return entry[0]

    def put(self, repo_url: str, target_revision: str, chart: str, revision: str, now: float) -> None:
        with self._lock:
            self._entries[self._key(repo_url, target_revision, chart)] = (revision, now)

    def forget_repositories(self, repo_urls: Iterable[str]) -> None:
        """Drop every answer about these repositories (a push changed them)."""
        repos = {normalize_repo_url(url) for url in repo_urls}
        with self._lock:
            for key in [k for k in self._entries if k[0] in repos]:
                del self._entries[key]
