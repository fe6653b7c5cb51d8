"""Bad input ends in a condition naming the file or field, never in a crash, while every other Application keeps
syncing (Argo CD reports render and repository failures as a ComparisonError condition and leaves the live objects
alone; docs: operator-manual/troubleshooting.md)."""

from __future__ import annotations

import base64
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from kube.client import KubeClient  # noqa: E402
from kube.resources import APPLICATIONS, SECRETS  # noqa: E402
from tests.gitops_harness import (  # noqa: E402
    APP_NAMESPACE,
    AppControllerThread,
    app_status,
    application,
    make_repo,
    wait_for,
    wait_synced_healthy,
)

APPS = Path(__file__).parent / "apps"
PASSWORD = "s3cr3t-pa55"

CHART = "apiVersion: v2\nname: broken\nversion: 0.1.0\n"
BROKEN_TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: broken
data:
  port: {{ required "values.port is required" .Values.port | quote }}
"""
BAD_YAML = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: [unclosed\n"


@pytest.fixture
def refusing_server() -> Iterator[str]:
    """An HTTP Git server that refuses every credential (401), as a forge does for a wrong password."""

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/org/private.git"
    finally:
        server.shutdown()
        server.server_close()


def comparison_error(client: KubeClient, name: str) -> str | None:
    for item in app_status(client, name).get("conditions") or []:
        if item.get("type") in ("ComparisonError", "InvalidSpecError"):
            return str(item.get("message"))
    return None


def test_bad_applications_report_conditions_naming_the_problem_while_a_good_one_syncs(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path, refusing_server: str
) -> None:
    repo = make_repo(tmp_path, {
        "bad-yaml/config.yaml": BAD_YAML,
        "broken-chart/Chart.yaml": CHART,
        "broken-chart/templates/config.yaml": BROKEN_TEMPLATE,
    })
    repo.copy_tree(APPS / "guestbook", "guestbook")
    repo.commit({}, "guestbook")
    client.create(SECRETS, APP_NAMESPACE, {
        "metadata": {"name": f"{namespace}-repo", "labels": {"argocd.argoproj.io/secret-type": "repository"}},
        "data": {"url": base64.b64encode(refusing_server.encode()).decode(),
                 "username": base64.b64encode(b"deployer").decode(),
                 "password": base64.b64encode(PASSWORD.encode()).decode()},
    })
    bad = {
        "unknown-type": application(f"{namespace}-plugin", repo.url, "guestbook", namespace=namespace, source={
            "repoURL": repo.url, "targetRevision": "main", "path": "guestbook", "plugin": {"name": "tanka"}}),
        "missing-path": application(f"{namespace}-nopath", repo.url, "no/such/dir", namespace=namespace),
        "credentials": application(f"{namespace}-creds", refusing_server, "app", namespace=namespace),
        "yaml": application(f"{namespace}-yaml", repo.url, "bad-yaml", namespace=namespace),
        "helm": application(f"{namespace}-helm", repo.url, "broken-chart", namespace=namespace),
    }
    for manifest in bad.values():
        client.create(APPLICATIONS, APP_NAMESPACE, manifest)
    good = f"{namespace}-good"
    client.create(APPLICATIONS, APP_NAMESPACE, application(good, repo.url, "guestbook", namespace=namespace))
    try:
        wait_synced_healthy(client, good)
        messages = {case: wait_for(lambda n=manifest["metadata"]["name"]: comparison_error(client, n),
                                   f"a condition on {case}")
                    for case, manifest in bad.items()}
    finally:
        client.delete(SECRETS, APP_NAMESPACE, f"{namespace}-repo")
    assert "plugin" in messages["unknown-type"]
    assert "no/such/dir" in messages["missing-path"]
    assert refusing_server.split("//")[1].split("/")[0] in messages["credentials"]
    assert PASSWORD not in messages["credentials"]
    assert "config.yaml" in messages["yaml"] and "line" in messages["yaml"]
    assert "values.port is required" in messages["helm"]
    for manifest in bad.values():
        status = app_status(client, manifest["metadata"]["name"])
        assert status["sync"]["status"] == "Unknown"
        assert not status.get("operationState")
