"""Push webhooks as Argo CD's /api/webhook handles them (docs: operator-manual/webhook.md): the forge is told by its
event header, the shared secret is checked as each forge sends it, and only Applications on the pushed repository
and branch (and, with manifest-generate-paths, touched paths) are refreshed."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from gitops.controller.webhook import (
    PushEvent,
    WebhookError,
    detect_forge,
    normalize_repo_url,
    parse_push,
    push_refreshes,
    verify_secret,
)

GITHUB_PUSH = {
    "ref": "refs/heads/main",
    "before": "a" * 40,
    "after": "b" * 40,
    "repository": {
        "html_url": "https://github.com/org/apps",
        "clone_url": "https://github.com/org/apps.git",
        "ssh_url": "git@github.com:org/apps.git",
        "default_branch": "main",
    },
    "commits": [{"added": ["guestbook/svc.yaml"], "modified": ["guestbook/deploy.yaml"], "removed": []}],
}
GITLAB_PUSH = {
    "ref": "refs/heads/main",
    "before": "a" * 40,
    "after": "c" * 40,
    "project": {"web_url": "https://gitlab.com/org/apps", "git_http_url": "https://gitlab.com/org/apps.git",
                "git_ssh_url": "git@gitlab.com:org/apps.git", "default_branch": "main"},
    "commits": [{"added": [], "modified": ["other/x.yaml"], "removed": []}],
}


def app(repo: str, revision: str = "HEAD", path: str = "guestbook", paths: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "a", "namespace": "argocd"}
    if paths is not None:
        metadata["annotations"] = {"argocd.argoproj.io/manifest-generate-paths": paths}
    return {"metadata": metadata, "spec": {"source": {"repoURL": repo, "targetRevision": revision, "path": path}}}


def github_push(**changes: Any) -> PushEvent:
    body = json.dumps({**GITHUB_PUSH, **changes}).encode()
    push = parse_push("github", {"X-GitHub-Event": "push"}, body)
    assert push is not None
    return push


@pytest.mark.parametrize(
    ("headers", "forge"),
    [
        ({"X-GitHub-Event": "push"}, "github"),
        ({"x-gitlab-event": "Push Hook"}, "gitlab"),
        # Gitea sends X-GitHub-Event too; its own header decides.
        ({"X-GitHub-Event": "push", "X-Gitea-Event": "push"}, "gitea"),
    ],
)
def test_the_forge_is_told_by_its_event_header(headers: dict[str, str], forge: str) -> None:
    assert detect_forge(headers) == forge


def test_a_request_from_no_known_forge_is_refused() -> None:
    with pytest.raises(WebhookError, match="X-GitHub-Event"):
        detect_forge({"Content-Type": "application/json"})


def test_github_signature_is_an_hmac_sha256_of_the_body() -> None:
    body = b'{"ref": "refs/heads/main"}'
    signature = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    verify_secret("github", {"X-Hub-Signature-256": signature}, body, "s3cret")
    with pytest.raises(WebhookError) as refused:
        verify_secret("github", {"X-Hub-Signature-256": signature}, body + b" ", "s3cret")
    assert refused.value.status == 401
    assert "s3cret" not in str(refused.value)


def test_gitea_signature_is_the_bare_hex_digest() -> None:
    body = b"{}"
    signature = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    verify_secret("gitea", {"X-Gitea-Signature": signature}, body, "k")
    with pytest.raises(WebhookError, match="X-Gitea-Signature"):
        verify_secret("gitea", {}, body, "k")


def test_gitlab_sends_the_secret_itself_as_a_token() -> None:
    verify_secret("gitlab", {"X-Gitlab-Token": "tok"}, b"{}", "tok")
    with pytest.raises(WebhookError, match="X-Gitlab-Token") as refused:
        verify_secret("gitlab", {"X-Gitlab-Token": "wrong"}, b"{}", "tok")
    assert "tok" not in str(refused.value).replace("Token", "")


def test_without_a_configured_secret_nothing_is_checked() -> None:
    verify_secret("github", {}, b"{}", "")


def test_a_ping_event_is_acknowledged_and_ignored() -> None:
    assert parse_push("github", {"X-GitHub-Event": "ping"}, b"{}") is None


def test_a_body_that_is_not_json_names_the_problem() -> None:
    with pytest.raises(WebhookError, match="not JSON"):
        parse_push("github", {"X-GitHub-Event": "push"}, b"<html>")


def test_github_push_lists_urls_branch_and_changed_files() -> None:
    push = github_push()
    assert push.revision == "main"
    assert "git@github.com:org/apps.git" in push.repo_urls
    assert push.changed_files == ("guestbook/svc.yaml", "guestbook/deploy.yaml")
    assert push.after == "b" * 40


def test_gitlab_push_reads_the_project_urls() -> None:
    push = parse_push("gitlab", {"X-Gitlab-Event": "Push Hook"}, json.dumps(GITLAB_PUSH).encode())
    assert push is not None
    assert "https://gitlab.com/org/apps.git" in push.repo_urls
    assert push.changed_files == ("other/x.yaml",)


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("https://github.com/org/apps.git", "github.com/org/apps"),
        ("git@github.com:org/apps.git", "github.com/org/apps"),
        ("ssh://git@GitHub.com:22/org/apps", "github.com/org/apps"),
        ("https://user@github.com/org/apps/", "github.com/org/apps"),
        ("file:///srv/git/apps.git", "/srv/git/apps"),
        ("/srv/git/apps", "/srv/git/apps"),
    ],
)
def test_repository_urls_compare_by_host_and_path(url: str, normalized: str) -> None:
    assert normalize_repo_url(url) == normalized


@pytest.mark.parametrize(
    ("application", "refreshed"),
    [
        (app("git@github.com:org/apps.git", "HEAD"), True),  # HEAD follows the default branch
        (app("https://github.com/org/apps", "main"), True),
        (app("https://github.com/org/apps", "refs/heads/main"), True),
        (app("https://github.com/org/apps", "release"), False),  # another branch
        (app("https://github.com/org/other", "main"), False),  # another repository
        (app("https://github.com/org/apps", "main", paths="."), True),  # guestbook/ touched
        (app("https://github.com/org/apps", "main", path="helm", paths="."), False),
        (app("https://github.com/org/apps", "main", path="helm", paths="/guestbook"), True),  # absolute path
        (app("https://github.com/org/apps", "main", path="helm", paths="../guestbook;values"), True),
    ],
)
def test_a_push_refreshes_only_applications_it_touches(application: dict[str, Any], refreshed: bool) -> None:
    assert push_refreshes(application, github_push()) is refreshed


def test_head_on_a_push_to_a_non_default_branch_is_not_refreshed() -> None:
    assert not push_refreshes(app("https://github.com/org/apps", "HEAD"), github_push(ref="refs/heads/feature"))


def test_without_a_list_of_changed_files_every_path_counts_as_touched() -> None:
    push = github_push(commits=[])
    assert push_refreshes(app("https://github.com/org/apps", "main", path="x", paths="."), push)
