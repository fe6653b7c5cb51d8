"""The seeds' GitOps layout end to end: every Application, ApplicationSet and AppProject of the shared corpus's
``seeds/`` as written, their GitHub repositories mapped to local ones by git's own ``url.<base>.insteadOf``.

The controller process's two GitOps controllers (Application and ApplicationSet, as `rollouts controller` assembles
them) run ``git`` with the user's git configuration (the contract of ``gitops/repo_server.py``), so a temporary
``GIT_CONFIG_GLOBAL`` holding one ``insteadOf`` per repository makes ``https://github.com/injunweb/app-of-apps.git``
and the others read local repositories — the manifests are applied unchanged. The local repositories hold what the
seeds imply:

- ``injunweb/app-of-apps`` (the root ``app-of-apps``, ``path: .``): two child Applications, the seeds'
  ``application-monitoring.yaml`` and ``sync-policy-full.yaml`` (App of Apps: Argo CD docs, operator-manual/
  cluster-bootstrapping.md);
- ``injunweb/k8s-resource`` (``infra-apps-root``: ``directory.include: applicationset.yaml``): the seeds'
  ``applicationset-git-directories.yaml`` as ``applicationset.yaml`` beside a manifest the include leaves out, and
  ``apps/redis``, ``apps/echo`` for its git directory generator;
- ``org/infra-manifests``: ``monitoring/`` and ``app-a/``; ``dwoitzik/homelab-infrastructure``:
  ``kubernetes/system/cert-manager-config/``; ``org/cluster-addons``: two top-level directories (and a dot-directory
  the generator skips, Argo CD docs: applicationset/Generators-Git.md).

The Helm chart Application (``application-helm-chart.yaml``) names ``https://charts.jetstack.io``: a Helm
repository is fetched over HTTP, which git's ``insteadOf`` does not reach, so its ``repoURL`` alone is replaced by a
Helm repository served on loopback holding a small ``cert-manager`` chart, version ``v1.14.4``, built here.

The namespaces of the Applications without ``CreateNamespace=true`` (monitoring, cert-manager, the cluster add-ons)
are created first, as a cluster administrator would; Argo CD does not create them either.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from cli.app_operations import sync_operation  # noqa: E402
from gitops.controller.application_sets import AppSetControllerOptions  # noqa: E402
from gitops.controller.controller import AppControllerOptions  # noqa: E402
from kube.client import KubeClient  # noqa: E402
from kube.resources import (  # noqa: E402
    APP_PROJECTS,
    APPLICATION_SETS,
    APPLICATIONS,
    CONFIGMAPS,
    DEPLOYMENTS,
    NAMESPACES,
)
from rollouts.controller.controller import ControllerOptions  # noqa: E402
from sandbox.cluster import SandboxThread  # noqa: E402
from tests.conformance.corpus import corpus_dir, corpus_missing_reason  # noqa: E402
from tests.git_servers import WorkRepository, static_server  # noqa: E402
from tests.gitops_harness import (  # noqa: E402
    APP_NAMESPACE,
    CRDS_DIR,
    ErrorLog,
    app_status,
    wait_for,
    wait_synced_healthy,
)
from tests.rollout_harness import ControllerThread, load_decide  # noqa: E402

SEEDS: Final = corpus_dir() / "seeds"
MISSING = corpus_missing_reason()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

JsonObject = dict[str, Any]
SYNC_SECONDS: Final = 120.0
GITOPS_KINDS: Final = ("Application", "ApplicationSet", "AppProject")
# Applied by hand, the way the seeds are meant to be; the rest reach the cluster through these.
APPLIED: Final = ("app-of-apps.yaml", "infra-apps-root.yaml", "application-git-path.yaml",
                  "application-helm-chart.yaml", "applicationset-cluster-addons.yaml", "appproject-team-a.yaml")
# What the applied manifests produce: (Application, how it came, its destination namespace).
# What the applied manifests produce: (Application, how it came, its destination namespace, automated sync).
EXPECTED_APPS: Final = (
    ("app-of-apps", "applied", "argocd", True),
    ("monitoring", "child of app-of-apps", "monitoring", True),
    ("app-a", "child of app-of-apps", "app-a", True),
    ("infra-apps-root", "applied", "argocd", True),
    ("redis", "ApplicationSet infra-apps (from infra-apps-root)", "redis", True),
    ("echo", "ApplicationSet infra-apps (from infra-apps-root)", "echo", True),
    ("cert-manager-config", "applied", "cert-manager", True),
    ("cert-manager", "applied (Helm repository)", "cert-manager", True),
    # cluster-addons' template has no syncPolicy: its Applications wait OutOfSync for a manual sync.
    ("metrics-server", "ApplicationSet cluster-addons", "metrics-server", False),
    ("external-dns", "ApplicationSet cluster-addons", "external-dns", False),
)
PRECREATED_NAMESPACES: Final = ("monitoring", "cert-manager", "metrics-server", "external-dns")


def seed(name: str) -> JsonObject:
    document: JsonObject = yaml.safe_load((SEEDS / name).read_text(encoding="utf-8"))
    return document


def seed_text(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


def deployment(name: str, image: str = "nginx:1.27") -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers: [{{name: {name}, image: "{image}"}}]
"""


def configmap(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  from: seeds\n"


def repository_contents() -> dict[str, dict[str, str]]:
    """The files of each seed repository, keyed by the URL the seeds name."""
    return {
        "https://github.com/injunweb/app-of-apps.git": {
            "monitoring.yaml": seed_text("application-monitoring.yaml"),
            "app-a.yaml": seed_text("sync-policy-full.yaml"),
        },
        "https://github.com/injunweb/k8s-resource.git": {
            "applicationset.yaml": seed_text("applicationset-git-directories.yaml"),
            # Left out by infra-apps-root's directory.include: were it applied, the ConfigMap would appear in argocd.
            "not-included.yaml": configmap("must-not-be-applied"),
            "apps/redis/deployment.yaml": deployment("redis", "redis:7"),
            "apps/echo/deployment.yaml": deployment("echo"),
            "apps/echo/configmap.yaml": configmap("echo-settings"),
        },
        "https://github.com/org/infra-manifests.git": {
            "monitoring/deployment.yaml": deployment("prometheus", "prom/prometheus:v2.53.0"),
            "app-a/deployment.yaml": deployment("app-a"),
            "app-a/configmap.yaml": configmap("app-a-settings"),
        },
        "https://github.com/dwoitzik/homelab-infrastructure.git": {
            "kubernetes/system/cert-manager-config/issuer-settings.yaml": configmap("cluster-issuer-settings"),
        },
        "https://github.com/org/cluster-addons.git": {
            "metrics-server/deployment.yaml": deployment("metrics-server"),
            "external-dns/deployment.yaml": deployment("external-dns"),
            ".github/workflow.yaml": "name: lint\n",  # a dot-directory: no Application
        },
    }


CHART_FILES: Final = {
    "Chart.yaml": "apiVersion: v2\nname: cert-manager\nversion: v1.14.4\nappVersion: v1.14.4\n",
    "values.yaml": "installCRDs: false\nextraArgs: []\n",
    "templates/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    crds-installed: {{ .Values.installCRDs | quote }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: cert-manager}
  template:
    metadata:
      labels: {app: cert-manager}
    spec:
      containers:
        - name: controller
          image: quay.io/jetstack/cert-manager-controller:{{ .Chart.AppVersion }}
          args:
            {{- range .Values.extraArgs }}
            - {{ . | quote }}
            {{- end }}
""",
}


def build_helm_repository(root: Path) -> Path:
    """A Helm repository directory (index.yaml and the packaged chart) with the small cert-manager chart."""
    import helm_python

    source = root / "chart-src" / "cert-manager"
    for name, text in CHART_FILES.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    served = root / "helm-repo"
    served.mkdir(parents=True)
    helm_python.package(source, destination=served)
    helm_python.repo_index_generate(served)
    return served


@dataclass
class SeedsCluster:
    client: KubeClient
    controller: ControllerThread
    errors: ErrorLog


@pytest.fixture(scope="module")
def seeds_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedsCluster]:
    root = tmp_path_factory.mktemp("seeds")
    gitconfig = root / "gitconfig"
    lines: list[str] = []
    for index, (url, files) in enumerate(repository_contents().items()):
        repo = WorkRepository(root / f"repo-{index}")
        repo.commit(files, f"the contents {url} holds for the seeds")
        lines.append(f'[url "{repo.url}"]\n\tinsteadOf = {url}\n')
    gitconfig.write_text("".join(lines))
    helm_repository = build_helm_repository(root)
    with pytest.MonkeyPatch.context() as patch, static_server(helm_repository) as helm_url:
        # Inherited by every git the controllers run (the ApplicationSet's generator, the Applications' fetches).
        patch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        with SandboxThread(crd_dirs=[CRDS_DIR], namespaces=("default", APP_NAMESPACE), ready_delay=0.05) as sandbox:
            kubeconfig = sandbox.write_kubeconfig(root / "kubeconfig")
            client = KubeClient.from_kubeconfig(str(kubeconfig))
            for namespace in PRECREATED_NAMESPACES:
                client.create(NAMESPACES, None, {"metadata": {"name": namespace}})
            errors = ErrorLog()
            import logging

            logging.getLogger("gitops").addHandler(errors)
            controller = ControllerThread(
                kubeconfig, ControllerOptions(workers=1, metrics_port=0, analysis_workers=0), load_decide(),
                AppControllerOptions(namespace=APP_NAMESPACE, workers=8, poll_seconds=30.0, webhook_port=0,
                                     cache_dir=root / "repo-cache"),
                AppSetControllerOptions(namespace=APP_NAMESPACE),
            )
            controller.start()
            try:
                for name in APPLIED:
                    document = seed(name)
                    if name == "application-helm-chart.yaml":
                        document["spec"]["source"]["repoURL"] = helm_url  # git's insteadOf cannot reach Helm's HTTP
                    kind = {"Application": APPLICATIONS, "ApplicationSet": APPLICATION_SETS,
                            "AppProject": APP_PROJECTS}[document["kind"]]
                    client.create(kind, APP_NAMESPACE, document)
                yield SeedsCluster(client, controller, errors)
            finally:
                controller.stop()
                logging.getLogger("gitops").removeHandler(errors)
                client.close()


def test_every_gitops_seed_is_applied_or_delivered_from_a_repository() -> None:
    """A guard that the layout above covers the corpus: a seed added later must be placed in it."""
    seeds = {path.name for path in SEEDS.glob("*.yaml")
             if any(isinstance(d, dict) and d.get("kind") in GITOPS_KINDS
                    for d in yaml.safe_load_all(path.read_text(encoding="utf-8")))}
    delivered = {"application-monitoring.yaml", "sync-policy-full.yaml", "applicationset-git-directories.yaml"}
    assert seeds == set(APPLIED) | delivered


@pytest.mark.parametrize(("name", "origin", "namespace", "automated"), EXPECTED_APPS,
                         ids=[a[0] for a in EXPECTED_APPS])
def test_each_application_the_seeds_describe_reaches_synced_and_healthy(
    seeds_cluster: SeedsCluster, name: str, origin: str, namespace: str, automated: bool
) -> None:
    client = seeds_cluster.client
    if not automated:
        # Argo CD syncs an Application without syncPolicy.automated only when asked (`argocd app sync` writes the
        # operation): until then it is compared, OutOfSync, and left alone.
        wait_for(lambda: (app_status(client, name).get("sync") or {}).get("status") == "OutOfSync",
                 f"{name} compared and OutOfSync", SYNC_SECONDS)
        assert not app_status(client, name).get("operationState"), "synced without automation or a request"
        client.patch(APPLICATIONS, APP_NAMESPACE, name, {"operation": sync_operation(username="seeds-test")})
    status = wait_synced_healthy(seeds_cluster.client, name, timeout=SYNC_SECONDS)
    app = seeds_cluster.client.get(APPLICATIONS, APP_NAMESPACE, name)
    assert app["spec"]["destination"]["namespace"] == namespace, origin
    assert status["resources"], f"{name} ({origin}) deployed nothing"


@pytest.mark.parametrize(("name", "appset"), [("redis", "infra-apps"), ("echo", "infra-apps"),
                                             ("metrics-server", "cluster-addons"), ("external-dns", "cluster-addons")])
def test_the_generated_applications_are_owned_by_their_application_sets(
    seeds_cluster: SeedsCluster, name: str, appset: str
) -> None:
    app = wait_for(lambda: seeds_cluster.client.get_or_none(APPLICATIONS, APP_NAMESPACE, name),
                   f"Application {name}", SYNC_SECONDS)
    owners = [(ref["kind"], ref["name"]) for ref in app["metadata"].get("ownerReferences") or []]
    assert owners == [("ApplicationSet", appset)]


def test_the_dot_directory_of_cluster_addons_makes_no_application(seeds_cluster: SeedsCluster) -> None:
    wait_for(lambda: seeds_cluster.client.get_or_none(APPLICATIONS, APP_NAMESPACE, "external-dns"),
             "the cluster-addons Applications", SYNC_SECONDS)
    names = {app["metadata"]["name"] for app in seeds_cluster.client.list(APPLICATIONS, APP_NAMESPACE)}
    assert ".github" not in names and "github" not in names


def test_infra_apps_root_applies_only_the_included_file(seeds_cluster: SeedsCluster) -> None:
    status = wait_synced_healthy(seeds_cluster.client, "infra-apps-root", timeout=SYNC_SECONDS)
    assert [(r["kind"], r["name"]) for r in status["resources"]] == [("ApplicationSet", "infra-apps")]
    assert seeds_cluster.client.get_or_none(CONFIGMAPS, APP_NAMESPACE, "must-not-be-applied") is None


def test_the_helm_chart_is_rendered_with_the_seed_s_inline_values(seeds_cluster: SeedsCluster) -> None:
    wait_synced_healthy(seeds_cluster.client, "cert-manager", timeout=SYNC_SECONDS)
    live = seeds_cluster.client.get(DEPLOYMENTS, "cert-manager", "cert-manager")
    assert live["metadata"]["labels"]["crds-installed"] == "true"
    assert live["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "--dns01-recursive-nameservers=1.1.1.1:53,8.8.8.8:53", "--dns01-recursive-nameservers-only"]


def test_the_app_project_is_stored_as_written(seeds_cluster: SeedsCluster) -> None:
    project = seeds_cluster.client.get(APP_PROJECTS, APP_NAMESPACE, "team-a")
    assert project["spec"] == seed("appproject-team-a.yaml")["spec"]


def test_the_controllers_logged_no_error(seeds_cluster: SeedsCluster) -> None:
    for name, _, _, automated in EXPECTED_APPS:
        if automated:
            wait_synced_healthy(seeds_cluster.client, name, timeout=SYNC_SECONDS)
    assert not seeds_cluster.errors.records, "\n".join(seeds_cluster.errors.messages())
