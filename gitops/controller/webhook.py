"""Git push webhooks (``POST /api/webhook``), as Argo CD's API server receives them: which forge sent the push, whether
its shared secret checks out, and which Applications the push concerns. Pure: headers and body in, decisions out.

GitHub and Gitea sign the body with HMAC-SHA256 (``X-Hub-Signature-256: sha256=<hex>``, ``X-Gitea-Signature: <hex>``);
GitLab sends the secret itself in ``X-Gitlab-Token``. A push refreshes an Application when one of its sources names the
pushed repository and its ``targetRevision`` follows the pushed branch (or tag); with the annotation
``argocd.argoproj.io/manifest-generate-paths`` only when a changed file lies under one of those paths.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from kube.json_data import JsonObject

MANIFEST_GENERATE_PATHS: Final = "argocd.argoproj.io/manifest-generate-paths"
# Argo CD's `webhook.maxPayloadSizeMB` default.
MAX_PAYLOAD_BYTES: Final = 50 * 1024 * 1024
# Keys of the `argocd-secret` Secret holding each forge's shared secret, as Argo CD names them.
SECRET_KEYS: Final = {
    "github": "webhook.github.secret",
    "gitlab": "webhook.gitlab.secret",
    "gitea": "webhook.gitea.secret",
}


class WebhookError(ValueError):
    """A request that is not a usable push event; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PushEvent:
    """A push: the repository's URLs (web, HTTPS clone, SSH), the ref, the commits before and after, the changed
    files (``None`` when the payload did not list them, so every path counts as touched) and the default branch."""

    forge: str
    repo_urls: tuple[str, ...]
    ref: str
    before: str
    after: str
    changed_files: tuple[str, ...] | None
    default_branch: str = ""

    @property
    def revision(self) -> str:
        """The branch or tag pushed: ``refs/heads/main`` → ``main``."""
        for prefix in ("refs/heads/", "refs/tags/"):
            if self.ref.startswith(prefix):
                return self.ref[len(prefix):]
        return self.ref


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def detect_forge(headers: Mapping[str, str]) -> str:
    """``github``, ``gitlab`` or ``gitea`` from the event header each forge sends; WebhookError otherwise.

    Gitea also sends ``X-GitHub-Event`` for compatibility, so its own header is looked at first.
    """
    if _header(headers, "X-Gitea-Event"):
        return "gitea"
    if _header(headers, "X-Gitlab-Event"):
        return "gitlab"
    if _header(headers, "X-GitHub-Event"):
        return "github"
    raise WebhookError("unknown webhook event: expected a GitHub, GitLab or Gitea push (no X-GitHub-Event, "
                       "X-Gitlab-Event or X-Gitea-Event header)")


def verify_secret(forge: str, headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Check the request against the forge's shared secret (nothing to check when ``secret`` is empty); raises
    WebhookError (401) without ever echoing the secret or the signature."""
    if not secret:
        return
    if forge == "gitlab":
        token = _header(headers, "X-Gitlab-Token")
        if not hmac.compare_digest(token.encode(), secret.encode()):
            raise WebhookError("gitlab webhook: X-Gitlab-Token does not match the configured secret", 401)
        return
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if forge == "github":
        signature = _header(headers, "X-Hub-Signature-256")
        expected = "sha256=" + digest
        header = "X-Hub-Signature-256"
    else:
        signature = _header(headers, "X-Gitea-Signature")
        expected = digest
        header = "X-Gitea-Signature"
    if not signature:
        raise WebhookError(f"{forge} webhook: a secret is configured but the request has no {header}", 401)
    if not hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
        raise WebhookError(f"{forge} webhook: {header} does not match the body signed with the configured secret", 401)


def parse_push(forge: str, headers: Mapping[str, str], body: bytes) -> PushEvent | None:
    """The push in a request body; ``None`` for another event type (a ping, an issue), which is acknowledged and
    ignored; WebhookError when the body is not the JSON a push carries."""
    event = _header(headers, {"github": "X-GitHub-Event", "gitlab": "X-Gitlab-Event", "gitea": "X-Gitea-Event"}[forge])
    if forge == "gitlab" and event not in ("Push Hook", "Tag Push Hook"):
        return None
    if forge != "gitlab" and event != "push":
        return None
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise WebhookError(f"{forge} push: the body is not JSON ({error})") from None
    if not isinstance(payload, dict):
        raise WebhookError(f"{forge} push: the body is not a JSON object")
    ref = payload.get("ref")
    if not isinstance(ref, str) or not ref:
        raise WebhookError(f"{forge} push: field 'ref' is missing")
    if forge == "gitlab":
        project = payload.get("project") or {}
        repository = payload.get("repository") or {}
        fields = [project.get("web_url"), project.get("git_http_url"), project.get("git_ssh_url"),
                  repository.get("homepage"), repository.get("git_http_url"), repository.get("git_ssh_url")]
        default_branch = str(project.get("default_branch") or "")
    else:
        repository = payload.get("repository") or {}
        fields = [repository.get("html_url"), repository.get("clone_url"), repository.get("ssh_url"),
                  repository.get("git_url"), repository.get("url")]
        default_branch = str(repository.get("default_branch") or "")
    urls = tuple(dict.fromkeys(str(url) for url in fields if isinstance(url, str) and url))
    if not urls:
        raise WebhookError(f"{forge} push: the payload names no repository URL")
    return PushEvent(
        forge=forge,
        repo_urls=urls,
        ref=ref,
        before=str(payload.get("before") or ""),
        after=str(payload.get("after") or payload.get("checkout_sha") or ""),
        changed_files=_changed_files(payload.get("commits")),
        default_branch=default_branch,
    )


def _changed_files(commits: Any) -> tuple[str, ...] | None:
    if not isinstance(commits, list) or not commits:
        return None
    files: dict[str, None] = {}
    for commit in commits:
        if not isinstance(commit, dict):
            continue
        for field in ("added", "modified", "removed"):
            for path in commit.get(field) or []:
                if isinstance(path, str):
                    files[path] = None
    return tuple(files)


_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.*)$")


def normalize_repo_url(url: str) -> str:
    """A repository URL reduced to host and path, so that its web, HTTPS, SSH and scp-style forms compare equal:
    ``git@github.com:org/repo.git`` and ``https://GitHub.com/org/repo/`` → ``github.com/org/repo``. Local
    repositories (``file://`` and paths) keep their path."""
    text = url.strip()
    scp = _SCP_LIKE.match(text)
    if scp is not None and "://" not in text:
        host, path = scp.group(1), scp.group(2)
    elif "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme.lower() == "file":
            return posixpath.normpath("/" + rest.lstrip("/")).removesuffix(".git").rstrip("/")
        authority, _, path = rest.partition("/")
        host = authority.rpartition("@")[2]
        # Default ports say nothing about which repository it is.
        host = re.sub(r":(?:22|80|443|9418)$", "", host)
    else:
        return posixpath.normpath(text).removesuffix(".git").rstrip("/")
    path = path.strip("/").removesuffix(".git").rstrip("/")
    return f"{host.lower()}/{path}"


def _app_sources(app: JsonObject) -> list[JsonObject]:
    spec = app.get("spec") or {}
    sources = [source for source in spec.get("sources") or [] if isinstance(source, dict)]
    if isinstance(spec.get("source"), dict):
        sources.insert(0, spec["source"])
    return sources


def _revision_follows(target_revision: str, push: PushEvent) -> bool:
    """Whether a source at ``target_revision`` moves with this push: the same branch or tag, or ``HEAD``/empty
    following the default branch (any branch when the payload does not say which is the default)."""
    target = target_revision.strip()
    if target in ("", "HEAD"):
        return not push.default_branch or push.revision == push.default_branch
    return target.removeprefix("refs/heads/").removeprefix("refs/tags/") == push.revision


def _touched(app: JsonObject, source: JsonObject, changed: Sequence[str] | None) -> bool:
    annotations = (app.get("metadata") or {}).get("annotations") or {}
    paths = str(annotations.get(MANIFEST_GENERATE_PATHS) or "").strip()
    if not paths or changed is None:
        return True
    base = str(source.get("path") or "")
    prefixes: list[str] = []
    for item in paths.split(";"):
        item = item.strip()
        if not item:
            continue
        # As Argo CD: an absolute path is from the repository root, a relative one from the source's path.
        joined = item.lstrip("/") if item.startswith("/") else posixpath.join(base, item)
        normalized = posixpath.normpath(joined) if joined else "."
        prefixes.append("" if normalized == "." else normalized.lstrip("/"))
    for path in changed:
        normalized = posixpath.normpath(path)
        for prefix in prefixes:
            if not prefix or normalized == prefix or normalized.startswith(prefix.rstrip("/") + "/"):
                return True
    return False


def push_refreshes(app: JsonObject, push: PushEvent) -> bool:
    """Whether ``push`` concerns ``app``: a source on the pushed repository, following the pushed revision, and
    (with ``manifest-generate-paths``) a changed file under one of the annotated paths."""
    pushed = {normalize_repo_url(url) for url in push.repo_urls}
    for source in _app_sources(app):
        if normalize_repo_url(str(source.get("repoURL") or "")) not in pushed:
            continue
        if not _revision_follows(str(source.get("targetRevision") or ""), push):
            continue
        if _touched(app, source, push.changed_files):
            return True
    return False
