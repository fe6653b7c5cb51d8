"""Destination clusters from Argo CD cluster Secrets (docs: operator-manual/declarative-setup.md#clusters)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gitops.clusters import (
    LOCAL_CLUSTER,
    ClusterError,
    api_client_for,
    cluster_summary,
    clusters_from_secrets,
    resolve_destination,
)

TOKEN = "s3cr3t-token-value"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(name: str, server: str, config: dict[str, Any] | str, **labels: str) -> dict[str, Any]:
    raw = config if isinstance(config, str) else json.dumps(config)
    return {
        "metadata": {"name": f"cluster-{name}", "labels": {"argocd.argoproj.io/secret-type": "cluster", **labels}},
        "data": {"name": b64(name), "server": b64(server), "config": b64(raw)},
    }


PROD = secret("prod", "https://prod.example:6443", {"bearerToken": TOKEN, "tlsClientConfig": {"insecure": True}},
              env="prod")


def test_cluster_secrets_are_read_and_the_local_cluster_added() -> None:
    clusters = clusters_from_secrets([PROD, {"metadata": {"name": "repo", "labels": {}}}])
    assert [(c.name, c.server) for c in clusters] == [
        ("in-cluster", "https://kubernetes.default.svc"),
        ("prod", "https://prod.example:6443"),
    ]
    prod = clusters[1]
    assert prod.bearer_token == TOKEN and prod.insecure and prod.labels["env"] == "prod"


def test_a_secret_for_the_local_server_replaces_the_implicit_local_cluster() -> None:
    named = secret("home", "https://kubernetes.default.svc", {})
    clusters = clusters_from_secrets([named])
    assert [(c.name, c.local) for c in clusters] == [("home", True)]


def test_credentials_never_show_in_repr_or_summary() -> None:
    prod = clusters_from_secrets([PROD])[1]
    assert TOKEN not in repr(prod)
    assert TOKEN not in json.dumps(cluster_summary(prod))


def test_a_secret_with_broken_config_is_reported_not_contacted() -> None:
    broken = clusters_from_secrets([secret("bad", "https://bad:6443", "{not json")])[0]
    assert broken.problem is not None and "config is not valid JSON" in broken.problem
    with pytest.raises(ClusterError, match="config is not valid JSON"):
        api_client_for(broken)


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        pytest.param({"server": "https://prod.example:6443"}, "prod", id="by-server"),
        pytest.param({"server": "https://prod.example:6443/"}, "prod", id="trailing-slash"),
        pytest.param({"name": "prod"}, "prod", id="by-name"),
        pytest.param({"name": "in-cluster"}, "in-cluster", id="local-by-name"),
        pytest.param({"server": "https://kubernetes.default.svc"}, "in-cluster", id="local-by-server"),
    ],
)
def test_destinations_resolve_by_server_or_name(destination: dict[str, str], expected: str) -> None:
    assert resolve_destination(destination, clusters_from_secrets([PROD])).name == expected


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        pytest.param({"server": "https://nowhere:6443"}, "there are no clusters with this URL: https://nowhere:6443",
                     id="unknown-server"),
        pytest.param({"name": "nowhere"}, "there are no clusters with this name: nowhere", id="unknown-name"),
        pytest.param({"name": "prod", "server": "https://prod.example:6443"}, "can't have both name and server",
                     id="both"),
    ],
)
def test_unknown_destinations_are_argo_cds_errors(destination: dict[str, str], message: str) -> None:
    with pytest.raises(ClusterError, match=message):
        resolve_destination(destination, clusters_from_secrets([PROD]))


def test_a_remote_client_carries_the_token_and_tls_settings() -> None:
    client = api_client_for(clusters_from_secrets([PROD])[1])
    try:
        configuration = client.configuration
        assert configuration.host == "https://prod.example:6443"
        assert configuration.api_key == {"authorization": f"Bearer {TOKEN}"}
        assert configuration.verify_ssl is False
    finally:
        client.close()


def test_the_local_cluster_is_the_controllers_own_connection() -> None:
    assert LOCAL_CLUSTER.local and LOCAL_CLUSTER.server == "https://kubernetes.default.svc"
