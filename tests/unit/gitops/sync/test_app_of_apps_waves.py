"""Sync waves of child Applications in an App of Apps: without Application health (Argo CD ≥ 1.8's default) the
next wave does not wait for a child; with ``--application-health`` it waits until the child is Synced and Healthy,
and a Degraded child fails the operation as a Degraded resource would (gitops-engine sync_context.go)."""

from __future__ import annotations

from dataclasses import dataclass

from gitops.health import resource_health
from gitops.resources import Health, JsonObject, ResourceKey
from tests.unit.gitops.sync.fake_cluster import Driver, FakeCluster, application

CHILD_KEY = ResourceKey("argoproj.io", "Application", "argocd", "child-a")


def child_app(name: str, wave: int) -> JsonObject:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd",
                     "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}},
        "spec": {"source": {"repoURL": "https://git.example/apps.git", "path": name},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": name}},
    }


@dataclass
class AppCluster(FakeCluster):
    """A fake cluster whose health is the real check, with or without Application health."""

    assess_applications: bool = False

    def health(self, obj: JsonObject) -> Health | None:
        return resource_health(obj, assess_applications=self.assess_applications)

    def report(self, sync: str, health: str) -> None:
        """The child's own controller writes its status (compared against the spec the parent applied)."""
        obj = self.objects[CHILD_KEY]
        obj["status"] = {"sync": {"status": sync, "comparedTo": {"source": obj["spec"]["source"],
                                                                 "destination": obj["spec"]["destination"]}},
                         "health": {"status": health}}


def parent(cluster: AppCluster) -> Driver:
    return Driver(application(), [child_app("child-a", 0), child_app("child-b", 1)], cluster)


def test_without_application_health_the_next_wave_does_not_wait_for_a_child() -> None:
    cluster = AppCluster()
    state = parent(cluster).run()
    assert state["phase"] == "Succeeded"
    assert cluster.writes == [("apply", "Application/child-a"), ("apply", "Application/child-b")]


def test_with_application_health_the_next_wave_waits_for_the_child_naming_it() -> None:
    cluster = AppCluster(assess_applications=True)
    driver = parent(cluster)
    for _ in range(4):
        driver.one_pass()
    assert cluster.writes == [("apply", "Application/child-a")]
    assert driver.state is not None
    assert driver.state["message"] == "waiting for healthy state of argoproj.io/Application/child-a"


def test_a_healthy_but_out_of_sync_child_still_holds_the_wave() -> None:
    cluster = AppCluster(assess_applications=True)
    driver = parent(cluster)
    driver.one_pass()
    driver.one_pass()
    cluster.report("OutOfSync", "Healthy")
    driver.one_pass()
    driver.one_pass()
    assert cluster.writes == [("apply", "Application/child-a")]


def test_the_next_wave_starts_once_the_child_is_synced_and_healthy() -> None:
    cluster = AppCluster(assess_applications=True)
    driver = parent(cluster)
    driver.one_pass()
    driver.one_pass()
    cluster.report("Synced", "Healthy")
    state = driver.run()
    assert state["phase"] == "Succeeded"
    assert cluster.writes == [("apply", "Application/child-a"), ("apply", "Application/child-b")]


def test_a_degraded_child_fails_the_operation_before_the_next_wave() -> None:
    cluster = AppCluster(assess_applications=True)
    driver = parent(cluster)
    driver.one_pass()
    driver.one_pass()
    cluster.report("Synced", "Degraded")
    state = driver.run()
    assert (state["phase"], state["message"]) == ("Failed", "one or more synchronization tasks completed "
                                                            "unsuccessfully")
    assert cluster.writes == [("apply", "Application/child-a")]
