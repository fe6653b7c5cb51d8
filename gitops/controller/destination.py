"""Where one Application's pass goes: its destination resolved against the known clusters, or the reason it cannot
go anywhere (an ``InvalidSpecError`` for a destination that names no usable cluster, a ``ComparisonError`` for a
cluster that does not answer), and how long to wait before trying an unreachable cluster again. Pure.

Argo CD's rules (``argo.ValidateDestination`` / ``GetDestinationCluster``): a destination names its cluster by
``server`` or by ``name``, never both; the name or URL must be one a cluster Secret (or the built-in ``in-cluster``)
declares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gitops.clusters import ClusterConfig, ClusterError, resolve_destination

# Backoff of the attempts to reach a cluster that did not answer: 1 s, 2 s, 4 s … at most a minute.
RETRY_BASE_SECONDS: Final = 1.0
RETRY_CAP_SECONDS: Final = 60.0
MASK: Final = "******"


@dataclass(frozen=True)
class Destination:
    """One pass's destination: the cluster, or why the pass cannot reach one (then ``cluster`` may still name it)."""

    cluster: ClusterConfig | None
    invalid: str | None = None
    unreachable: str | None = None
    retry_after: float | None = None

    @property
    def usable(self) -> bool:
        """Whether the pass may read and write the destination cluster."""
        return self.cluster is not None and self.invalid is None and self.unreachable is None


def resolve(destination: Mapping[str, Any], clusters: Sequence[ClusterConfig]) -> Destination:
    """The cluster ``destination`` names, or Argo CD's message of why it names none; a cluster whose Secret cannot
    be read is invalid too, saying why."""
    try:
        cluster = resolve_destination(destination, clusters)
    except ClusterError as error:
        server, name = destination.get("server"), destination.get("name")
        field = "spec.destination.server" if server and not name else (
            "spec.destination.name" if name and not server else "spec.destination")
        return Destination(None, invalid=f"{field}: {error}")
    if cluster.problem:
        return Destination(cluster, invalid=cluster.problem)
    return Destination(cluster)


def retry_delay(failures: int, *, base: float = RETRY_BASE_SECONDS, cap: float = RETRY_CAP_SECONDS) -> float:
    """Seconds before the next attempt after ``failures`` failed ones in a row (doubling, capped)."""
    if failures <= 0:
        return 0.0
    return min(cap, base * 2.0 ** min(failures - 1, 30))


def redact(text: str, cluster: ClusterConfig) -> str:
    """``text`` with every credential of ``cluster`` masked (an error message must never carry a token)."""
    for secret in (cluster.bearer_token, cluster.password, cluster.key_data, cluster.cert_data, cluster.ca_data):
        if secret:
            text = text.replace(secret, MASK)
    return text


def unreachable_message(cluster: ClusterConfig, error: str) -> str:
    """The ``ComparisonError`` message for a cluster that did not answer, naming it and the connection error."""
    return redact(f"failed to sync cluster {cluster.server} ({cluster.name}): {' '.join(error.split())}", cluster)
