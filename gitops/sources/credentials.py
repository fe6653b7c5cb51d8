"""Which credentials Argo CD's repository Secrets give a repository URL (pure).

Argo CD reads two kinds of Secret in its namespace, told apart by the label ``argocd.argoproj.io/secret-type``:
``repository`` names one repository by its exact ``url``; ``repo-creds`` is a credential template whose ``url`` is a
prefix, the longest matching prefix winning. A repository Secret without credentials of its own takes them from the
best template (Argo CD's "credential template" inheritance).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gitops.sources.urls import REDACTED, normalize_git_url

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
REPOSITORY = "repository"
REPO_CREDS = "repo-creds"


@dataclass(frozen=True)
class RepositoryCredentials:
    """What to authenticate a repository with. ``repr`` masks the secrets, so logging one leaks nothing."""

    url: str
    username: str | None = None
    password: str | None = None
    ssh_private_key: str | None = None
    insecure: bool = False

    @property
    def has_credentials(self) -> bool:
        """Whether there is anything to authenticate with (``insecure`` alone is not a credential)."""
        return bool(self.username or self.password or self.ssh_private_key)

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """The values that must never appear in a message."""
        return (self.password, self.ssh_private_key)

    def __repr__(self) -> str:
        password = REDACTED if self.password else None
        key = REDACTED if self.ssh_private_key else None
        return (
            f"RepositoryCredentials(url={self.url!r}, username={self.username!r}, password={password!r}, "
            f"ssh_private_key={key!r}, insecure={self.insecure!r})"
        )

    __str__ = __repr__


def _decoded(secret: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's values as text: ``data`` is base64 (as the API server returns it), ``stringData`` plain."""
    values: dict[str, str] = {}
    for key, raw in (secret.get("data") or {}).items():
        try:
            values[key] = base64.b64decode(str(raw), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue  # an unreadable value is no credential; the secret is not echoed anywhere
    for key, raw in (secret.get("stringData") or {}).items():
        values[key] = str(raw)
    return values


def _secret_type(secret: Mapping[str, Any]) -> str:
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return str(labels.get(SECRET_TYPE_LABEL, ""))


def _credentials(url: str, values: Mapping[str, str]) -> RepositoryCredentials:
    return RepositoryCredentials(
        url=url,
        username=values.get("username") or None,
        password=values.get("password") or None,
        ssh_private_key=values.get("sshPrivateKey") or None,
        insecure=values.get("insecure", "").strip().lower() == "true",
    )


def credentials_for(repo_url: str, secrets: Iterable[Mapping[str, Any]]) -> RepositoryCredentials | None:
    """The credentials Argo CD would use for ``repo_url``, or None when no Secret matches it."""
    wanted = normalize_git_url(repo_url)
    repository: RepositoryCredentials | None = None
    template: RepositoryCredentials | None = None
    template_length = -1
    for secret in secrets:
        kind = _secret_type(secret)
        if kind not in (REPOSITORY, REPO_CREDS):
            continue
        values = _decoded(secret)
        url = values.get("url", "")
        if not url:
            continue
        if kind == REPOSITORY and repository is None and normalize_git_url(url) == wanted:
            repository = _credentials(url, values)
        elif kind == REPO_CREDS and repo_url.startswith(url) and len(url) > template_length:
            template, template_length = _credentials(url, values), len(url)
    if repository is None:
        return template
    if repository.has_credentials or template is None:
        return repository
    return RepositoryCredentials(
        url=repository.url,
        username=template.username,
        password=template.password,
        ssh_private_key=template.ssh_private_key,
        insecure=repository.insecure or template.insecure,
    )
