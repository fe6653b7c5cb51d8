"""The destination clusters the Application controller deploys to, one connection each: a client, the cluster's API
discovery, its live cache (watches) and resource writes, and a reconciler bound to them.

The local cluster's connection is the controller's own and always there. Any other is made when an Application
first targets it, made again when its cluster Secret changes, and dropped when the Secret goes. A cluster that does
not answer (connection refused, TLS or authentication refused) is tried again with a doubling backoff; meanwhile
only the Applications that target it get a ``ComparisonError`` — every pass of another cluster's Application goes on.

Thread-safe: worker threads reconcile, the Secret stream (on the event loop) changes the clusters; one lock guards
the table, and each connection's own lock lets one pass at a time try to reach it. A remote cluster's live cache
watches through streams of its own (``kube.informer``), on the controller's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from gitops.clusters import LOCAL_CLUSTER, ClusterConfig, ClusterError, api_client_for
from gitops.controller.api_resources import ApiResources, discover
from gitops.controller.destination import Destination, redact, resolve, retry_delay, unreachable_message
from gitops.controller.live_cache import ChangeListener, LiveCache, Owner
from gitops.controller.reconciler import AppReconciler, PassResult
from gitops.controller.resource_ops import ResourceOperations
from kube.client import KubeClient
from kube.errors import KubeError
from kube.http_connection import async_http_client
from kube.informer import Informers
from kube.json_data import JsonObject

logger = logging.getLogger(__name__)

# A remote cluster's request timeout: short, so that a cluster that swallows packets holds a worker briefly.
REMOTE_TIMEOUT_SECONDS: Final = 10.0

# Builds the reconciler of one cluster from its live cache, its discovered types and its writes.
ReconcilerFactory = Callable[[LiveCache, Callable[[], ApiResources], ResourceOperations], AppReconciler]


@dataclass
class ClusterConnection:
    """One destination cluster as the controller talks to it."""

    cluster: ClusterConfig
    client: KubeClient
    resources: ApiResources
    cache: LiveCache
    reconciler: AppReconciler
    local: bool = False
    discovered: bool = False
    failures: int = 0
    next_attempt: float = 0.0
    last_error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, now: float) -> tuple[str, float] | None:
        """Why the cluster cannot be used now (the connection error) and when to look again; ``None`` when it
        answers. Discovery is tried once per backoff period; after it, the watches tell whether it still answers."""
        if self.local:
            return None
        with self.lock:
            if not self.discovered:
                if now < self.next_attempt and self.last_error is not None:
                    return self.last_error, self.next_attempt - now
                try:
                    found = discover(self.client)
                except KubeError as error:
                    return self._failed(str(error), now)
                self.resources.merge(found)
                self.discovered = True
                logger.info("cluster %s (%s) answers: %d resource types", self.cluster.name, self.cluster.server,
                            len(found.kinds))
            broken = self.cache.connection_error()
            if broken is not None:
                return self._failed(broken, now)
            if self.failures:
                logger.info("cluster %s (%s) answers again", self.cluster.name, self.cluster.server)
            self.failures = 0
            self.last_error = None
            return None

    def _failed(self, error: str, now: float) -> tuple[str, float]:
        self.failures += 1
        delay = retry_delay(self.failures)
        self.next_attempt = now + delay
        message = redact(error, self.cluster)
        if message != self.last_error:
            logger.warning("cluster %s (%s) does not answer: %s; trying again in %gs", self.cluster.name,
                           self.cluster.server, message, delay)
        self.last_error = message
        return message, delay

    def stop(self) -> None:
        """Stop the watches and close the client (the local connection belongs to the controller: untouched)."""
        if self.local:
            return
        self.cache.stop()
        self.client.close()


def remote_connection(cluster: ClusterConfig, *, owner: Owner, on_change: ChangeListener,
                      reconciler: ReconcilerFactory, loop: asyncio.AbstractEventLoop) -> ClusterConnection:
    """A connection to a cluster a Secret declares (nothing is requested until its first pass), its watches on
    ``loop``; ClusterError when its Secret's TLS data cannot be used."""
    api_client = api_client_for(cluster)
    client = KubeClient(api_client, timeout=REMOTE_TIMEOUT_SECONDS)
    resources = ApiResources()
    http = async_http_client(api_client.configuration, timeout=REMOTE_TIMEOUT_SECONDS,
                             connect_timeout=REMOTE_TIMEOUT_SECONDS)
    cache = LiveCache(Informers(http), owner, on_change, owns_informers=True)
    cache.bind(loop)

    def rediscover() -> ApiResources:
        """Discovery read again (a kind unknown to the sync: a CRD an earlier wave created)."""
        resources.merge(discover(client))
        return resources

    operations = ResourceOperations(client, lambda: resources, rediscover, cache.record, cache.record_deleted)
    return ClusterConnection(cluster, client, resources, cache, reconciler(cache, lambda: resources, operations))


class ClusterConnections:
    """The clusters the cluster Secrets declare and the connections made to them; routes each Application's pass
    to its destination cluster's reconciler."""

    def __init__(
        self,
        local: ClusterConnection,
        connect: Callable[[ClusterConfig], ClusterConnection],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local = local
        self._connect = connect
        self._clock = clock
        self._lock = threading.Lock()
        self._clusters: list[ClusterConfig] = [LOCAL_CLUSTER]
        self._remote: dict[str, ClusterConnection] = {}
        self._app_server: dict[str, str] = {}  # Application → the server of the reconciler that last had it

    # -- the clusters ------------------------------------------------------------------------------------

    def set_clusters(self, clusters: Sequence[ClusterConfig]) -> bool:
        """The clusters the Secrets now declare; a connection whose Secret changed or went is dropped (the next
        pass makes a new one). Whether anything changed."""
        with self._lock:
            changed = list(clusters) != self._clusters
            self._clusters = list(clusters)
            dropped = []
            for server, connection in list(self._remote.items()):
                current = next((c for c in clusters if c.server == server and not c.local), None)
                if current != connection.cluster:
                    dropped.append(self._remote.pop(server))
        for connection in dropped:
            logger.info("cluster %s (%s): its Secret %s; connection closed", connection.cluster.name,
                        connection.cluster.server, "changed" if any(
                            c.server == connection.cluster.server for c in clusters) else "was removed")
            connection.stop()
        return changed or bool(dropped)

    def clusters(self) -> list[ClusterConfig]:
        with self._lock:
            return list(self._clusters)

    def connections(self) -> list[ClusterConnection]:
        """The local connection and every remote one made so far."""
        with self._lock:
            return [self._local, *self._remote.values()]

    # -- passes ------------------------------------------------------------------------------------------

    def destination(self, app: JsonObject) -> tuple[Destination, AppReconciler]:
        """Where ``app``'s pass goes and the reconciler that runs it (the local one when no cluster is usable)."""
        spec = app.get("spec") or {}
        with self._lock:
            clusters = list(self._clusters)
        destination = resolve(spec.get("destination") or {}, clusters)
        cluster = destination.cluster
        if destination.invalid is not None or cluster is None:
            return destination, self._local.reconciler
        try:
            connection = self._connection(cluster)
        except ClusterError as error:
            return Destination(cluster, invalid=redact(str(error), cluster)), self._local.reconciler
        problem = connection.problem(self._clock())
        if problem is not None:
            message, delay = problem
            return Destination(cluster, unreachable=unreachable_message(cluster, message),
                               retry_after=delay), connection.reconciler
        return destination, connection.reconciler

    def reconcile(self, app: JsonObject) -> PassResult:
        """One pass over ``app`` by its destination cluster's reconciler."""
        name = str(app["metadata"]["name"])
        destination, reconciler = self.destination(app)
        server = destination.cluster.server if destination.cluster is not None else ""
        with self._lock:
            previous = self._app_server.get(name)
            self._app_server[name] = server
        if previous is not None and previous != server:
            # The Application moved: the other cluster's reconciler forgets its render and its interest.
            for other in self._reconcilers_except(reconciler):
                other.forget(name)
        return reconciler.reconcile(app, destination)

    # -- fan-out of the controller's inputs --------------------------------------------------------------

    def forget(self, name: str) -> None:
        """An Application gone (or finished): every reconciler forgets it."""
        with self._lock:
            self._app_server.pop(name, None)
        for reconciler in self._reconcilers_except(None):
            reconciler.forget(name)

    def mark_pushed(self, name: str) -> None:
        """A push concerns ``name``: the reconciler that has it resolves its revision again."""
        with self._lock:
            server = self._app_server.get(name)
            connection = self._remote.get(server) if server else None
        (connection or self._local).reconciler.mark_pushed(name)

    def stop(self) -> None:
        with self._lock:
            remote = list(self._remote.values())
            self._remote.clear()
        for connection in remote:
            connection.stop()

    # -- internals ---------------------------------------------------------------------------------------

    def _connection(self, cluster: ClusterConfig) -> ClusterConnection:
        if cluster.local:
            return self._local
        with self._lock:
            found = self._remote.get(cluster.server)
            if found is None:
                found = self._connect(cluster)
                self._remote[cluster.server] = found
                logger.info("cluster %s (%s): connection made for its first Application", cluster.name,
                            cluster.server)
            return found

    def _reconcilers_except(self, keep: AppReconciler | None) -> Iterable[AppReconciler]:
        with self._lock:
            connections = [self._local, *self._remote.values()]
        return [c.reconciler for c in connections if c.reconciler is not keep]
