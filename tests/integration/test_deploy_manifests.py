"""The install manifests of deploy/: the kustomize base, its namespaced variant and the Helm chart render, carry
what an install needs (2 replicas, probes on the metrics port, resources, a non-root pod, the ServiceAccount the RBAC
binds, the image), agree with each other and with crds/, and apply to the sandbox with the kubernetes client.

Rendering with kustomize needs kubectl (`kubectl kustomize`); those tests fail without it, naming the install
command. The Helm chart renders in-process with helm-python-sdk.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import kubernetes
import pytest
import typer
import yaml
from kubernetes import utils

# tests/integration is not a package; the shared helpers live in the `tests` package at the repository root.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sandbox.cluster import SandboxThread  # noqa: E402
from tests.deploy_manifests import (  # noqa: E402
    CHART_DIR,
    CONTROLLER,
    CRD_DIR,
    DEPLOY_DIR,
    INSTALL_NAMESPACE,
    KUBECTL,
    NAMESPACED_DIR,
    REPO_ROOT,
    Grant,
    JsonObject,
    Permission,
    find,
    grants_of,
    only,
    parse_documents,
    render_helm,
    render_kustomize,
)
from tests.required_tools import require_tool  # noqa: E402

needs_kubectl = [
    pytest.mark.kubectl,
]

VERSION: Final = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
METRICS_PORT: Final = 8090
# The CRDs of the kinds the controllers serve; crds/ also has Argo CD's, which deploy/ leaves out.
CONTROLLER_CRDS: Final = frozenset(
    {
        "rollouts.argoproj.io",
        "experiments.argoproj.io",
        "analysisruns.argoproj.io",
        "analysistemplates.argoproj.io",
        "clusteranalysistemplates.argoproj.io",
    }
)
NAMESPACED_VALUES: Final = {
    "namespaces": ["shop", "payments"],
    "image": {"repository": "registry.example.com/rollouts", "tag": "1.2.3", "pullPolicy": "Always"},
    "replicas": 3,
    "metrics": {"port": 9100},
    "resources": {"requests": {"cpu": "250m", "memory": "300Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
}


@pytest.fixture(scope="module")
def kustomize_base() -> list[JsonObject]:
    require_tool("kubectl")
    return render_kustomize(DEPLOY_DIR)


@pytest.fixture(scope="module")
def kustomize_namespaced() -> list[JsonObject]:
    require_tool("kubectl")
    return render_kustomize(NAMESPACED_DIR)


@pytest.fixture(scope="module")
def helm_default() -> list[JsonObject]:
    return render_helm(name="rollouts", namespace=INSTALL_NAMESPACE)


@pytest.fixture(scope="module")
def helm_namespaced() -> list[JsonObject]:
    return render_helm(NAMESPACED_VALUES, name="rollouts", namespace=INSTALL_NAMESPACE)


# -- what every install has -------------------------------------------------------------------------------------------


def controller_container(deployment: JsonObject) -> JsonObject:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def controller_args(deployment: JsonObject) -> dict[str, Any]:
    """The container's args as `rollouts controller` parses them (unknown flags fail here)."""
    from cli.main import _register_commands, app

    _register_commands()
    command = typer.main.get_command(app).commands["controller"]  # type: ignore[attr-defined]
    # The kubelet expands $(POD_NAMESPACE) from the container's env.
    args = [arg.replace("$(POD_NAMESPACE)", "<pod-namespace>") for arg in controller_container(deployment)["args"]]
    return dict(command.make_context("controller", args).params)


def assert_is_a_controller_install(
    objects: list[JsonObject],
    *,
    name: str = CONTROLLER,
    namespace: str = INSTALL_NAMESPACE,
    replicas: int = 2,
    image: str = f"argo-py-rollouts:{VERSION}",
    metrics_port: int = METRICS_PORT,
) -> JsonObject:
    """What any rendering of deploy/ must have; the Deployment."""
    deployment = only(objects, "Deployment")
    assert deployment["metadata"]["name"] == name
    assert deployment["metadata"]["namespace"] == namespace
    spec = deployment["spec"]
    assert spec["replicas"] == replicas
    pod = spec["template"]
    selector = spec["selector"]["matchLabels"]
    assert selector.items() <= pod["metadata"]["labels"].items()

    # The ServiceAccount the RBAC binds.
    service_account = pod["spec"]["serviceAccountName"]
    assert find(objects, "ServiceAccount", service_account), f"no ServiceAccount {service_account}"
    assert grants_of(objects, service_account, namespace), f"nothing is bound to {namespace}/{service_account}"

    container = controller_container(deployment)
    assert container["image"] == image
    # Probes and metrics on one named port, which the args make the controller serve.
    (port,) = container["ports"]
    assert (port["name"], port["containerPort"]) == ("metrics", metrics_port)
    assert controller_args(deployment)["metrics_port"] == metrics_port
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    # The leader-election Lease's namespace and holder come from the pod.
    env = {variable["name"]: variable.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for variable in
           container["env"]}
    assert env == {"POD_NAMESPACE": "metadata.namespace", "POD_NAME": "metadata.name"}

    requests = container["resources"]["requests"]
    assert {"cpu", "memory"} <= requests.keys()
    assert "memory" in container["resources"]["limits"]

    pod_security = pod["spec"]["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] > 0
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]

    # The metrics Service and the PodDisruptionBudget select the controller's pods.
    service = only(objects, "Service")
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(metrics_port, "metrics")]
    budget = only(objects, "PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert budget["spec"]["maxUnavailable"] == 1
    return deployment


def crds_of(objects: list[JsonObject]) -> dict[str, JsonObject]:
    return {crd["metadata"]["name"]: crd for crd in find(objects, "CustomResourceDefinition")}


def generated_crds() -> dict[str, JsonObject]:
    return crds_of([doc for path in sorted(CRD_DIR.glob("*.yaml")) for doc in parse_documents(path.read_text())])


def permissions_of(role: JsonObject) -> set[Permission]:
    """Every (verb, group, resource) a role's rules grant, however they are grouped into rules."""
    assert not any(rule.get("resourceNames") for rule in role["rules"]), "compare names too"
    return set(Grant(role["metadata"]["name"], None, tuple(role["rules"])).permissions())


# -- kustomize ----------------------------------------------------------------------------------------------------


@pytest.mark.kubectl
def test_the_kustomize_base_installs_the_controller_cluster_wide(kustomize_base: list[JsonObject]) -> None:
    deployment = assert_is_a_controller_install(kustomize_base)
    assert controller_args(deployment)["all_namespaces"] is True
    assert only(kustomize_base, "Namespace")["metadata"]["name"] == INSTALL_NAMESPACE
    assert not find(kustomize_base, "Role", CONTROLLER), "a namespaced Role in the cluster-wide install"
    binding = only(kustomize_base, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == only(kustomize_base, "ClusterRole")["metadata"]["name"]
    for obj in kustomize_base:
        if obj["kind"] not in ("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"].get("namespace") == INSTALL_NAMESPACE, f"{obj['kind']} outside {INSTALL_NAMESPACE}"


@pytest.mark.kubectl
def test_the_namespaced_variant_watches_its_own_namespace_with_a_role(kustomize_namespaced: list[JsonObject]) -> None:
    deployment = assert_is_a_controller_install(kustomize_namespaced)
    args = controller_args(deployment)
    assert args["namespace"] == ["<pod-namespace>"] and not args["all_namespaces"]
    assert not find(kustomize_namespaced, "ClusterRole") and not find(kustomize_namespaced, "ClusterRoleBinding")
    # No Namespace object: deleting the install must not delete the namespace it was installed into.
    assert not find(kustomize_namespaced, "Namespace")
    grants = grants_of(kustomize_namespaced, CONTROLLER, INSTALL_NAMESPACE)
    assert {grant.namespace for grant in grants} == {INSTALL_NAMESPACE}


@pytest.mark.kubectl
def test_an_overlay_moves_the_namespaced_variant_and_its_bindings_to_another_namespace(tmp_path: Path) -> None:
    # An overlay as docs/install.md shows it, over a copy of deploy/ and crds/ (kustomize reads nothing outside).
    shutil.copytree(DEPLOY_DIR, tmp_path / "deploy", ignore=shutil.ignore_patterns("helm", "Dockerfile"))
    shutil.copytree(CRD_DIR, tmp_path / "crds")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "resources:\n- ../deploy/namespaced\nnamespace: shop\n", encoding="utf-8"
    )
    objects = render_kustomize(overlay)
    assert_is_a_controller_install(objects, namespace="shop")
    assert {grant.namespace for grant in grants_of(objects, CONTROLLER, "shop")} == {"shop"}


@pytest.mark.kubectl
@pytest.mark.parametrize("variant", ["base", "namespaced"])
def test_the_controller_label_selects_everything_but_the_crds_and_the_namespace(
    variant: str, kustomize_base: list[JsonObject], kustomize_namespaced: list[JsonObject]
) -> None:
    """docs/install.md uninstalls the controller alone with `-l app.kubernetes.io/component=controller`."""
    objects = kustomize_base if variant == "base" else kustomize_namespaced
    for obj in objects:
        labelled = (obj["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "controller"
        kept = obj["kind"] in ("CustomResourceDefinition", "Namespace")
        assert labelled != kept, f"{obj['kind']} {obj['metadata']['name']}"


@pytest.mark.kubectl
@pytest.mark.parametrize("variant", ["base", "namespaced"])
def test_kustomize_installs_exactly_the_controllers_crds_as_generated(
    variant: str, kustomize_base: list[JsonObject], kustomize_namespaced: list[JsonObject]
) -> None:
    rendered = crds_of(kustomize_base if variant == "base" else kustomize_namespaced)
    assert rendered.keys() == CONTROLLER_CRDS
    generated = generated_crds()
    for name, crd in rendered.items():
        assert crd["spec"] == generated[name]["spec"], f"{name} differs from crds/"


# -- Helm ---------------------------------------------------------------------------------------------------------


def test_the_chart_with_default_values_installs_the_controller_cluster_wide(helm_default: list[JsonObject]) -> None:
    deployment = assert_is_a_controller_install(helm_default)
    assert controller_args(deployment)["all_namespaces"] is True
    assert only(helm_default, "ClusterRole")["metadata"]["name"] == CONTROLLER
    assert not find(helm_default, "Namespace"), "Helm creates the release namespace (--create-namespace)"


def test_the_chart_takes_image_replicas_namespaces_metrics_port_and_resources_from_values(
    helm_namespaced: list[JsonObject],
) -> None:
    deployment = assert_is_a_controller_install(
        helm_namespaced, replicas=3, image="registry.example.com/rollouts:1.2.3", metrics_port=9100
    )
    container = controller_container(deployment)
    assert container["imagePullPolicy"] == "Always"
    assert container["resources"] == NAMESPACED_VALUES["resources"]
    args = controller_args(deployment)
    assert (args["namespace"], args["all_namespaces"]) == (["shop", "payments"], False)
    # A Role in each watched namespace, none cluster-wide; the Lease's Role in the release namespace.
    assert not find(helm_namespaced, "ClusterRole") and not find(helm_namespaced, "ClusterRoleBinding")
    scopes = {grant.namespace for grant in grants_of(helm_namespaced, CONTROLLER, INSTALL_NAMESPACE)}
    assert scopes == {"shop", "payments", INSTALL_NAMESPACE}


def test_the_charts_crds_are_the_generated_ones_byte_for_byte() -> None:
    chart_files = {path.name: path.read_bytes() for path in (CHART_DIR / "crds").iterdir()}
    expected = {
        path.name: path.read_bytes()
        for path in CRD_DIR.glob("*.yaml")
        if any(doc.get("metadata", {}).get("name") in CONTROLLER_CRDS for doc in parse_documents(path.read_text()))
    }
    assert chart_files.keys() == expected.keys()
    stale = sorted(name for name in expected if chart_files[name] != expected[name])
    assert not stale, f"copy them again: cp crds/{{{','.join(stale)}}} deploy/helm/rollouts/crds/"


def test_the_chart_lints_clean_in_strict_mode() -> None:
    import helm_python

    for values in ({}, NAMESPACED_VALUES):
        report = helm_python.lint(str(CHART_DIR), copy.deepcopy(values), strict=True, namespace=INSTALL_NAMESPACE)
        problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
        assert not problems, problems


def test_the_chart_refuses_values_it_does_not_know() -> None:
    import helm_python

    with pytest.raises(helm_python.HelmValuesError, match="replica"):
        render_helm({"replica": 3})
    with pytest.raises(helm_python.HelmValuesError, match="port"):
        render_helm({"metrics": {"port": "http"}})


def test_the_chart_needs_a_service_account_name_when_it_creates_none() -> None:
    import helm_python

    with pytest.raises(helm_python.HelmRenderError, match=r"serviceAccount\.name is required"):
        render_helm({"serviceAccount": {"create": False}})
    objects = render_helm({"serviceAccount": {"create": False, "name": "ops-bot"}})
    assert not find(objects, "ServiceAccount")
    assert only(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "ops-bot"
    assert grants_of(objects, "ops-bot", INSTALL_NAMESPACE)


def test_the_chart_and_the_version_agree_with_the_package() -> None:
    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["appVersion"] == VERSION


# -- kustomize and Helm agree ---------------------------------------------------------------------------------------


@pytest.mark.kubectl
def test_the_chart_grants_what_the_kustomize_base_grants(
    kustomize_base: list[JsonObject], helm_default: list[JsonObject]
) -> None:
    for kind, name in (("ClusterRole", CONTROLLER), ("Role", f"{CONTROLLER}-leader-election")):
        assert permissions_of(only(helm_default, kind, name)) == permissions_of(only(kustomize_base, kind, name))


@pytest.mark.kubectl
def test_the_namespaced_chart_grants_what_the_namespaced_variant_grants(
    kustomize_namespaced: list[JsonObject], helm_namespaced: list[JsonObject]
) -> None:
    expected = permissions_of(only(kustomize_namespaced, "Role", CONTROLLER))
    roles = find(helm_namespaced, "Role", CONTROLLER)
    assert [role["metadata"]["namespace"] for role in roles] == ["shop", "payments"]
    for role in roles:
        assert permissions_of(role) == expected


@pytest.mark.kubectl
def test_the_chart_and_the_kustomize_base_run_the_same_pod(
    kustomize_base: list[JsonObject], helm_default: list[JsonObject]
) -> None:
    def pod(objects: list[JsonObject]) -> JsonObject:
        spec = copy.deepcopy(only(objects, "Deployment")["spec"]["template"]["spec"])
        spec.pop("affinity")  # selects by each install's own labels
        return spec

    assert pod(helm_default) == pod(kustomize_base)


# -- applying to the sandbox --------------------------------------------------------------------------------------


APPLY_ORDER: Final = {"CustomResourceDefinition": 0, "Namespace": 1}


def apply_all(sandbox: SandboxThread, objects: list[JsonObject], tmp_dir: Path) -> None:
    """Create every object with the kubernetes client (CRDs and Namespaces first), and check each one was stored
    with every field it was rendered with.

    The client's typed models validate each body against the API's schema before sending it: a misspelt field or a
    wrong type fails here, as the API server's validation would fail `kubectl apply`.
    """
    kubeconfig = sandbox.write_kubeconfig(tmp_dir / "kubeconfig.yaml")
    api = kubernetes.config.new_client_from_config(str(kubeconfig))
    try:
        for obj in sorted(objects, key=lambda o: APPLY_ORDER.get(o["kind"], 2)):
            namespace = obj["metadata"].get("namespace")
            if namespace and sandbox.emulator.get_object("", "v1", "namespaces", None, namespace) is None:
                utils.create_from_dict(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
            utils.create_from_dict(api, obj, namespace=namespace)
    finally:
        api.close()
    for obj in objects:
        group, _, version = obj["apiVersion"].rpartition("/")
        plural = _plural(sandbox, group, version, obj["kind"])
        metadata = obj["metadata"]
        stored = sandbox.emulator.get_object(group, version, plural, metadata.get("namespace"), metadata["name"])
        assert stored is not None, f"{obj['kind']} {obj['metadata']['name']} was not created"
        missing = _missing_fields(obj, stored)
        assert not missing, f"{obj['kind']} {obj['metadata']['name']} was stored without {missing}"


def _plural(sandbox: SandboxThread, group: str, version: str, kind: str) -> str:
    for spec in sandbox.emulator.registry:
        if (spec.group, spec.version, spec.kind) == (group, version, kind):
            return str(spec.plural)
    raise AssertionError(f"the sandbox does not serve {kind} {group}/{version}")


def _missing_fields(rendered: Any, stored: Any, path: str = "") -> list[str]:
    """The paths of what ``rendered`` has and ``stored`` lacks or has otherwise (extra stored fields are fine)."""
    if isinstance(rendered, dict):
        if not isinstance(stored, dict):
            return [path or "."]
        return [
            missing
            for key, value in rendered.items()
            for missing in _missing_fields(value, stored.get(key), f"{path}.{key}")
        ]
    if isinstance(rendered, list):
        if not isinstance(stored, list) or len(stored) != len(rendered):
            return [path]
        return [
            missing
            for index, item in enumerate(rendered)
            for missing in _missing_fields(item, stored[index], f"{path}[{index}]")
        ]
    return [] if rendered == stored or str(rendered) == str(stored) else [path]


@pytest.fixture
def fresh_sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(simulate_workloads=False) as running:
        yield running


@pytest.mark.kubectl
@pytest.mark.parametrize("variant", ["base", "namespaced"])
def test_the_kustomize_renders_apply_to_the_sandbox(
    variant: str,
    kustomize_base: list[JsonObject],
    kustomize_namespaced: list[JsonObject],
    fresh_sandbox: SandboxThread,
    tmp_path: Path,
) -> None:
    apply_all(fresh_sandbox, kustomize_base if variant == "base" else kustomize_namespaced, tmp_path)


@pytest.mark.parametrize("values", [{}, NAMESPACED_VALUES], ids=["default", "namespaced"])
def test_the_helm_renders_apply_to_the_sandbox(
    values: dict[str, Any], fresh_sandbox: SandboxThread, tmp_path: Path
) -> None:
    apply_all(fresh_sandbox, render_helm(values), tmp_path)


@pytest.mark.kubectl
def test_kubectl_apply_k_installs_and_upgrades_in_place(fresh_sandbox: SandboxThread, tmp_path: Path) -> None:
    """The install command itself, twice (an upgrade with nothing changed); the emulator serves no OpenAPI
    document, hence --validate=false."""
    assert KUBECTL is not None
    kubeconfig = fresh_sandbox.write_kubeconfig(tmp_path / "kubeconfig.yaml")
    command = [KUBECTL, "--kubeconfig", str(kubeconfig), "apply", "-k", str(DEPLOY_DIR), "--validate=false"]
    for _ in range(2):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
    deployment = fresh_sandbox.emulator.get_object("apps", "v1", "deployments", INSTALL_NAMESPACE, CONTROLLER)
    assert deployment is not None and deployment["spec"]["replicas"] == 2


# -- sharding -----------------------------------------------------------------------------------------------------


def sharding_of(deployment: JsonObject) -> tuple[int, int, bool]:
    """The Deployment's replicas, its `--shards`, and whether it runs the Application controllers."""
    args = controller_args(deployment)
    return deployment["spec"]["replicas"], args["shards"], args["applications_run"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({}, (2, 1, True), id="unsharded by default"),
        pytest.param({"shards": 3}, (3, 3, False), id="a replica per shard"),
        pytest.param({"shards": 2, "replicas": 3}, (3, 2, False), id="more replicas than shards: warm spares"),
    ],
)
def test_the_chart_runs_a_replica_per_shard_with_the_shards_flag(
    values: dict[str, Any], expected: tuple[int, int, bool]
) -> None:
    objects = render_helm(values, name="rollouts", namespace=INSTALL_NAMESPACE)
    assert sharding_of(assert_is_a_controller_install(objects, replicas=expected[0])) == expected


@pytest.mark.kubectl
def test_the_shards_component_makes_the_base_a_sharded_install(tmp_path: Path) -> None:
    require_tool("kubectl")
    # An overlay as the component's header shows it, over a copy of deploy/ and crds/.
    shutil.copytree(DEPLOY_DIR, tmp_path / "deploy", ignore=shutil.ignore_patterns("helm", "Dockerfile"))
    shutil.copytree(CRD_DIR, tmp_path / "crds")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "resources:\n- ../deploy\ncomponents:\n- ../deploy/components/shards\n", encoding="utf-8"
    )
    deployment = assert_is_a_controller_install(render_kustomize(overlay), replicas=3)
    assert sharding_of(deployment) == (3, 3, False)
