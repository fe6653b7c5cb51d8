"""Repository URLs: how they are shown, compared and turned into cache directory names (pure)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

REDACTED = "******"

# scp-like syntax: `user@host:path`, as git reads it (no scheme, a colon before the first slash).
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/]+):(?P<path>(?!//).*)$")
_USERINFO = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^@/]*)@")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHORT_SHA = re.compile(r"^[0-9a-f]{7,39}$")


def strip_userinfo(url: str) -> str:
    """The URL without ``user:password@`` (only for URLs with a scheme: scp-style ``git@host:`` names a login, no
    secret, and stays as it is)."""
    return _USERINFO.sub(lambda match: match.group("scheme"), url)


def normalize_git_url(url: str) -> str:
    """The form two spellings of one repository share, as Argo CD compares them: lower case, no userinfo, no
    trailing ``/`` or ``.git``, and scp-style ``git@host:org/repo`` written as ``ssh://git@host/org/repo``."""
    url = url.strip()
    scp = _SCP_LIKE.match(url) if "://" not in url else None
    if scp and not url.startswith("/"):
        user = f"{scp.group('user')}@" if scp.group("user") else ""
        url = f"ssh://{user}{scp.group('host')}/{scp.group('path').lstrip('/')}"
    url = url.lower().rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")]
    if url.startswith("ssh://"):
        return url  # the login user is part of an SSH address
    return strip_userinfo(url)


def cache_key(url: str) -> str:
    """A directory name for a repository: a hash of its normalised URL (so the name holds no secret)."""
    return hashlib.sha256(normalize_git_url(url).encode()).hexdigest()[:32]


def is_full_sha(revision: str) -> bool:
    """Whether ``revision`` is a full 40-hex-digit commit SHA (lower case, as git prints them)."""
    return bool(_FULL_SHA.match(revision))


def may_be_short_sha(revision: str) -> bool:
    """Whether ``revision`` could be an abbreviated commit SHA (7 to 39 hex digits)."""
    return bool(_SHORT_SHA.match(revision))


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret replaced by ``******`` (longest first, so a secret containing another is
    hidden whole)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
