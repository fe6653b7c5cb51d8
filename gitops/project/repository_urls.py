"""Git repository URLs compared as Argo CD compares them (``git.NormalizeGitURL``)."""

from __future__ import annotations

import re

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")


def normalize_git_url(url: str) -> str:
    """Lower-cased, scp-style ``git@host:path`` spelled ``git@host/path``, without ``.git`` or a trailing slash."""
    normalized = url.strip().lower()
    if _SCP_LIKE.match(normalized):
        normalized = normalized.replace(":", "/", 1)
    normalized = normalized.removeprefix("ssh://")
    normalized = normalized.rstrip("/")
    return normalized.removesuffix(".git")
