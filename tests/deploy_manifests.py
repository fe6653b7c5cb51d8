"""The install manifests of deploy/ as the tests see them: rendered with kustomize (kubectl) and with the Helm
chart (helm-python-sdk), split into objects, and RBAC rules that can be asked whether they grant a request."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

JsonObject = dict[str, Any]

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
DEPLOY_DIR: Final = REPO_ROOT / "deploy"
NAMESPACED_DIR: Final = DEPLOY_DIR / "namespaced"
CHART_DIR: Final = DEPLOY_DIR / "helm" / "rollouts"
CRD_DIR: Final = REPO_ROOT / "crds"
INSTALL_NAMESPACE: Final = "rollouts"
CONTROLLER: Final = "rollouts-controller"
KUBECTL: Final = shutil.which("kubectl")


class RenderError(AssertionError):
    """kustomize or Helm refused to render (the message says which and why)."""


def parse_documents(text: str) -> list[JsonObject]:
    """The objects of a multi-document YAML stream (empty documents dropped)."""
    return [document for document in yaml.safe_load_all(text) if isinstance(document, dict)]


def render_kustomize(directory: Path) -> list[JsonObject]:
    """`kubectl kustomize DIR`, as objects."""
    if KUBECTL is None:
        raise RenderError("kubectl is not installed")
    result = subprocess.run(
        [KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
    return parse_documents(result.stdout)


def render_helm(
    values: Mapping[str, Any] | None = None, *, name: str = "rollouts", namespace: str = INSTALL_NAMESPACE
) -> list[JsonObject]:
    """The chart's templates rendered with ``values`` (as `helm template` does), then its CRDs (as `helm install`
    installs them first), as objects."""
    import helm_python  # 244 MB of Go: loaded only by the tests that render the chart

    chart = helm_python.Chart.load(str(CHART_DIR))
    try:
        rendered = chart.render(values=dict(values or {}), name=name, namespace=namespace)
        crds = [document for crd in chart.crds for document in parse_documents(crd["data"])]
    finally:
        chart.close()
    objects: list[JsonObject] = []
    for path in sorted(rendered):
        if path.endswith(".yaml"):
            objects.extend(parse_documents(rendered[path]))
    return crds + objects


def find(objects: Iterable[JsonObject], kind: str, name: str | None = None) -> list[JsonObject]:
    """The objects of ``kind`` (named ``name``, when given)."""
    return [
        obj
        for obj in objects
        if obj.get("kind") == kind and (name is None or (obj.get("metadata") or {}).get("name") == name)
    ]


def only(objects: Iterable[JsonObject], kind: str, name: str | None = None) -> JsonObject:
    found = find(objects, kind, name)
    if len(found) != 1:
        raise AssertionError(f"expected one {kind}{' ' + name if name else ''}, found {len(found)}")
    return found[0]


# -- RBAC -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Permission:
    """One (verb, API group, resource[/subresource]) a rule grants or a request needs."""

    verb: str
    group: str
    resource: str

    def __str__(self) -> str:
        return f"{self.verb} {self.resource}.{self.group or 'core'}"


@dataclass(frozen=True)
class Grant:
    """The rules of one Role or ClusterRole, and where its binding makes them apply: ``namespace`` None for a
    ClusterRole bound cluster-wide."""

    role: str
    namespace: str | None
    rules: tuple[JsonObject, ...]

    def allows(self, permission: Permission, namespace: str | None) -> bool:
        """Whether a request with no particular resourceName is granted (RBAC's rule matching)."""
        if self.namespace is not None and namespace != self.namespace:
            return False
        return any(_rule_matches(rule, permission) for rule in self.rules)

    def permissions(self) -> Iterator[Permission]:
        """Every (verb, group, resource) the rules list, one by one."""
        for rule in self.rules:
            for group in rule.get("apiGroups") or ():
                for resource in rule.get("resources") or ():
                    for verb in rule.get("verbs") or ():
                        yield Permission(verb, group, resource)


def _rule_matches(rule: JsonObject, permission: Permission) -> bool:
    if rule.get("resourceNames"):
        return False  # a rule limited to names grants nothing to a list, watch or create
    return (
        _matches(rule.get("verbs"), permission.verb)
        and _matches(rule.get("apiGroups"), permission.group)
        and _matches(rule.get("resources"), permission.resource)
    )


def _matches(values: Iterable[str] | None, wanted: str) -> bool:
    return any(value in ("*", wanted) for value in values or ())


def grants_of(objects: list[JsonObject], service_account: str, namespace: str) -> list[Grant]:
    """Every Role and ClusterRole bound to the ServiceAccount ``namespace/service_account``, with its scope."""
    roles = {
        (obj["kind"], obj["metadata"].get("namespace") if obj["kind"] == "Role" else None, obj["metadata"]["name"]): obj
        for obj in objects
        if obj.get("kind") in ("Role", "ClusterRole")
    }
    found: list[Grant] = []
    for binding in objects:
        kind = binding.get("kind")
        if kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        subjects = binding.get("subjects") or ()
        if not any(
            s.get("kind") == "ServiceAccount" and s.get("name") == service_account and s.get("namespace") == namespace
            for s in subjects
        ):
            continue
        scope = binding["metadata"].get("namespace") if kind == "RoleBinding" else None
        ref = binding["roleRef"]
        role = roles.get((ref["kind"], scope if ref["kind"] == "Role" else None, ref["name"]))
        if role is None:
            name = binding["metadata"]["name"]
            raise AssertionError(f"{kind} {name} refers to a missing {ref['kind']} {ref['name']}")
        found.append(Grant(f"{ref['kind']} {ref['name']}", scope, tuple(role.get("rules") or ())))
    return found
