"""A multi-source Application in the sandbox, with two real Git repositories (Argo CD: user-guide/multiple_sources.md,
"Helm value files from external Git repository"): a Helm chart in one, its values in the other, referenced as
``$values/envs/prod.yaml`` from the source whose ``ref`` is ``values``.

The Application reaches Synced and Healthy with the values applied, records one revision per source (``sync.
revisions``, ``sourceTypes``, ``comparedTo.sources``, the operation's and history's ``revisions``/``sources``); a
commit to the values repository, announced by a push webhook for that repository, makes it OutOfSync and automated
sync applies the new values; ``rollouts app get`` and ``history`` list the sources.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from cli.main import _register_commands, app  # noqa: E402
from gitops.controller.webhook import PushEvent  # noqa: E402
from kube.client import KubeClient  # noqa: E402
from kube.resources import APPLICATIONS, CONFIGMAPS  # noqa: E402
from sandbox.cluster import SandboxThread  # noqa: E402
from tests.gitops_harness import (  # noqa: E402
    APP_NAMESPACE,
    AppControllerThread,
    ApplicationEvents,
    app_status,
    application,
    git,
    make_repo,
    wait_for,
    wait_synced_healthy,
)

_register_commands()

CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "colour: grey\nreplicas: 1\n",
    "chart/templates/settings.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n"
        "data:\n  colour: {{ .Values.colour | quote }}\n  replicas: {{ .Values.replicas | quote }}\n"
    ),
}


def run(kubeconfig: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["app", *args, "--kubeconfig", str(kubeconfig)])


def colour(client: KubeClient, namespace: str, name: str) -> str | None:
    found = client.get_or_none(CONFIGMAPS, namespace, f"{name}-settings")
    return None if found is None else str(found["data"]["colour"])


def test_helm_chart_with_values_from_another_repository_syncs_and_follows_the_values_repository(
    sandbox: tuple[SandboxThread, Path], client: KubeClient, controller: AppControllerThread, namespace: str,
    tmp_path: Path,
) -> None:
    charts = make_repo(tmp_path / "charts", CHART, name="charts")
    values = make_repo(tmp_path / "values", {"envs/prod.yaml": "colour: blue\n"}, name="values")
    name = f"{namespace}-multi"
    sources: list[dict[str, Any]] = [
        {"repoURL": charts.url, "targetRevision": "main", "path": "chart",
         "helm": {"valueFiles": ["$values/envs/prod.yaml"]}},
        {"repoURL": values.url, "targetRevision": "main", "ref": "values"},
    ]
    manifest = application(name, charts.url, "chart", namespace=namespace)
    del manifest["spec"]["source"]
    manifest["spec"]["sources"] = sources
    client.create(APPLICATIONS, APP_NAMESPACE, manifest)

    status = wait_synced_healthy(client, name)
    chart_sha, values_sha = git("rev-parse", "HEAD", cwd=charts.work), git("rev-parse", "HEAD", cwd=values.work)
    assert colour(client, namespace, name) == "blue"
    assert status["sync"]["revisions"] == [chart_sha, values_sha]
    assert "revision" not in status["sync"]
    assert status["sync"]["comparedTo"]["sources"] == sources
    assert status["sourceTypes"] == ["Helm", ""]
    assert "sourceType" not in status
    state = status["operationState"]
    assert state["operation"]["sync"]["revisions"] == [chart_sha, values_sha]
    assert state["syncResult"]["revisions"] == [chart_sha, values_sha]
    assert state["syncResult"]["sources"] == sources
    assert [(entry["revisions"], entry["sources"]) for entry in status["history"]] == [
        ([chart_sha, values_sha], sources)]

    events = ApplicationEvents(client)
    new_values_sha = values.commit({"envs/prod.yaml": "colour: green\n"}, "green")
    assert controller.controller is not None
    refreshed = controller.controller.push(PushEvent(
        forge="github", repo_urls=(values.url,), ref="refs/heads/main", before=values_sha, after=new_values_sha,
        changed_files=("envs/prod.yaml",)))
    assert refreshed == 1
    wait_for(lambda: colour(client, namespace, name) == "green", "the new values applied")
    status = wait_for(lambda: (s := app_status(client, name)).get("sync", {}).get("revisions") == [
        chart_sha, new_values_sha] and s.get("sync", {}).get("status") == "Synced" and s, "Synced to the new values")
    seen = [(s.get("sync") or {}).get("status") for s in events.statuses(name)]
    assert "OutOfSync" in seen, seen
    assert [entry["revisions"] for entry in status["history"]] == [[chart_sha, values_sha],
                                                                  [chart_sha, new_values_sha]]

    shown = run(sandbox[1], "get", name)
    assert shown.exit_code == 0, shown.output
    assert "Sources:" in shown.output
    assert f"- Repo:     {charts.url}" in shown.output
    assert "Path:     chart" in shown.output
    assert f"- Repo:     {values.url}" in shown.output and "Ref:      values" in shown.output
    history = run(sandbox[1], "history", name)
    assert history.exit_code == 0, history.output
    assert f"SOURCE 2  {values.url}" in history.output
    assert f"{chart_sha}, {new_values_sha}" in history.output


    # Rollback (automated sync off, as argocd requires): history entry 0's revisions and sources, so the values
    # file is read at its old commit again.
    client.patch(APPLICATIONS, APP_NAMESPACE, name, {"spec": {"syncPolicy": None}})
    rolled = run(sandbox[1], "rollback", name, "0", "--timeout", "60")
    assert rolled.exit_code == 0, rolled.output
    assert colour(client, namespace, name) == "blue"
    result = app_status(client, name)["operationState"]["syncResult"]
    assert (result["revisions"], result["sources"]) == ([chart_sha, values_sha], sources)

