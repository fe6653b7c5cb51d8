"""Where a Helm repository's credentials are sent: Helm passes them to the repository's own host only (its
``--pass-credentials`` flag, Argo CD's ``helm.passCredentials``, is what sends them to every domain)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gitops.sources import helm_repository
from gitops.sources.credentials import RepositoryCredentials
from gitops.sources.helm_repository import HelmRepositories, same_origin

REPO = "https://charts.example.com/stable"
CREDENTIALS = RepositoryCredentials(url=REPO, username="bob", password="chart-pw")


def _chart_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"apiVersion: v2\nname: web\nversion: 1.0.0\n"
        info = tarfile.TarInfo("web/Chart.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _serve(monkeypatch: pytest.MonkeyPatch, archive_url: str) -> list[tuple[str, bool]]:
    """A fake HTTP client: the index names ``archive_url``; records (url, whether credentials were sent)."""
    sent: list[tuple[str, bool]] = []
    index = {"apiVersion": "v1", "entries": {"web": [{"name": "web", "version": "1.0.0", "urls": [archive_url]}]}}

    def get(url: str, *, auth: Any, **_: Any) -> httpx.Response:
        sent.append((url, auth is not None))
        body = yaml.safe_dump(index).encode() if url.endswith("index.yaml") else _chart_archive()
        return httpx.Response(200, content=body)

    monkeypatch.setattr(helm_repository.httpx, "get", get)
    return sent


def test_credentials_go_with_an_archive_on_the_repositorys_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sent = _serve(monkeypatch, "web-1.0.0.tgz")
    chart = HelmRepositories(tmp_path).chart(REPO, "web", "1.0.0", CREDENTIALS)
    assert (chart / "Chart.yaml").is_file()
    assert sent == [(f"{REPO}/index.yaml", True), (f"{REPO}/web-1.0.0.tgz", True)]


def test_credentials_stay_home_when_the_index_points_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sent = _serve(monkeypatch, "https://downloads.other.example/web-1.0.0.tgz")
    HelmRepositories(tmp_path).chart(REPO, "web", "1.0.0", CREDENTIALS)
    assert sent == [(f"{REPO}/index.yaml", True), ("https://downloads.other.example/web-1.0.0.tgz", False)]


@pytest.mark.parametrize(
    ("url", "other", "same"),
    [
        ("https://h.example/a", "https://h.example/b/c", True),
        ("https://h.example/a", "https://h.example:443/b", True),
        ("https://h.example/a", "http://h.example/a", False),
        ("https://h.example/a", "https://h.example:8443/a", False),
        ("https://h.example/a", "https://evil.example/a", False),
    ],
)
def test_same_origin_is_scheme_host_and_port(url: str, other: str, same: bool) -> None:
    assert same_origin(url, other) is same
