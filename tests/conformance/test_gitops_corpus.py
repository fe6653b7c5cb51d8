"""Every Argo CD manifest in the shared corpus parses, validates clean and round-trips unchanged.

The corpus holds manifests from the documents this project must run (``seeds/``) and a checkout of
argoproj/argocd-example-apps. Helm charts in it are templates, not manifests, so they are not read as
YAML; the example repository's App of Apps chart is instead rendered here from its values, as its
template does.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.kinds import KINDS
from kube.kinds import KindSpec
from tests.conformance.corpus import CORPUS_ENV, corpus_dir

CORPUS = corpus_dir()
SEEDS = CORPUS / "seeds"
EXAMPLE_APPS = CORPUS / "argocd-example-apps"

if not SEEDS.is_dir() or not EXAMPLE_APPS.is_dir():
    pytest.skip(
        f"shared corpus not found at {CORPUS}: the Argo CD conformance tests need its seeds/ and "
        f"argocd-example-apps/ (or set {CORPUS_ENV})",
        allow_module_level=True,
    )

KIND_SPECS: dict[tuple[str, str], KindSpec] = {(spec.api_version, spec.kind): spec for spec in KINDS}


def _inside_helm_chart(path: Path, root: Path) -> bool:
    return any((parent / "Chart.yaml").is_file() for parent in path.parents if parent.is_relative_to(root))


def _plain_yaml_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.suffix in {".yaml", ".yml"} and path.is_file() and not _inside_helm_chart(path, root):
            yield path


def _yaml_documents(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        # PyYAML rejects trailing tabs that Go's YAML parser (and so kubectl and Argo CD) accepts; the example
        # repository has such files, so read them the way Go would.
        return list(yaml.safe_load_all("\n".join(line.rstrip() for line in text.splitlines())))


def _argo_cd_documents(paths: Iterator[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in paths:
        for index, document in enumerate(_yaml_documents(path)):
            if (
                isinstance(document, dict)
                and (document.get("apiVersion"), document.get("kind")) in KIND_SPECS
            ):
                name = document.get("metadata", {}).get("name", "")
                yield f"{path.relative_to(CORPUS)}#{index}:{document['kind']}/{name}", document


DOCUMENTS = dict(_argo_cd_documents(_plain_yaml_files(SEEDS)))
DOCUMENTS.update(_argo_cd_documents(_plain_yaml_files(EXAMPLE_APPS)))


def _spec_for(document: dict[str, Any]) -> KindSpec:
    return KIND_SPECS[(document["apiVersion"], document["kind"])]


# The documents this suite was written against; a corpus that loses one should fail loudly, not shrink
# the suite.
KNOWN = {
    "seeds/app-of-apps.yaml#0:Application/app-of-apps",
    "seeds/application-git-path.yaml#0:Application/cert-manager-config",
    "seeds/application-helm-chart.yaml#0:Application/cert-manager",
    "seeds/application-monitoring.yaml#0:Application/monitoring",
    "seeds/applicationset-cluster-addons.yaml#0:ApplicationSet/cluster-addons",
    "seeds/applicationset-git-directories.yaml#0:ApplicationSet/infra-apps",
    "seeds/appproject-team-a.yaml#0:AppProject/team-a",
    "seeds/infra-apps-root.yaml#0:Application/infra-apps-root",
    "seeds/sync-policy-full.yaml#0:Application/app-a",
}


def test_the_corpus_still_holds_the_known_documents() -> None:
    assert sorted(KNOWN - set(DOCUMENTS)) == []


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_corpus_manifest_validates_clean(name: str) -> None:
    document = DOCUMENTS[name]

    assert _spec_for(document).check(document) == []


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_corpus_manifest_round_trips_unchanged(name: str) -> None:
    document = DOCUMENTS[name]
    original = copy.deepcopy(document)

    assert _spec_for(document).model.from_dict(document).to_dict() == original


# --- the example repository's App of Apps chart ---------------------------------------------------


def _rendered_app_of_apps() -> list[dict[str, Any]]:
    """What apps/templates/applications.yaml renders from apps/values.yaml.

    Mirrors the template: one Application per entry of `applications`, named `example.<name>`, whose
    destination namespace and source path default to the entry's name and whose `tool` (helm or plugin
    options) is merged into the source.
    """
    with (EXAMPLE_APPS / "apps" / "values.yaml").open(encoding="utf-8") as stream:
        values = yaml.safe_load(stream)
    config = values["config"]["spec"]
    rendered = []
    for entry in values["applications"]:
        source = {
            "path": entry.get("path") or entry["name"],
            "repoURL": config["source"]["repoURL"],
            "targetRevision": config["source"]["targetRevision"],
            **(entry.get("tool") or {}),
        }
        rendered.append(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": {
                    "name": f"example.{entry['name']}",
                    "namespace": "argocd",
                    "finalizers": ["resources-finalizer.argocd.argoproj.io"],
                },
                "spec": {
                    "destination": {
                        "namespace": entry.get("namespace") or entry["name"],
                        "server": config["destination"]["server"],
                    },
                    "project": "default",
                    "source": source,
                    "syncPolicy": {
                        "syncOptions": ["CreateNamespace=true"],
                        "automated": {"prune": True, "selfHeal": True},
                    },
                },
            }
        )
    return rendered


def test_example_app_of_apps_chart_renders_valid_applications() -> None:
    applications = _rendered_app_of_apps()
    spec = KIND_SPECS[("argoproj.io/v1alpha1", "Application")]

    assert applications, "apps/values.yaml lists no applications"
    for application in applications:
        original = copy.deepcopy(application)
        assert spec.check(application) == [], application["metadata"]["name"]
        assert spec.model.from_dict(application).to_dict() == original
