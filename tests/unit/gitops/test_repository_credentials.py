"""Which Argo CD repository Secret authenticates a repository URL (Argo CD docs, "Declarative Setup":
Repositories and Repository Credentials)."""

from __future__ import annotations

import base64
from typing import Any

from gitops.sources.credentials import RepositoryCredentials, credentials_for


def secret(kind: str, **values: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"s-{len(values)}", "labels": {"argocd.argoproj.io/secret-type": kind}},
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in values.items()},
    }


def test_repository_secret_matches_its_exact_url() -> None:
    secrets = [secret("repository", url="https://git.example.com/org/app.git", username="u", password="p")]
    found = credentials_for("https://git.example.com/org/app.git", secrets)
    assert found is not None and (found.username, found.password) == ("u", "p")


def test_repository_secret_matches_the_same_repository_spelled_differently() -> None:
    """Argo CD compares normalised URLs: case, a trailing `.git` or `/` do not make another repository."""
    secrets = [secret("repository", url="https://git.example.com/Org/App.git", password="p")]
    found = credentials_for("https://git.example.com/org/app/", secrets)
    assert found is not None and found.password == "p"


def test_repository_secret_does_not_match_another_repository_under_the_same_prefix() -> None:
    secrets = [secret("repository", url="https://git.example.com/org/app", password="p")]
    assert credentials_for("https://git.example.com/org/app-two", secrets) is None


def test_longest_repo_creds_prefix_wins() -> None:
    secrets = [
        secret("repo-creds", url="https://git.example.com/", password="host-wide"),
        secret("repo-creds", url="https://git.example.com/org/", password="org-wide"),
        secret("repo-creds", url="https://other.example.com/", password="other"),
    ]
    found = credentials_for("https://git.example.com/org/app.git", secrets)
    assert found is not None and found.password == "org-wide"


def test_repository_secret_wins_over_a_template() -> None:
    secrets = [
        secret("repo-creds", url="https://git.example.com/", password="template"),
        secret("repository", url="https://git.example.com/org/app", password="own"),
    ]
    found = credentials_for("https://git.example.com/org/app", secrets)
    assert found is not None and found.password == "own"


def test_repository_secret_without_credentials_inherits_the_template() -> None:
    """Argo CD: a repository with no credentials of its own uses the matching credential template's."""
    secrets = [
        secret("repo-creds", url="git@git.example.com:", sshPrivateKey="KEY"),
        secret("repository", url="git@git.example.com:org/app.git", insecure="true"),
    ]
    found = credentials_for("git@git.example.com:org/app.git", secrets)
    assert found is not None
    assert (found.ssh_private_key, found.insecure) == ("KEY", True)


def test_secrets_of_other_types_are_ignored() -> None:
    unlabelled = secret("cluster", url="https://git.example.com/org/app", password="p")
    assert credentials_for("https://git.example.com/org/app", [unlabelled]) is None


def test_insecure_is_read_as_a_boolean_string() -> None:
    found = credentials_for("https://h/x", [secret("repository", url="https://h/x", insecure="false")])
    assert found is not None and found.insecure is False


def test_repr_masks_the_password_and_key() -> None:
    creds = RepositoryCredentials(url="https://h/x", username="u", password="hunter2", ssh_private_key="PRIVATE")
    shown = repr(creds) + str(creds)
    assert "hunter2" not in shown and "PRIVATE" not in shown
    assert "u" in shown and "******" in shown
