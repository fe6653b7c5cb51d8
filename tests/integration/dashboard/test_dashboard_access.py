"""Who may use a running dashboard (issue #17: "listening elsewhere requires --token, checked on every request and
every action; actions are refused with a clear message when the user's kubeconfig lacks the RBAC"): a real uvicorn
server over the sandbox, asked over HTTP."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import _register_commands, app
from cli.options import CliError
from dashboard.access_guard import DashboardSettings
from dashboard.server import DashboardServer
from kube.client import KubeClient
from kube.resources import ROLLOUTS
from sandbox.cluster import SandboxThread, write_kubeconfig
from tests.request_audit import AccessRecord, AuditingProxy
from tests.rollout_harness import REPO_ROOT

_register_commands()
TOKEN: Final = "correct-horse-battery-staple"
ROLLOUT: Final = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "reviews", "namespace": "shop"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "reviews"}},
             "template": {"metadata": {"labels": {"app": "reviews"}},
                          "spec": {"containers": [{"name": "reviews", "image": "reviews:v1"}]}},
             "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}},
}
PAGES: Final = ["/", "/rollouts", "/rollouts/shop/reviews", "/applications", "/applications/argocd/web",
                "/applications/argocd/web/diff", "/stream/rollouts", "/stream/rollouts/shop/reviews",
                "/stream/applications", "/stream/applications/argocd/web", "/static/dashboard.js",
                "/static/dashboard.css", "/no/such/route"]
ACTIONS: Final = [f"/api/rollouts/shop/reviews/{a}" for a in
                  ("promote", "promote-full", "abort", "retry", "restart", "set-image")] + [
    f"/api/applications/argocd/web/{a}" for a in ("sync", "refresh", "rollback")]


@pytest.fixture(scope="module")
def rollout(client: KubeClient) -> dict[str, Any]:
    return client.create(ROLLOUTS, "shop", ROLLOUT)


@pytest.fixture(scope="module")
def exposed(client: KubeClient, rollout: dict[str, Any]) -> Iterator[DashboardServer]:
    """A dashboard listening on every interface (so a token is required), asked through loopback."""
    server = DashboardServer(DashboardSettings(address="0.0.0.0", port=0, token=TOKEN), client).start()
    try:
        yield server
    finally:
        server.stop()


def url(server: DashboardServer, path: str) -> str:
    return f"http://127.0.0.1:{server.settings.port}{path}"


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("credentials", [{}, {"headers": {"Authorization": "Bearer wrong"}},
                                         {"params": {"token": TOKEN[:-1]}}], ids=["none", "wrong-bearer", "cut-query"])
def test_without_the_token_every_route_answers_401(
    exposed: DashboardServer, path: str, credentials: dict[str, Any]
) -> None:
    response = httpx.get(url(exposed, path), timeout=10, **credentials)
    assert response.status_code == 401, response.text
    assert "token" in response.json()["message"]
    assert TOKEN not in response.text


@pytest.mark.parametrize("path", ACTIONS)
@pytest.mark.parametrize("credentials", [{}, {"cookies": {"rollouts_dashboard_token": TOKEN}},
                                         {"params": {"token": TOKEN}}], ids=["none", "cookie-only", "query-only"])
def test_without_the_token_in_a_header_every_action_answers_401(
    exposed: DashboardServer, client: KubeClient, path: str, credentials: dict[str, Any]
) -> None:
    response = httpx.post(url(exposed, path), json={}, timeout=10, **credentials)
    assert response.status_code == 401, response.text
    assert not (client.get(ROLLOUTS, "shop", "reviews").get("status") or {}).get("abort")


def test_the_token_link_opens_the_page_and_sets_the_cookie_later_requests_use(exposed: DashboardServer) -> None:
    with httpx.Client(base_url=url(exposed, "")) as browser:
        first = browser.get("/rollouts", params={"token": TOKEN})
        assert first.status_code == 200 and 'href="/rollouts/shop/reviews"' in first.text
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert browser.get("/rollouts/shop/reviews").status_code == 200  # the cookie alone, for a page


def test_an_action_with_the_token_header_acts(exposed: DashboardServer, client: KubeClient) -> None:
    response = httpx.post(url(exposed, "/api/rollouts/shop/reviews/restart"), json={},
                          headers={"X-Dashboard-Token": TOKEN}, timeout=10)
    assert response.status_code == 200, response.text
    assert client.get(ROLLOUTS, "shop", "reviews")["spec"].get("restartAt")


def test_a_dashboard_beyond_loopback_without_a_token_refuses_to_start() -> None:
    with pytest.raises(CliError) as refused:
        DashboardSettings(address="0.0.0.0", port=0)
    assert "without a token" in str(refused.value)
    result = CliRunner().invoke(app, ["dashboard", "--address", "0.0.0.0"])
    assert result.exit_code == 1
    assert "refusing to listen on 0.0.0.0 without a token" in result.output


@pytest.fixture(scope="module")
def loopback(client: KubeClient, rollout: dict[str, Any]) -> Iterator[DashboardServer]:
    server = DashboardServer(DashboardSettings(port=0), client).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_loopback_dashboard_refuses_another_sites_host_and_an_action_without_its_key(
    loopback: DashboardServer,
) -> None:
    port = loopback.settings.port
    assert httpx.get(url(loopback, "/rollouts"), timeout=10).status_code == 200
    rebound = httpx.get(url(loopback, "/rollouts"), headers={"Host": f"evil.example.com:{port}"}, timeout=10)
    assert rebound.status_code == 403
    assert httpx.post(url(loopback, "/api/rollouts/shop/reviews/abort"), json={}, timeout=10).status_code == 401


@pytest.fixture
def forbidden_proxy(sandbox: tuple[SandboxThread, Path]) -> Iterator[AuditingProxy]:
    """The API as a user who may read everything and write nothing."""
    proxy = AuditingProxy(sandbox[0].url, authorize=lambda record: record.verb in ("get", "list", "watch"),
                          user="viewer")
    sandbox[0].call(proxy.start)
    try:
        yield proxy
    finally:
        sandbox[0].call(proxy.stop)


def test_an_action_the_users_rbac_forbids_is_refused_with_the_apis_message(
    forbidden_proxy: AuditingProxy, rollout: dict[str, Any], client: KubeClient, tmp_path: Path
) -> None:
    viewer = KubeClient.from_kubeconfig(str(write_kubeconfig(tmp_path / "viewer.yaml", forbidden_proxy.url)))
    try:
        with DashboardServer(DashboardSettings(port=0), viewer).running() as server:
            page = httpx.get(url(server, "/rollouts/shop/reviews"), timeout=10)
            assert page.status_code == 200  # reading is allowed
            key = server.settings.action_key
            response = httpx.post(url(server, "/api/rollouts/shop/reviews/abort"), json={},
                                  headers={"X-Dashboard-Token": key}, timeout=10)
    finally:
        viewer.close()
    assert response.status_code == 403
    message = response.json()["message"]
    assert 'User "viewer" cannot patch resource "rollouts/status"' in message
    refused: list[AccessRecord] = [r for r in forbidden_proxy.records if r.code == 403]
    assert [(r.verb, r.resource) for r in refused] == [("patch", "rollouts/status")]
    assert not (client.get(ROLLOUTS, "shop", "reviews").get("status") or {}).get("abort")


def test_the_command_serves_with_a_token_file_and_never_prints_the_token(
    sandbox: tuple[SandboxThread, Path], rollout: dict[str, Any], tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    command = [sys.executable, "-c", "from cli.main import main; main()", "dashboard", "--port", "0",
               "--address", "0.0.0.0", "--token-file", str(token_file), "--kubeconfig", str(sandbox[1])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=REPO_ROOT)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until the server prints its address (or the process ends)
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+/rollouts)", first)
        assert found is not None, first + process.stdout.read()
        assert httpx.get(found.group(1), timeout=10).status_code == 401
        page = httpx.get(found.group(1), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert page.status_code == 200 and 'href="/rollouts/shop/reviews"' in page.text
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert TOKEN not in first + output


def test_an_unreachable_cluster_is_one_line_of_error_not_a_traceback(tmp_path: Path) -> None:
    nowhere = write_kubeconfig(tmp_path / "nowhere.yaml", "http://127.0.0.1:9")  # the discard port: nothing listens
    result = CliRunner().invoke(app, ["dashboard", "--port", "0", "--kubeconfig", str(nowhere)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1
    assert "127.0.0.1:9" in result.output
