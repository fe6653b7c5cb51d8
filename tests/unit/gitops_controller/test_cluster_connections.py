"""The controller's destination clusters (``ClusterConnections``) with fake clients: a connection is made only when
an Application first targets its cluster, made again when the cluster Secret changes and closed when it goes; a
cluster that does not answer gives its Applications a ComparisonError and is asked again only after a doubling
backoff; every pass goes to its own cluster's reconciler."""

from __future__ import annotations

from typing import Any, cast

from gitops.clusters import LOCAL_CLUSTER, ClusterConfig
from gitops.controller.api_resources import ApiResources
from gitops.controller.cluster_connections import ClusterConnection, ClusterConnections
from gitops.controller.destination import Destination
from gitops.controller.live_cache import LiveCache
from gitops.controller.reconciler import AppReconciler, PassResult
from kube.client import KubeClient
from kube.errors import Unreachable
from kube.informer import Informers

EDGE = ClusterConfig(name="edge", server="https://edge:6443", bearer_token="tok-1")


class FakeClient:
    """Answers discovery with one core type, or refuses the connection while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.requests = 0
        self.closed = False

    def request(self, method: str, path: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.requests += 1
        if self.down:
            raise Unreachable("cannot reach the Kubernetes API at https://edge:6443: Connection refused")
        if path == "/api/v1":
            return {"resources": [{"name": "configmaps", "kind": "ConfigMap", "namespaced": True,
                                   "verbs": ["list", "watch"]}]}
        return {"groups": []}

    def close(self) -> None:
        self.closed = True


class FakeReconciler:
    def __init__(self, server: str) -> None:
        self.server = server
        self.passes: list[tuple[str, Destination | None]] = []
        self.forgotten: list[str] = []

    def reconcile(self, app: dict[str, Any], destination: Destination | None = None) -> PassResult:
        self.passes.append((str(app["metadata"]["name"]), destination))
        return PassResult()

    def forget(self, name: str) -> None:
        self.forgotten.append(name)


def connection(cluster: ClusterConfig, client: FakeClient, *, local: bool = False) -> ClusterConnection:
    kube = cast(KubeClient, client)
    resources = ApiResources()
    cache = LiveCache(Informers(None), lambda obj: None, lambda names: None)  # type: ignore[arg-type]  # no streams
    return ClusterConnection(cluster, kube, resources, cache,
                             cast(AppReconciler, FakeReconciler(cluster.server)), local=local, discovered=local)


class Clusters:
    """A ClusterConnections over fakes, with a clock the test moves and a record of the connections made."""

    def __init__(self) -> None:
        self.now = 100.0
        self.made: list[ClusterConnection] = []
        self.clients: list[FakeClient] = []
        self.local = connection(LOCAL_CLUSTER, FakeClient(), local=True)
        self.table = ClusterConnections(self.local, self.connect, clock=lambda: self.now)

    def connect(self, cluster: ClusterConfig) -> ClusterConnection:
        client = FakeClient()
        self.clients.append(client)
        made = connection(cluster, client)
        self.made.append(made)
        return made


def app(app_name: str, **destination: str) -> dict[str, Any]:
    return {"metadata": {"name": app_name}, "spec": {"destination": {**destination, "namespace": "web"}}}


def reconciler_of(made: ClusterConnection) -> FakeReconciler:
    return cast(FakeReconciler, made.reconciler)


def test_no_connection_is_made_until_an_application_targets_the_cluster() -> None:
    clusters = Clusters()
    clusters.table.set_clusters([LOCAL_CLUSTER, EDGE])
    clusters.table.reconcile(app("local-web", server=LOCAL_CLUSTER.server))
    assert clusters.made == []
    clusters.table.reconcile(app("edge-web", name="edge"))
    clusters.table.reconcile(app("edge-api", server="https://edge:6443"))
    assert len(clusters.made) == 1
    assert [name for name, _ in reconciler_of(clusters.made[0]).passes] == ["edge-web", "edge-api"]
    assert [name for name, _ in reconciler_of(clusters.local).passes] == ["local-web"]


def test_a_changed_secret_closes_the_connection_and_the_next_pass_makes_a_new_one() -> None:
    clusters = Clusters()
    clusters.table.set_clusters([LOCAL_CLUSTER, EDGE])
    clusters.table.reconcile(app("edge-web", name="edge"))
    rotated = ClusterConfig(name="edge", server="https://edge:6443", bearer_token="tok-2")
    assert clusters.table.set_clusters([LOCAL_CLUSTER, rotated])
    assert clusters.clients[0].closed
    clusters.table.reconcile(app("edge-web", name="edge"))
    assert [made.cluster.bearer_token for made in clusters.made] == ["tok-1", "tok-2"]


def test_an_unchanged_secret_keeps_the_connection() -> None:
    clusters = Clusters()
    clusters.table.set_clusters([LOCAL_CLUSTER, EDGE])
    clusters.table.reconcile(app("edge-web", name="edge"))
    assert not clusters.table.set_clusters([LOCAL_CLUSTER, EDGE])
    clusters.table.reconcile(app("edge-web", name="edge"))
    assert len(clusters.made) == 1 and not clusters.clients[0].closed


def test_a_removed_secret_closes_the_connection_and_its_applications_become_invalid() -> None:
    clusters = Clusters()
    clusters.table.set_clusters([LOCAL_CLUSTER, EDGE])
    clusters.table.reconcile(app("edge-web", name="edge"))
    clusters.table.set_clusters([LOCAL_CLUSTER])
    assert clusters.clients[0].closed
    clusters.table.reconcile(app("edge-web", name="edge"))
    _, destination = reconciler_of(clusters.local).passes[-1]
    assert destination is not None and destination.invalid == (
        "spec.destination.name: there are no clusters with this name: edge")
    assert clusters.table.connections() == [clusters.local]


def test_an_application_moved_to_another_cluster_is_forgotten_by_the_previous_one() -> None:
    clusters = Clusters()
    clusters.table.set_clusters([LOCAL_CLUSTER, EDGE])
    clusters.table.reconcile(app("web", name="edge"))
    clusters.table.reconcile(app("web", name="in-cluster"))
    assert reconciler_of(clusters.made[0]).forgotten == ["web"]
    assert reconciler_of(clusters.local).forgotten == []


def test_an_unreachable_cluster_is_asked_again_only_after_a_doubling_backoff() -> None:
    clusters = Clusters()
    clusters.table.set_clusters([LOCAL_CLUSTER, EDGE])
    clusters.table.destination(app("edge-web", name="edge"))  # the connection, made answering
    client = clusters.clients[0]
    made = clusters.made[0]
    made.discovered = False  # as before its first discovery
    client.down = True
    client.requests = 0
    asked: list[tuple[float | None, int]] = []
    for step in (0.0, 0.5, 0.5, 1.0, 1.0, 2.0):  # seconds passing between passes
        clusters.now += step
        destination, _ = clusters.table.destination(app("edge-web", name="edge"))
        assert destination.unreachable == ("failed to sync cluster https://edge:6443 (edge): cannot reach the "
                                           "Kubernetes API at https://edge:6443: Connection refused")
        asked.append((destination.retry_after, client.requests))
    # Asked at t=0 (1 s backoff), t=1 (2 s), t=3 (4 s); in between the last error is reported with the time left.
    assert asked == [(1.0, 1), (0.5, 1), (2.0, 2), (1.0, 2), (4.0, 3), (2.0, 3)]


def test_a_cluster_that_answers_again_is_usable_without_a_new_connection() -> None:
    clusters = Clusters()
    clusters.table.set_clusters([LOCAL_CLUSTER, EDGE])
    clusters.table.destination(app("edge-web", name="edge"))
    clusters.made[0].discovered = False
    clusters.clients[0].down = True
    assert clusters.table.destination(app("edge-web", name="edge"))[0].unreachable is not None
    clusters.clients[0].down = False
    clusters.now += 1.0
    destination, reconciler = clusters.table.destination(app("edge-web", name="edge"))
    assert destination.usable and reconciler is clusters.made[0].reconciler and len(clusters.made) == 1
    assert clusters.made[0].failures == 0


def test_forget_reaches_every_clusters_reconciler() -> None:
    clusters = Clusters()
    clusters.table.set_clusters([LOCAL_CLUSTER, EDGE])
    clusters.table.reconcile(app("edge-web", name="edge"))
    clusters.table.forget("edge-web")
    assert reconciler_of(clusters.local).forgotten == ["edge-web"]
    assert reconciler_of(clusters.made[0]).forgotten == ["edge-web"]
