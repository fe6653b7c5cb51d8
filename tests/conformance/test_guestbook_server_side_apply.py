"""Argo CD's guestbook example applied server-side with kubectl to the sandbox's API (issue #10's acceptance).

``kubectl apply --server-side -f guestbook/`` works; a second field manager changing a field the first owns is
refused with the conflict named; ``--force-conflicts`` takes the field over. Skipped when the corpus is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sandbox.emulator import ApiEmulator, EmulatorThread
from tests.conformance.corpus import CORPUS_ENV, corpus_dir
from tests.kubectl_runner import KUBECTL, MISSING_REASON, Kubectl, kubectl_for

GUESTBOOK = corpus_dir() / "argocd-example-apps" / "guestbook"

if not GUESTBOOK.is_dir():
    pytest.skip(f"the guestbook example is not at {GUESTBOOK}: this test needs the shared corpus's"
                f" argocd-example-apps/ (or set {CORPUS_ENV})", allow_module_level=True)
if KUBECTL is None:
    pytest.skip(MISSING_REASON, allow_module_level=True)

pytestmark = pytest.mark.kubectl
DEPLOYMENT = "/apis/apps/v1/namespaces/default/deployments/guestbook-ui"


@pytest.fixture
def cluster() -> Iterator[EmulatorThread]:
    with EmulatorThread(emulator=ApiEmulator()) as thread:
        yield thread


@pytest.fixture
def kubectl(cluster: EmulatorThread, tmp_path: Path) -> Kubectl:
    return kubectl_for(cluster.url, tmp_path)


def _guestbook_deployment() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((GUESTBOOK / "guestbook-ui-deployment.yaml").read_text())
    return document


def _replicas_owners(cluster: EmulatorThread) -> set[str]:
    stored = httpx.get(cluster.url + DEPLOYMENT).json()
    return {entry["manager"] for entry in stored["metadata"]["managedFields"]
            if "f:replicas" in entry["fieldsV1"].get("f:spec", {})}


def test_guestbook_applies_server_side(kubectl: Kubectl, cluster: EmulatorThread) -> None:
    out = kubectl("apply", "--server-side", "--validate=false", "-f", str(GUESTBOOK)).stdout
    assert "deployment.apps/guestbook-ui serverside-applied" in out
    assert "service/guestbook-ui serverside-applied" in out
    assert _replicas_owners(cluster) == {"kubectl"}
    # Applying the same directory again changes nothing and is not a conflict.
    kubectl("apply", "--server-side", "--validate=false", "-f", str(GUESTBOOK))


def test_second_manager_changing_an_owned_field_gets_the_conflict(kubectl: Kubectl,
                                                                  cluster: EmulatorThread) -> None:
    kubectl("apply", "--server-side", "--validate=false", "-f", str(GUESTBOOK))
    changed = _guestbook_deployment()
    changed["spec"]["replicas"] = 3
    refused = kubectl("apply", "--server-side", "--validate=false", "--field-manager=team-b", "-f", "-",
                      stdin=yaml.safe_dump(changed), check=False)
    assert refused.returncode != 0
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in refused.stderr
    assert httpx.get(cluster.url + DEPLOYMENT).json()["spec"]["replicas"] == 1


def test_force_conflicts_takes_the_field_over(kubectl: Kubectl, cluster: EmulatorThread) -> None:
    kubectl("apply", "--server-side", "--validate=false", "-f", str(GUESTBOOK))
    changed = _guestbook_deployment()
    changed["spec"]["replicas"] = 3
    kubectl("apply", "--server-side", "--validate=false", "--field-manager=team-b", "--force-conflicts",
            "-f", "-", stdin=yaml.safe_dump(changed))
    assert httpx.get(cluster.url + DEPLOYMENT).json()["spec"]["replicas"] == 3
    assert _replicas_owners(cluster) == {"team-b"}
