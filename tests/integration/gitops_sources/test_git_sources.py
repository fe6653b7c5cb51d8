"""Git sources through the git CLI against real repositories: file://, git:// (git daemon) and smart HTTP
(git http-backend with basic auth); revisions resolved as Argo CD resolves targetRevision."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from gitops.repo_server import RepoServer, SourceError
from tests.git_servers import WorkRepository, configmap, git_daemon, git_http_server, silent_port


def names(server: RepoServer, source: dict[str, Any], **kwargs: Any) -> list[str]:
    rendered = server.generate_manifests(source, app_name="app", namespace="default", **kwargs)
    return [obj["metadata"]["name"] for obj in rendered.manifests]


def data_version(server: RepoServer, url: str, revision: str) -> str:
    rendered = server.generate_manifests(
        {"repoURL": url, "path": "app", "targetRevision": revision}, app_name="app", namespace="default"
    )
    return str(rendered.manifests[0]["data"]["version"])


def repository_secret(url: str, username: str, password: str) -> dict[str, Any]:
    values = {"url": url, "username": username, "password": password}
    return {
        "metadata": {"name": "repo", "labels": {"argocd.argoproj.io/secret-type": "repository"}},
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in values.items()},
    }


# --- revisions ------------------------------------------------------------------------------------------------


def test_branch_resolves_to_its_tip(work: WorkRepository, server: RepoServer) -> None:
    tip = work.commit({"app/cm.yaml": configmap("app", "2")})
    assert server.resolve_revision(work.url, "main") == tip


@pytest.mark.parametrize("revision", ["", "HEAD"])
def test_head_and_empty_resolve_to_the_default_branch(work: WorkRepository, server: RepoServer, revision: str) -> None:
    assert server.resolve_revision(work.url, revision) == work.git("rev-parse", "HEAD")


def test_annotated_tag_resolves_to_its_commit(work: WorkRepository, server: RepoServer) -> None:
    tagged = work.git("rev-parse", "HEAD")
    work.git("tag", "-a", "v1.0", "-m", "release")
    work.commit({"app/cm.yaml": configmap("app", "2")})
    assert server.resolve_revision(work.url, "v1.0") == tagged
    assert data_version(server, work.url, "v1.0") == "1"


def test_full_sha_of_an_older_commit_renders_that_commit(work: WorkRepository, server: RepoServer) -> None:
    first = work.git("rev-parse", "HEAD")
    work.commit({"app/cm.yaml": configmap("app", "2")})
    assert server.resolve_revision(work.url, first) == first
    assert data_version(server, work.url, first) == "1"
    assert data_version(server, work.url, "main") == "2"


def test_short_sha_is_resolved_by_fetching(work: WorkRepository, server: RepoServer) -> None:
    first = work.git("rev-parse", "HEAD")
    work.commit({"app/cm.yaml": configmap("app", "2")})
    assert server.resolve_revision(work.url, first[:8]) == first


def test_unknown_revision_is_a_source_error_naming_the_url(work: WorkRepository, server: RepoServer) -> None:
    with pytest.raises(SourceError, match=rf"^{work.url}: unable to resolve 'no-such-branch'"):
        server.resolve_revision(work.url, "no-such-branch")


def test_missing_repository_gives_gits_message(tmp_path: Path, server: RepoServer) -> None:
    url = (tmp_path / "nowhere").as_uri()
    with pytest.raises(SourceError, match=rf"^{url}: git ls-remote failed: .*does not appear to be a git repository"):
        server.resolve_revision(url, "main")


def test_a_new_commit_is_seen_on_the_next_resolve(work: WorkRepository, server: RepoServer) -> None:
    assert data_version(server, work.url, "main") == "1"
    work.commit({"app/cm.yaml": configmap("app", "2")})
    assert data_version(server, work.url, "main") == "2"


def test_local_path_works_as_a_url(work: WorkRepository, server: RepoServer) -> None:
    assert data_version(server, str(work.path), "main") == "1"


# --- caching --------------------------------------------------------------------------------------------------


def test_a_rendered_revision_is_served_from_the_cache(work: WorkRepository, server: RepoServer) -> None:
    source = {"repoURL": work.url, "path": "app", "targetRevision": "main"}
    names(server, source)
    fetches = server.git.requests.get("fetch", 0)
    names(server, source)
    assert server.render_cache.hits == 1
    assert server.git.requests.get("fetch", 0) == fetches


def test_hard_refresh_renders_again(work: WorkRepository, server: RepoServer) -> None:
    source = {"repoURL": work.url, "path": "app", "targetRevision": "main"}
    names(server, source)
    names(server, source, hard_refresh=True)
    assert server.render_cache.hits == 0


def test_the_checkout_is_read_only(work: WorkRepository, server: RepoServer) -> None:
    sha = server.resolve_revision(work.url, "main")
    tree = server.git.checkout(work.url, sha, None)
    for path in [tree, *tree.rglob("*")]:
        assert path.stat().st_mode & 0o222 == 0, path  # no write bit for anyone (root ignores them, so look)


def test_concurrent_renders_of_one_repository_agree(work: WorkRepository, server: RepoServer) -> None:
    """The per-repository lock keeps parallel fetches into one bare repository from corrupting it."""
    source = {"repoURL": work.url, "path": "app", "targetRevision": "main"}
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def render() -> None:
        try:
            results.append(names(server, source, hard_refresh=True))
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert results == [["app"]] * 4


def test_a_second_process_uses_the_same_cache(work: WorkRepository, tmp_path: Path) -> None:
    first = RepoServer(tmp_path / "shared-cache")
    second = RepoServer(tmp_path / "shared-cache")
    source = {"repoURL": work.url, "path": "app", "targetRevision": "main"}
    names(first, source)
    assert names(second, source) == ["app"]
    assert second.git.requests.get("fetch", 0) == 0  # the commit was already in the shared bare repository


# --- webhooks and generators ----------------------------------------------------------------------------------


def test_changed_files_between_two_commits(work: WorkRepository, server: RepoServer) -> None:
    old = work.git("rev-parse", "HEAD")
    work.write({"other/x.yaml": configmap("x")})
    work.remove("app/cm.yaml")
    new = work.commit({"app/new.yaml": configmap("new")})
    assert server.changed_files(work.url, old, new) == ["app/cm.yaml", "app/new.yaml", "other/x.yaml"]


def test_list_directories_and_read_files(work: WorkRepository, server: RepoServer) -> None:
    work.commit({"apps/a/config.json": '{"n": 1}', "apps/b/config.json": '{"n": 2}', "apps/b/deep/config.json": "{}"})
    assert server.list_directories(work.url, "main") == ["app", "apps", "apps/a", "apps/b", "apps/b/deep"]
    assert server.read_files(work.url, "main", "apps/*/config.json") == {
        "apps/a/config.json": b'{"n": 1}',
        "apps/b/config.json": b'{"n": 2}',
    }


# --- transports -----------------------------------------------------------------------------------------------


def test_git_protocol_through_git_daemon(work: WorkRepository, server: RepoServer) -> None:
    with git_daemon(work.path.parent) as base:
        url = f"{base}/app"
        assert server.resolve_revision(url, "main") == work.git("rev-parse", "HEAD")
        assert data_version(server, url, "main") == "1"


def test_insteadof_from_the_users_git_config_is_honoured(
    work: WorkRepository, server: RepoServer, isolated_git_config: Path
) -> None:
    isolated_git_config.write_text(f'[url "{work.path.parent.as_uri()}/"]\n\tinsteadOf = https://git.example.invalid/\n')
    assert data_version(server, "https://git.example.invalid/app", "main") == "1"


def test_smart_http_with_credentials_from_a_repository_secret(work: WorkRepository, tmp_path: Path) -> None:
    with git_http_server(work.path.parent, "alice", "s3cret-pw") as base:
        url = f"{base}/app"
        server = RepoServer(tmp_path / "cache", credentials=lambda: [repository_secret(url, "alice", "s3cret-pw")])
        assert data_version(server, url, "main") == "1"
    for config in (tmp_path / "cache").rglob("config"):
        assert "s3cret-pw" not in config.read_text()


def test_refused_credentials_name_the_url_and_never_the_password(work: WorkRepository, tmp_path: Path) -> None:
    with git_http_server(work.path.parent, "alice", "right-pw") as base:
        url = f"{base}/app"
        server = RepoServer(tmp_path / "cache", credentials=lambda: [repository_secret(url, "alice", "wrong-pw")])
        with pytest.raises(SourceError) as caught:
            server.resolve_revision(url, "main")
    message = str(caught.value)
    assert message.startswith(f"{url}: git ls-remote failed:")
    assert "Authentication failed" in message
    assert "wrong-pw" not in message and "wrong-pw" not in repr(caught.value)


def test_password_in_the_url_is_used_and_hidden(work: WorkRepository, server: RepoServer) -> None:
    with git_http_server(work.path.parent, "alice", "url-pw") as base:
        good = base.replace("http://", "http://alice:url-pw@") + "/app"
        assert data_version(server, good, "main") == "1"
        bad = base.replace("http://", "http://alice:bad-pw@") + "/app"
        with pytest.raises(SourceError) as caught:
            server.resolve_revision(bad, "main")
    assert "bad-pw" not in str(caught.value)
    assert str(caught.value).startswith(f"{base}/app: ")


def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    server = RepoServer(tmp_path / "cache", timeout=2.0)
    with silent_port() as port:
        url = f"git://127.0.0.1:{port}/app"
        with pytest.raises(SourceError, match=rf"^{url}: git ls-remote timed out after 2s"):
            server.resolve_revision(url, "main")


def test_the_password_never_reaches_gits_command_line(
    work: WorkRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ps` shows arguments: a git on PATH that records its arguments proves the password is not among them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "argv.log"
    real_git = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True).stdout.strip()
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real_git} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    with git_http_server(work.path.parent, "alice", "argv-secret") as base:
        url = base.replace("http://", "http://alice:argv-secret@") + "/app"
        secret = repository_secret(f"{base}/app", "alice", "argv-secret")
        server = RepoServer(tmp_path / "cache", credentials=lambda: [secret])
        assert data_version(server, f"{base}/app", "main") == "1"
        assert data_version(server, url, "main") == "1"
    recorded = log.read_text()
    assert "ls-remote" in recorded and "fetch" in recorded
    assert "argv-secret" not in recorded


def test_remembered_refs_are_reused_until_forgotten(work: WorkRepository, tmp_path: Path) -> None:
    """With a revision cache (Argo CD's repo-server keeps ls-remote answers), a push is seen after the webhook
    drops the remembered refs, or on a hard refresh."""
    server = RepoServer(tmp_path / "cache", revision_cache_seconds=3600)
    first = server.resolve_revision(work.url, "main")
    second = work.commit({"app/cm.yaml": configmap("app", "2")})
    assert server.resolve_revision(work.url, "main") == first
    assert server.git.requests["ls-remote"] == 1
    assert server.resolve_revision(work.url, "main", fresh=True) == second
    third = work.commit({"app/cm.yaml": configmap("app", "3")})
    server.forget_revisions(work.url)
    assert server.resolve_revision(work.url, "main") == third
    assert server.git.requests["ls-remote"] == 3


@pytest.mark.parametrize("url", ["git@git.example.invalid:org/app.git", "ssh://git@git.example.invalid/org/app.git"])
def test_ssh_urls_reach_git_as_written(
    work: WorkRepository, server: RepoServer, isolated_git_config: Path, url: str
) -> None:
    """scp-style and ssh:// URLs go to git untouched, so the user's insteadOf rules (here to a local path) apply."""
    isolated_git_config.write_text(
        f'[url "{work.path.as_uri()}"]\n'
        "\tinsteadOf = git@git.example.invalid:org/app.git\n"
        "\tinsteadOf = ssh://git@git.example.invalid/org/app.git\n"
    )
    assert data_version(server, url, "main") == "1"


def test_a_symlink_leaving_the_repository_is_refused(work: WorkRepository, server: RepoServer) -> None:
    """As Argo CD refuses repositories with out-of-bounds symlinks."""
    (work.path / "app" / "passwd.yaml").symlink_to("/etc/passwd")
    work.commit()
    expected = rf"^{work.url}: the repository has an out-of-bounds symlink: 'app/passwd\.yaml' is a link to an absolute"
    with pytest.raises(SourceError, match=expected):
        data_version(server, work.url, "main")


def test_a_token_given_as_the_user_name_in_the_url_authenticates(work: WorkRepository, server: RepoServer) -> None:
    with git_http_server(work.path.parent, "tok3n-value", "") as base:
        url = base.replace("http://", "http://tok3n-value@") + "/app"
        assert data_version(server, url, "main") == "1"
