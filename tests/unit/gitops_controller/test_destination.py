"""An Application's destination resolved against the clusters the cluster Secrets declare, with Argo CD's rules
(``argo.ValidateDestination``): ``server`` or ``name``, never both; an unknown one is an InvalidSpecError naming the
field with Argo CD's words; a Secret that cannot be read makes its cluster unusable, saying why. Unreachable
clusters are tried again with a doubling, capped backoff, and no credential ever shows in a message."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.clusters import LOCAL_NAME, LOCAL_SERVER, ClusterConfig, cluster_from_secret, clusters_from_secrets
from gitops.controller.destination import MASK, redact, resolve, retry_delay, unreachable_message

PROD = ClusterConfig(name="prod", server="https://prod.example:6443", bearer_token="s3cr3t-token")
CLUSTERS = [ClusterConfig(name=LOCAL_NAME, server=LOCAL_SERVER, local=True), PROD]


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        ({"server": "https://prod.example:6443"}, "prod"),
        ({"server": "https://prod.example:6443/"}, "prod"),  # Argo CD trims the trailing slash of a URL
        ({"name": "prod"}, "prod"),
        ({"server": LOCAL_SERVER}, LOCAL_NAME),
        ({"name": LOCAL_NAME}, LOCAL_NAME),
    ],
)
def test_a_destination_resolves_by_server_or_by_name(destination: dict[str, str], expected: str) -> None:
    resolved = resolve(destination, CLUSTERS)
    assert resolved.usable and resolved.cluster is not None and resolved.cluster.name == expected


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ({"name": "staging"}, "spec.destination.name: there are no clusters with this name: staging"),
        ({"server": "https://nowhere:6443"}, "spec.destination.server: there are no clusters with this URL: "
                                             "https://nowhere:6443"),
        ({"name": "prod", "server": "https://prod.example:6443"},
         "spec.destination: application destination can't have both name and server defined: prod "
         "https://prod.example:6443"),
        ({}, "spec.destination: application destination has neither server nor name"),
    ],
)
def test_a_destination_naming_no_cluster_is_invalid_with_argo_cds_message(destination: dict[str, str],
                                                                          message: str) -> None:
    resolved = resolve(destination, CLUSTERS)
    assert resolved.cluster is None and resolved.invalid == message and not resolved.usable


def test_two_clusters_of_one_name_make_the_name_ambiguous() -> None:
    twins = [*CLUSTERS, ClusterConfig(name="prod", server="https://other:6443")]
    assert resolve({"name": "prod"}, twins).invalid == (
        "spec.destination.name: there are 2 clusters with the same name: prod")


def test_a_secret_renaming_the_local_cluster_makes_the_old_name_unknown() -> None:
    """Argo CD: a cluster Secret whose server is https://kubernetes.default.svc replaces ``in-cluster``."""
    renamed = clusters_from_secrets([{
        "metadata": {"name": "local", "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
        "stringData": {"name": "hub", "server": LOCAL_SERVER},
    }])
    assert resolve({"name": "hub"}, renamed).usable
    assert resolve({"name": LOCAL_NAME}, renamed).invalid == (
        "spec.destination.name: there are no clusters with this name: in-cluster")


def test_a_cluster_whose_secret_cannot_be_read_is_invalid_saying_why() -> None:
    broken = cluster_from_secret({
        "metadata": {"name": "cluster-edge", "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
        "stringData": {"name": "edge", "server": "https://edge:6443", "config": "{not json"},
    })
    resolved = resolve({"name": "edge"}, [*CLUSTERS, broken])
    assert resolved.invalid == "cluster Secret cluster-edge: config is not valid JSON (JSONDecodeError)"


@pytest.mark.parametrize(("failures", "seconds"), [(0, 0.0), (1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0),
                                                   (500, 60.0)])
def test_attempts_to_reach_a_cluster_back_off_doubling_up_to_a_minute(failures: int, seconds: float) -> None:
    assert retry_delay(failures) == seconds


def test_the_unreachable_message_names_the_cluster_and_the_error() -> None:
    message = unreachable_message(PROD, "cannot reach the Kubernetes API at https://prod.example:6443: Connection\n"
                                        "refused")
    assert message == ("failed to sync cluster https://prod.example:6443 (prod): cannot reach the Kubernetes API at "
                       "https://prod.example:6443: Connection refused")


@pytest.mark.parametrize("field", ["bearer_token", "password", "key_data", "cert_data", "ca_data"])
def test_no_credential_survives_in_a_message(field: str) -> None:
    values: dict[str, Any] = {field: "c2VjcmV0LXZhbHVl"}
    cluster = ClusterConfig(name="c", server="https://c:6443", **values)
    said = redact("the server echoed c2VjcmV0LXZhbHVl back", cluster)
    assert "c2VjcmV0LXZhbHVl" not in said and MASK in said
    assert "c2VjcmV0LXZhbHVl" not in unreachable_message(cluster, "refused: c2VjcmV0LXZhbHVl")
