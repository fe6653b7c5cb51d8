"""Sources rendered from real Git commits and a Helm repository on loopback: Directory options, Kustomize with the
Application's kustomize fields, Helm charts in Git and from Helm repositories, and the errors each gives."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from gitops.repo_server import RenderError, RepoServer, SourceError
from gitops.resources import JsonObject
from tests.git_servers import WorkRepository, configmap, static_server


def render(server: RepoServer, source: dict[str, Any], app_name: str = "myapp") -> tuple[str, list[JsonObject]]:
    rendered = server.generate_manifests(source, app_name=app_name, namespace="target-ns")
    return rendered.source_type, rendered.manifests


def kinds_and_names(manifests: list[JsonObject]) -> list[tuple[str, str]]:
    return sorted((obj["kind"], obj["metadata"]["name"]) for obj in manifests)


# --- Directory ------------------------------------------------------------------------------------------------

TREE = {
    "d/a.yaml": configmap("a"),
    "d/b.yml": configmap("b"),
    "d/c.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}',
    "d/values.yaml": "replicaCount: 2\n",
    "d/README.md": "# not a manifest\n",
    "d/sub/d.yaml": configmap("d"),
    "d/sub/secret-e.yaml": configmap("e"),
}


@pytest.fixture
def tree(work: WorkRepository) -> WorkRepository:
    work.commit(TREE)
    return work


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        (None, ["a", "b", "c"]),  # the top level only; values.yaml and README.md are no manifests
        ({"recurse": True}, ["a", "b", "c", "d", "e"]),
        ({"recurse": True, "include": "{*.yml,*.json}"}, ["b", "c"]),
        ({"recurse": True, "exclude": "*secret*"}, ["a", "b", "c", "d"]),
        ({"recurse": True, "include": "*.yaml", "exclude": "sub/*"}, ["a"]),
    ],
)
def test_directory_options_choose_the_files(
    tree: WorkRepository, server: RepoServer, directory: dict[str, Any] | None, expected: list[str]
) -> None:
    source: dict[str, Any] = {"repoURL": tree.url, "path": "d", "targetRevision": "main"}
    if directory is not None:
        source["directory"] = directory
    kind, manifests = render(server, source)
    assert kind == "Directory"
    assert sorted(obj["metadata"]["name"] for obj in manifests) == expected


def test_a_yaml_error_names_the_file_and_line(work: WorkRepository, server: RepoServer) -> None:
    work.commit({"app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: b\n"})
    with pytest.raises(RenderError, match=r"^app/broken\.yaml: line \d+, column \d+: invalid YAML"):
        render(server, {"repoURL": work.url, "path": "app", "targetRevision": "main"})


def test_an_empty_directory_renders_to_nothing(work: WorkRepository, server: RepoServer) -> None:
    """An empty render is returned, not raised: the controller refuses to prune on it."""
    work.commit({"empty/README.md": "nothing here\n"})
    assert render(server, {"repoURL": work.url, "path": "empty", "targetRevision": "main"}) == ("Directory", [])


def test_a_missing_path_names_the_field(work: WorkRepository, server: RepoServer) -> None:
    with pytest.raises(RenderError, match=r"spec\.source\.path: app path does not exist: 'nope'"):
        render(server, {"repoURL": work.url, "path": "nope", "targetRevision": "main"})


def test_a_path_leaving_the_repository_is_refused(work: WorkRepository, server: RepoServer) -> None:
    with pytest.raises(RenderError, match=r"spec\.source\.path: '\.\./\.\.' leaves the repository"):
        render(server, {"repoURL": work.url, "path": "../..", "targetRevision": "main"})


def test_plugins_are_refused_by_name(work: WorkRepository, server: RepoServer) -> None:
    with pytest.raises(RenderError, match=r"spec\.source\.plugin: config management plugins are not supported"):
        render(server, {"repoURL": work.url, "path": "app", "targetRevision": "main", "plugin": {"name": "x"}})


# --- Kustomize ------------------------------------------------------------------------------------------------

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.24}]
"""


@pytest.fixture
def kustomized(work: WorkRepository) -> WorkRepository:
    work.commit(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": DEPLOYMENT,
            "overlay/kustomization.yaml": "resources: [../base]\nnamePrefix: dev-\n",
        }
    )
    return work


def test_kustomize_builds_an_overlay(kustomized: WorkRepository, server: RepoServer) -> None:
    kind, manifests = render(server, {"repoURL": kustomized.url, "path": "overlay", "targetRevision": "main"})
    assert kind == "Kustomize"
    assert kinds_and_names(manifests) == [("Deployment", "dev-web")]


def test_application_kustomize_fields_are_applied(kustomized: WorkRepository, server: RepoServer) -> None:
    source = {
        "repoURL": kustomized.url,
        "path": "overlay",
        "targetRevision": "main",
        "kustomize": {
            "namePrefix": "prod-",
            "nameSuffix": "-v2",
            "images": ["nginx=mirror.example/nginx:1.25"],
            "commonLabels": {"team": "web"},
            "commonAnnotations": {"owner": "ops"},
            "namespace": "prod",
            "replicas": [{"name": "web", "count": 3}],
        },
    }
    _, [deployment] = render(server, source)
    assert deployment["metadata"]["name"] == "prod-web-v2"
    assert deployment["metadata"]["namespace"] == "prod"
    assert deployment["metadata"]["labels"] == {"team": "web"}
    assert deployment["metadata"]["annotations"] == {"owner": "ops"}
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.example/nginx:1.25"


def test_kustomize_errors_name_the_path(work: WorkRepository, server: RepoServer) -> None:
    work.commit({"k/kustomization.yaml": "resources: [missing.yaml]\n"})
    with pytest.raises(RenderError, match=r"^k: kustomize build failed: .*missing\.yaml"):
        render(server, {"repoURL": work.url, "path": "k", "targetRevision": "main"})


# --- Helm in Git ----------------------------------------------------------------------------------------------

CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "replicas: 1\nimage: {tag: v1}\nextra: false\n",
    "chart/values-prod.yaml": "replicas: 3\n",
    "chart/templates/deploy.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-web\n"
        "  namespace: {{ .Release.Namespace }}\ndata:\n  replicas: {{ .Values.replicas | quote }}\n"
        "  tag: {{ .Values.image.tag | quote }}\n"
    ),
    "chart/templates/extra.yaml": (
        "{{ if .Values.extra }}apiVersion: v1\nkind: Secret\nmetadata: {name: extra}\n{{ end }}"
    ),
    "chart/templates/hook.yaml": (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n"
        "    helm.sh/hook: pre-install\nspec: {template: {spec: {containers: [], restartPolicy: Never}}}\n"
    ),
    "chart/templates/NOTES.txt": "Thanks for installing {{ .Release.Name }}\n",
    "chart/templates/_helpers.tpl": '{{ define "x" }}x{{ end }}',
    "chart/crds/crd.yaml": (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: foos.example.com\n"
    ),
}


@pytest.fixture
def charted(work: WorkRepository) -> WorkRepository:
    work.commit(CHART)
    return work


def by_kind(manifests: list[JsonObject], kind: str) -> JsonObject:
    [found] = [obj for obj in manifests if obj["kind"] == kind]
    return found


def test_helm_chart_renders_with_release_name_namespace_crds_and_hooks(
    charted: WorkRepository, server: RepoServer
) -> None:
    kind, manifests = render(server, {"repoURL": charted.url, "path": "chart", "targetRevision": "main"})
    assert kind == "Helm"
    assert kinds_and_names(manifests) == [
        ("ConfigMap", "myapp-web"),  # releaseName defaults to the Application's name
        ("CustomResourceDefinition", "foos.example.com"),
        ("Job", "migrate"),
    ]
    assert by_kind(manifests, "ConfigMap")["metadata"]["namespace"] == "target-ns"
    assert by_kind(manifests, "Job")["metadata"]["annotations"] == {"helm.sh/hook": "pre-install"}


def test_helm_options_compose_values(charted: WorkRepository, server: RepoServer) -> None:
    source = {
        "repoURL": charted.url,
        "path": "chart",
        "targetRevision": "main",
        "helm": {
            "releaseName": "rel",
            "valueFiles": ["values-prod.yaml", "missing.yaml"],
            "ignoreMissingValueFiles": True,
            "values": "image: {tag: from-values}\n",
            "parameters": [{"name": "extra", "value": "true"}],
            "skipCrds": True,
        },
    }
    _, manifests = render(server, source)
    assert kinds_and_names(manifests) == [("ConfigMap", "rel-web"), ("Job", "migrate"), ("Secret", "extra")]
    assert by_kind(manifests, "ConfigMap")["data"] == {"replicas": "3", "tag": "from-values"}


def test_value_files_may_not_leave_the_repository(charted: WorkRepository, server: RepoServer) -> None:
    source = {"repoURL": charted.url, "path": "chart", "helm": {"valueFiles": ["../../../../etc/passwd"]}}
    with pytest.raises(RenderError, match=r"spec\.source\.helm\.valueFiles\[0\]: .* is outside the repository"):
        render(server, source)


def test_a_helm_template_error_names_the_template(work: WorkRepository, server: RepoServer) -> None:
    work.commit(
        {
            "bad/Chart.yaml": "apiVersion: v2\nname: bad\nversion: 0.1.0\n",
            "bad/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.x.y }\n",
        }
    )
    with pytest.raises(RenderError, match=r"^bad: helm template failed: .*bad/templates/cm\.yaml:4"):
        render(server, {"repoURL": work.url, "path": "bad", "targetRevision": "main"})


def test_a_file_dependency_is_vendored(work: WorkRepository, server: RepoServer) -> None:
    """As `helm dependency build` would: a `file://` dependency missing from charts/ is taken from the repository."""
    work.commit(
        {
            **CHART,
            "umbrella/Chart.yaml": (
                "apiVersion: v2\nname: umbrella\nversion: 1.0.0\n"
                "dependencies:\n- name: web\n  version: 0.1.0\n  repository: file://../chart\n"
            ),
            "umbrella/values.yaml": "web:\n  replicas: 7\n",
        }
    )
    _, manifests = render(server, {"repoURL": work.url, "path": "umbrella", "targetRevision": "main"})
    assert by_kind(manifests, "ConfigMap")["data"]["replicas"] == "7"


# --- Helm repositories ----------------------------------------------------------------------------------------


def package_chart(tmp_path: Path, served: Path, version: str) -> None:
    source = tmp_path / f"src-{version}" / "web"
    for name, text in CHART.items():
        target = source / name.removeprefix("chart/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    (source / "Chart.yaml").write_text(f"apiVersion: v2\nname: web\nversion: {version}\n")
    (source / "values.yaml").write_text(f"replicas: 1\nimage: {{tag: '{version}'}}\nextra: false\n")
    helm_python.package(source, destination=served)


@pytest.fixture
def helm_repository(tmp_path: Path) -> Path:
    served = tmp_path / "helm-repo"
    served.mkdir()
    for version in ("1.0.0", "1.2.0", "1.2.7", "2.0.0"):
        package_chart(tmp_path, served, version)
    helm_python.repo_index_generate(served)
    return served


@pytest.mark.parametrize(("constraint", "version"), [("1.2.0", "1.2.0"), ("^1", "1.2.7"), ("*", "2.0.0")])
def test_chart_version_is_chosen_from_the_index(
    helm_repository: Path, server: RepoServer, constraint: str, version: str
) -> None:
    with static_server(helm_repository) as url:
        assert server.resolve_revision(url, constraint, chart="web") == version


def test_chart_from_a_helm_repository_renders(helm_repository: Path, server: RepoServer) -> None:
    with static_server(helm_repository) as url:
        rendered = server.generate_manifests(
            {"repoURL": url, "chart": "web", "targetRevision": ">=1.2 <2", "helm": {"releaseName": "r"}},
            app_name="myapp",
            namespace="target-ns",
        )
    assert (rendered.revision, rendered.source_type) == ("1.2.7", "Helm")
    assert by_kind(rendered.manifests, "ConfigMap")["data"]["tag"] == "1.2.7"


def test_a_chart_archive_not_matching_the_index_digest_is_refused(helm_repository: Path, server: RepoServer) -> None:
    archive = helm_repository / "web-1.0.0.tgz"
    index = yaml.safe_load((helm_repository / "index.yaml").read_text())
    assert index["entries"]["web"][-1]["digest"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    archive.write_bytes(archive.read_bytes() + b"tampered")
    with static_server(helm_repository) as url, pytest.raises(SourceError, match="does not match the index's digest"):
        render(server, {"repoURL": url, "chart": "web", "targetRevision": "1.0.0"})


def test_unknown_chart_names_the_repository(helm_repository: Path, server: RepoServer) -> None:
    with static_server(helm_repository) as url, pytest.raises(SourceError, match=rf"^{url}: chart 'nope' not found"):
        server.resolve_revision(url, "*", chart="nope")


def test_no_matching_version_lists_the_versions(helm_repository: Path, server: RepoServer) -> None:
    with static_server(helm_repository) as url, pytest.raises(SourceError, match=r"no version matching '\^3'"):
        server.resolve_revision(url, "^3", chart="web")


def test_a_dependency_from_a_helm_repository_is_fetched(
    helm_repository: Path, work: WorkRepository, server: RepoServer
) -> None:
    with static_server(helm_repository) as url:
        work.commit(
            {
                "umbrella/Chart.yaml": (
                    "apiVersion: v2\nname: umbrella\nversion: 1.0.0\n"
                    f"dependencies:\n- name: web\n  version: ~1.2.0\n  repository: {url}\n"
                ),
            }
        )
        _, manifests = render(server, {"repoURL": work.url, "path": "umbrella", "targetRevision": "main"})
    assert by_kind(manifests, "ConfigMap")["data"]["tag"] == "1.2.7"


def repo_creds(url: str, username: str, password: str) -> dict[str, Any]:
    values = {"url": url, "username": username, "password": password}
    return {
        "metadata": {"labels": {"argocd.argoproj.io/secret-type": "repo-creds"}},
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in values.items()},
    }


def test_helm_repository_credentials_come_from_a_credential_template(helm_repository: Path, tmp_path: Path) -> None:
    with static_server(helm_repository, "bob", "chart-pw") as url:
        server = RepoServer(tmp_path / "auth-cache", credentials=lambda: [repo_creds(url, "bob", "chart-pw")])
        assert server.resolve_revision(url, "^1", chart="web") == "1.2.7"
        refused = RepoServer(tmp_path / "refused-cache", credentials=lambda: [repo_creds(url, "bob", "wrong-pw")])
        with pytest.raises(SourceError, match=rf"^{url}: fetching index.yaml failed: HTTP 401") as caught:
            refused.resolve_revision(url, "^1", chart="web")
    assert "wrong-pw" not in str(caught.value)


def test_multi_source_value_files_come_from_the_ref_source(
    charted: WorkRepository, tmp_path: Path, server: RepoServer
) -> None:
    """Argo CD multi-source: `$values/envs/prod.yaml` reads the file from the source whose `ref` is `values`."""
    values_repo = WorkRepository(tmp_path / "served" / "values")
    values_repo.commit({"envs/prod.yaml": "replicas: 9\n"})
    rendered = server.generate_manifests(
        {"repoURL": charted.url, "path": "chart", "helm": {"valueFiles": ["$values/envs/prod.yaml"]}},
        app_name="myapp",
        namespace="n",
        ref_sources={"values": {"repoURL": values_repo.url, "targetRevision": "main", "ref": "values"}},
    )
    assert by_kind(rendered.manifests, "ConfigMap")["data"]["replicas"] == "9"
    values_repo.commit({"envs/prod.yaml": "replicas: 10\n"})
    again = server.generate_manifests(
        {"repoURL": charted.url, "path": "chart", "helm": {"valueFiles": ["$values/envs/prod.yaml"]}},
        app_name="myapp",
        namespace="n",
        ref_sources={"values": {"repoURL": values_repo.url, "targetRevision": "main", "ref": "values"}},
    )
    assert by_kind(again.manifests, "ConfigMap")["data"]["replicas"] == "10"  # a new ref commit is a new render


def test_an_unknown_ref_names_the_value_file(charted: WorkRepository, server: RepoServer) -> None:
    source = {"repoURL": charted.url, "path": "chart", "helm": {"valueFiles": ["$nope/prod.yaml"]}}
    with pytest.raises(RenderError, match=r"valueFiles\[0\]: \$nope/prod\.yaml: no source with ref 'nope'"):
        render(server, source)
