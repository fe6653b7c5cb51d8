"""Destination clusters: Argo CD's cluster Secrets read, an Application's destination resolved, clients made.

A cluster Secret (label ``argocd.argoproj.io/secret-type: cluster``) holds ``name``, ``server``, optionally
``project`` and ``namespaces``, and ``config``: JSON with ``bearerToken``, ``username``/``password`` or
``tlsClientConfig{insecure, caData, certData, keyData, serverName}``. The local cluster is always known as
``in-cluster`` at ``https://kubernetes.default.svc`` (the controller's own connection), unless a Secret renames it.

Credentials stay inside ``ClusterConfig``: its ``repr`` masks them, and no error message quotes them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops.resources import JsonObject
from kube.client import CONNECTION_POOL_SIZE

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
LOCAL_SERVER = "https://kubernetes.default.svc"
LOCAL_NAME = "in-cluster"


class ClusterError(ValueError):
    """A destination that names no known cluster, or a cluster Secret that cannot be read."""


@dataclass(frozen=True)
class ClusterConfig:
    """One destination cluster; ``local`` means the controller's own connection."""

    name: str
    server: str
    project: str = ""
    namespaces: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    bearer_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    insecure: bool = False
    ca_data: str | None = field(default=None, repr=False)
    cert_data: str | None = field(default=None, repr=False)
    key_data: str | None = field(default=None, repr=False)
    server_name: str | None = None
    local: bool = False
    problem: str | None = None  # why the Secret cannot be used; the cluster is then reported, not contacted


LOCAL_CLUSTER = ClusterConfig(name=LOCAL_NAME, server=LOCAL_SERVER, local=True)


def _field(secret: Mapping[str, Any], key: str) -> str:
    plain = (secret.get("stringData") or {}).get(key)
    if plain is not None:
        return str(plain)
    raw = (secret.get("data") or {}).get(key)
    if not raw:
        return ""
    try:
        return base64.b64decode(str(raw), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise ClusterError(f"field {key!r} is not base64-encoded text") from error


def cluster_from_secret(secret: Mapping[str, Any]) -> ClusterConfig:
    """The cluster one Secret declares; a Secret that cannot be read gives a config whose ``problem`` says why."""
    metadata = secret.get("metadata") or {}
    labels = dict(metadata.get("labels") or {})
    secret_name = str(metadata.get("name", ""))
    try:
        server = _field(secret, "server").rstrip("/")
        name = _field(secret, "name") or server
        project = _field(secret, "project")
        namespaces = tuple(part.strip() for part in _field(secret, "namespaces").split(",") if part.strip())
        config_text = _field(secret, "config") or "{}"
    except ClusterError as error:
        return ClusterConfig(name=secret_name, server="", labels=labels, problem=f"cluster Secret {secret_name}: "
                             f"{error}")
    if not server:
        return ClusterConfig(name=name or secret_name, server="", labels=labels,
                             problem=f"cluster Secret {secret_name} has no server")
    try:
        config = json.loads(config_text)
        if not isinstance(config, Mapping):
            raise ValueError("not a JSON object")
    except ValueError as error:
        return ClusterConfig(name=name, server=server, labels=labels,
                             problem=f"cluster Secret {secret_name}: config is not valid JSON ({type(error).__name__})")
    tls = config.get("tlsClientConfig") or {}
    return ClusterConfig(
        name=name,
        server=server,
        project=project,
        namespaces=namespaces,
        labels=labels,
        annotations=dict(metadata.get("annotations") or {}),
        bearer_token=config.get("bearerToken") or None,
        username=config.get("username") or None,
        password=config.get("password") or None,
        insecure=bool(tls.get("insecure")),
        ca_data=tls.get("caData") or None,
        cert_data=tls.get("certData") or None,
        key_data=tls.get("keyData") or None,
        server_name=tls.get("serverName") or None,
        local=server == LOCAL_SERVER,
    )


def clusters_from_secrets(secrets: Sequence[Mapping[str, Any]]) -> list[ClusterConfig]:
    """Every cluster the Secrets declare, plus the local cluster unless a Secret declares it; sorted by name."""
    found = [
        cluster_from_secret(secret)
        for secret in secrets
        if ((secret.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE_LABEL) == "cluster"
    ]
    if not any(cluster.server == LOCAL_SERVER for cluster in found):
        found.append(LOCAL_CLUSTER)
    return sorted(found, key=lambda cluster: cluster.name)


def resolve_destination(destination: Mapping[str, Any], clusters: Sequence[ClusterConfig]) -> ClusterConfig:
    """The cluster an Application's ``destination`` names by ``server`` or ``name``; ClusterError with Argo CD's
    wording when none or both do."""
    server = str(destination.get("server") or "").rstrip("/")
    name = str(destination.get("name") or "")
    if server and name:
        raise ClusterError("application destination can't have both name and server defined: "
                           f"{name} {server}")
    if server:
        for cluster in clusters:
            if cluster.server == server:
                return cluster
        raise ClusterError(f"there are no clusters with this URL: {server}")
    if name:
        matching = [cluster for cluster in clusters if cluster.name == name]
        if len(matching) > 1:
            raise ClusterError(f"there are {len(matching)} clusters with the same name: {name}")
        if matching:
            return matching[0]
        raise ClusterError(f"there are no clusters with this name: {name}")
    raise ClusterError("application destination has neither server nor name")


def _write_secret_file(directory: str, name: str, data: str) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64decode(data))
    return path


def api_client_for(cluster: ClusterConfig) -> Any:
    """A ``kubernetes`` ApiClient for a remote cluster (certificates written to 0600 files of a private dir)."""
    import kubernetes.client

    if cluster.problem:
        raise ClusterError(cluster.problem)
    configuration = kubernetes.client.Configuration()
    configuration.host = cluster.server
    configuration.verify_ssl = not cluster.insecure
    # A cluster that refuses connections is tried again by the controller's backoff, not three times per request.
    configuration.retries = False
    configuration.connection_pool_maxsize = CONNECTION_POOL_SIZE  # a watch per type, as on the local cluster
    if cluster.bearer_token:
        configuration.api_key = {"authorization": f"Bearer {cluster.bearer_token}"}
    elif cluster.username and cluster.password:
        configuration.username = cluster.username
        configuration.password = cluster.password
    if cluster.ca_data or cluster.cert_data or cluster.key_data:
        directory = tempfile.mkdtemp(prefix="cluster-tls-")
        os.chmod(directory, 0o700)
        try:
            if cluster.ca_data:
                configuration.ssl_ca_cert = _write_secret_file(directory, "ca.crt", cluster.ca_data)
            if cluster.cert_data:
                configuration.cert_file = _write_secret_file(directory, "client.crt", cluster.cert_data)
            if cluster.key_data:
                configuration.key_file = _write_secret_file(directory, "client.key", cluster.key_data)
        except (binascii.Error, ValueError) as error:
            raise ClusterError(f"cluster {cluster.name}: TLS data is not base64") from error
    if cluster.server_name:
        configuration.tls_server_name = cluster.server_name
    return kubernetes.client.ApiClient(configuration)


def cluster_summary(cluster: ClusterConfig) -> JsonObject:
    """What may be shown about a cluster (CLI, status): never its credentials."""
    return {"name": cluster.name, "server": cluster.server, **({"project": cluster.project} if cluster.project else {})}
