"""The sandbox's controller simulators over HTTP: every kind Argo CD's health checks read reports its status the
way the Kubernetes controllers do, and the pod-template annotations steer the simulated kubelet."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio

from sandbox.cluster import Sandbox
from sandbox.controllers import ControllerDelays
from tests.emulator_json_api import JsonApi

T = TypeVar("T")
NS = "default"
PODS = f"/api/v1/namespaces/{NS}/pods"
JOBS = f"/apis/batch/v1/namespaces/{NS}/jobs"
CRONJOBS = f"/apis/batch/v1/namespaces/{NS}/cronjobs"
STATEFULSETS = f"/apis/apps/v1/namespaces/{NS}/statefulsets"
DAEMONSETS = f"/apis/apps/v1/namespaces/{NS}/daemonsets"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
CLAIMS = f"/api/v1/namespaces/{NS}/persistentvolumeclaims"
SERVICES = f"/api/v1/namespaces/{NS}/services"
INGRESSES = f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses"
AUTOSCALERS = f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers"
# Generous: these fail a test only when the awaited status never comes.
TIMEOUT = 20.0


async def eventually(fetch: Callable[[], Awaitable[T]], predicate: Callable[[T], bool], timeout: float = TIMEOUT) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.02)


class Api(JsonApi):
    """HTTP against the sandbox, with the paths' `default` namespace swapped for the test's own."""

    def __init__(self, client: httpx.AsyncClient, namespace: str) -> None:
        super().__init__(client)
        self.namespace = namespace

    def path(self, path: str) -> str:
        return path.replace(f"/namespaces/{NS}/", f"/namespaces/{self.namespace}/")

    async def get_or_none(self, path: str) -> dict[str, Any] | None:
        response = await self.client.get(self.path(path))
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    async def items(self, path: str, selector: str = "") -> list[dict[str, Any]]:
        params = {"labelSelector": selector} if selector else {}
        response = await self.client.get(self.path(path), params=params)
        response.raise_for_status()
        return response.json()["items"]  # type: ignore[no-any-return]

    async def delete(self, path: str) -> None:
        (await self.client.delete(self.path(path))).raise_for_status()

    def status_of(self, path: str) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def fetch() -> dict[str, Any]:
            return (await self.get(path)).get("status") or {}

        return fetch


# One sandbox for the module (starting one takes about a second); each test works in a namespace of its own.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox() -> AsyncIterator[Sandbox]:
    delays = ControllerDelays(bind=0.2, load_balancer=0.2, job_retry_backoff=0.0, autoscaler_period=0.2)
    async with Sandbox(ready_delay=0.2, nodes=2, controller_delays=delays) as value:
        yield value


_namespaces = iter(range(1_000_000))


@pytest_asyncio.fixture(loop_scope="module")
async def cluster(sandbox: Sandbox) -> AsyncIterator[tuple[Sandbox, Api]]:
    namespace = f"test-{next(_namespaces)}"
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        (await client.post("/api/v1/namespaces", json=body)).raise_for_status()
        yield sandbox, Api(client, namespace)


@pytest.fixture
def api(cluster: tuple[Sandbox, Api]) -> Api:
    return cluster[1]


def template(
    *, annotations: dict[str, str] | None = None, restart: str | None = None, image: str = "app:1"
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": image}]}
    if restart:
        spec["restartPolicy"] = restart
    metadata: dict[str, Any] = {"labels": {"app": "demo"}}
    if annotations:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "spec": spec}


def job(name: str, *, annotations: dict[str, str] | None = None, restart: str = "Never", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": template(annotations=annotations, restart=restart), **spec},
    }


def condition(status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or () if c.get("type") == kind), None)


def finished(status: dict[str, Any]) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in status.get("conditions") or ()
    )


def is_ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions", []))


# --- Job ----------------------------------------------------------------------------------------------------


async def test_job_exiting_1_with_backoff_limit_1_fails_with_backoff_limit_exceeded(api: Api) -> None:
    """Issue #10's acceptance: backoffLimit 1 allows one retry; the second failure fails the Job."""
    await api.create(JOBS, job("migrate", annotations={"sandbox.rollouts/exit-code": "1"}, backoffLimit=1))
    status = await eventually(api.status_of(f"{JOBS}/migrate"), finished)
    failed = condition(status, "Failed")
    assert failed is not None and failed["status"] == "True"
    assert failed["reason"] == "BackoffLimitExceeded"
    assert failed["message"] == "Job has reached the specified backoff limit"
    target = condition(status, "FailureTarget")
    assert target is not None and target["reason"] == "BackoffLimitExceeded"
    assert status["failed"] == 2
    assert "succeeded" not in status and "completionTime" not in status
    pods = await api.items(PODS, "batch.kubernetes.io/job-name=migrate")
    assert len(pods) == 2
    assert {p["status"]["phase"] for p in pods} == {"Failed"}
    terminated = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (1, "Error")


async def test_job_exiting_0_completes_with_completions_reached(api: Api) -> None:
    await api.create(JOBS, job("hello", backoffLimit=1))
    status = await eventually(api.status_of(f"{JOBS}/hello"), finished)
    for kind in ("SuccessCriteriaMet", "Complete"):
        entry = condition(status, kind)
        assert entry is not None
        assert (entry["status"], entry["reason"], entry["message"]) == (
            "True",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
        )
    assert condition(status, "Failed") is None
    assert status["succeeded"] == 1
    assert "active" not in status and status["ready"] == 0
    assert status["startTime"] <= status["completionTime"]
    (pod,) = await api.items(PODS, "job-name=hello")
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["metadata"]["generateName"] == "hello-"
    (owner,) = pod["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Job", "hello", True)


async def test_job_runs_parallelism_pods_at_a_time_until_completions_succeed(api: Api) -> None:
    await api.create(JOBS, job("batch", completions=3, parallelism=2))
    active = await eventually(api.status_of(f"{JOBS}/batch"), lambda s: s.get("active") == 2)
    assert "succeeded" not in active
    status = await eventually(api.status_of(f"{JOBS}/batch"), finished)
    assert condition(status, "Complete") is not None
    assert status["succeeded"] == 3
    assert len(await api.items(PODS, "job-name=batch")) == 3


async def test_job_running_past_its_active_deadline_fails_with_deadline_exceeded(api: Api) -> None:
    slow = {"sandbox.rollouts/run-seconds": "600"}
    await api.create(JOBS, job("slow", annotations=slow, activeDeadlineSeconds=1))
    status = await eventually(api.status_of(f"{JOBS}/slow"), finished)
    failed = condition(status, "Failed")
    assert failed is not None
    assert (failed["reason"], failed["message"]) == (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    )
    # The running pod is deleted and counted as failed.
    assert status["failed"] == 1
    await eventually(lambda: api.items(PODS, "job-name=slow"), lambda pods: pods == [])


async def test_run_seconds_sets_how_long_a_job_container_runs(api: Api) -> None:
    await api.create(JOBS, job("timed", annotations={"sandbox.rollouts/run-seconds": "2"}))
    running = await eventually(
        lambda: api.items(PODS, "job-name=timed"),
        lambda p: bool(p) and (p[0].get("status") or {}).get("phase") == "Running",
    )
    assert running[0]["status"]["containerStatuses"][0]["state"].get("running")
    await eventually(api.status_of(f"{JOBS}/timed"), finished)
    (pod,) = await api.items(PODS, "job-name=timed")
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    started = time.mktime(time.strptime(pod["status"]["startTime"], "%Y-%m-%dT%H:%M:%SZ"))
    ended = time.mktime(time.strptime(terminated["finishedAt"], "%Y-%m-%dT%H:%M:%SZ"))
    # Whole-second timestamps: 0.2 s to start plus 2 s of running is at least 2 s on the clock.
    assert ended - started >= 2


async def test_ttl_seconds_after_finished_deletes_the_job_and_its_pods(api: Api) -> None:
    await api.create(JOBS, job("once", ttlSecondsAfterFinished=0))
    await eventually(lambda: api.get_or_none(f"{JOBS}/once"), lambda j: j is None)
    await eventually(lambda: api.items(PODS, "job-name=once"), lambda pods: pods == [])


async def test_suspended_job_runs_no_pods_until_resumed(api: Api) -> None:
    await api.create(JOBS, job("later", suspend=True))
    status = await eventually(api.status_of(f"{JOBS}/later"), lambda s: condition(s, "Suspended") is not None)
    suspended = condition(status, "Suspended")
    assert suspended is not None
    assert (suspended["status"], suspended["reason"], suspended["message"]) == ("True", "JobSuspended", "Job suspended")
    assert "active" not in status and "startTime" not in status
    assert await api.items(PODS, "job-name=later") == []
    await api.patch(f"{JOBS}/later", {"spec": {"suspend": False}})
    status = await eventually(api.status_of(f"{JOBS}/later"), finished)
    resumed = condition(status, "Suspended")
    assert resumed is not None and (resumed["status"], resumed["reason"]) == ("False", "JobResumed")
    assert condition(status, "Complete") is not None


async def test_on_failure_job_restarts_its_container_until_the_backoff_limit(api: Api) -> None:
    annotations = {"sandbox.rollouts/exit-code": "3", "sandbox.rollouts/run-seconds": "0.1"}
    await api.create(JOBS, job("flaky", annotations=annotations, restart="OnFailure", backoffLimit=2))
    status = await eventually(api.status_of(f"{JOBS}/flaky"), finished)
    failed = condition(status, "Failed")
    assert failed is not None and failed["reason"] == "BackoffLimitExceeded"
    # One pod restarted in place, then deleted by the controller: counted as one failure.
    assert status["failed"] == 1


# --- the kubelet's annotations on long-running pods -------------------------------------------------------


def deployment(name: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": annotations},
                "spec": {"containers": [{"name": "main", "image": "app:1"}]},
            },
        },
    }


async def test_ready_false_keeps_a_running_pod_unready(api: Api) -> None:
    await api.create(DEPLOYMENTS, deployment("lame", {"sandbox.rollouts/ready": "false"}))
    (pod,) = await eventually(
        lambda: api.items(PODS, "app=lame"),
        lambda p: len(p) == 1 and (p[0].get("status") or {}).get("phase") == "Running",
    )
    assert not is_ready(pod)
    container = pod["status"]["containerStatuses"][0]
    assert container["ready"] is False and "running" in container["state"]
    status = await eventually(api.status_of(f"{DEPLOYMENTS}/lame"), lambda s: s.get("replicas") == 1)
    assert "readyReplicas" not in status


async def test_non_zero_exit_code_puts_a_long_running_pod_in_crash_loop_back_off(api: Api) -> None:
    await api.create(DEPLOYMENTS, deployment("crashy", {"sandbox.rollouts/exit-code": "137"}))
    (pod,) = await eventually(
        lambda: api.items(PODS, "app=crashy"),
        lambda p: (
            len(p) == 1 and bool((p[0].get("status") or {}).get("containerStatuses", [{}])[0].get("restartCount"))
        ),
    )
    container = pod["status"]["containerStatuses"][0]
    assert container["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert container["lastState"]["terminated"]["exitCode"] == 137
    assert pod["status"]["phase"] == "Running" and not is_ready(pod)


async def test_simulate_false_leaves_an_object_to_the_test(api: Api) -> None:
    manual = job("manual")
    manual["metadata"]["annotations"] = {"sandbox.rollouts/simulate": "false"}
    await api.create(JOBS, manual)
    # A Job created after it is handled: the controller has seen (and skipped) the first one.
    await api.create(JOBS, job("auto"))
    await eventually(api.status_of(f"{JOBS}/auto"), finished)
    assert (await api.get(f"{JOBS}/manual")).get("status") in (None, {})
    assert await api.items(PODS, "job-name=manual") == []


async def test_simulate_false_on_a_pod_leaves_it_to_the_test(api: Api) -> None:
    def bare_pod(name: str, annotations: dict[str, str]) -> dict[str, Any]:
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": annotations}}
        return {**body, "spec": {"containers": [{"name": "main", "image": "app:1"}]}}

    await api.create(PODS, bare_pod("manual", {"sandbox.rollouts/simulate": "false"}))
    await api.create(PODS, bare_pod("auto", {}))
    await eventually(lambda: api.get(f"{PODS}/auto"), is_ready)
    assert (await api.get(f"{PODS}/manual")).get("status") in (None, {})


# --- StatefulSet --------------------------------------------------------------------------------------------


def statefulset(name: str = "db", replicas: int = 3, image: str = "db:1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "db", "image": image}]},
            },
            **spec,
        },
    }


def pod_requests(sandbox: Sandbox, api: Api, verb: str) -> list[str]:
    return [
        r.name
        for r in sandbox.emulator.requests
        if r.resource == "pods" and r.verb == verb and r.name and r.namespace == api.namespace
    ]


async def test_statefulset_creates_ordinal_pods_one_at_a_time_each_after_the_previous_is_ready(api: Api) -> None:
    await api.create(STATEFULSETS, statefulset())
    seen_ready_before: dict[str, bool] = {}

    async def observe() -> list[dict[str, Any]]:
        pods = {p["metadata"]["name"]: p for p in await api.items(PODS, "app=db")}
        for ordinal in (1, 2):
            name, previous = f"db-{ordinal}", pods.get(f"db-{ordinal - 1}")
            if name in pods and name not in seen_ready_before:
                seen_ready_before[name] = previous is not None and is_ready(previous)
        return list(pods.values())

    await eventually(observe, lambda pods: len(pods) == 3 and all(is_ready(p) for p in pods))
    assert seen_ready_before == {"db-1": True, "db-2": True}
    status = await eventually(api.status_of(f"{STATEFULSETS}/db"), lambda s: s.get("availableReplicas") == 3)
    revision = status["updateRevision"]
    assert revision.startswith("db-")
    assert status == {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 3,
        "updatedReplicas": 3,
        "availableReplicas": 3,
        "currentRevision": revision,
        "updateRevision": revision,
        "collisionCount": 0,
    }
    pod = await api.get(f"{PODS}/db-1")
    assert pod["metadata"]["labels"]["controller-revision-hash"] == revision
    assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "db-1"
    assert pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("db-1", "db")


async def test_parallel_statefulset_creates_all_pods_without_waiting(api: Api) -> None:
    never_ready = statefulset(podManagementPolicy="Parallel")
    never_ready["spec"]["template"]["metadata"]["annotations"] = {"sandbox.rollouts/ready": "false"}
    await api.create(STATEFULSETS, never_ready)
    pods = await eventually(lambda: api.items(PODS, "app=db"), lambda p: len(p) == 3)
    assert sorted(p["metadata"]["name"] for p in pods) == ["db-0", "db-1", "db-2"]
    assert not any(is_ready(p) for p in pods)


async def test_statefulset_rolling_update_replaces_pods_from_the_highest_ordinal(cluster: tuple[Sandbox, Api]) -> None:
    sandbox, api = cluster
    await api.create(STATEFULSETS, statefulset())
    old = await eventually(api.status_of(f"{STATEFULSETS}/db"), lambda s: s.get("availableReplicas") == 3)
    deletes_before = len(pod_requests(sandbox, api, "delete"))
    await api.patch(
        f"{STATEFULSETS}/db", {"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "db:2"}]}}}}
    )
    rolling = await eventually(api.status_of(f"{STATEFULSETS}/db"), lambda s: s.get("observedGeneration") == 2)
    assert rolling["currentRevision"] == old["currentRevision"]
    assert rolling["updateRevision"] != old["updateRevision"]
    done = await eventually(
        api.status_of(f"{STATEFULSETS}/db"),
        lambda s: s.get("currentRevision") == s.get("updateRevision") and s.get("readyReplicas") == 3,
    )
    assert done["updatedReplicas"] == 3 and done["currentReplicas"] == 3
    assert pod_requests(sandbox, api, "delete")[deletes_before:] == ["db-2", "db-1", "db-0"]
    pods = await api.items(PODS, "app=db")
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"db:2"}


async def test_statefulset_scales_down_from_the_highest_ordinal(cluster: tuple[Sandbox, Api]) -> None:
    sandbox, api = cluster
    await api.create(STATEFULSETS, statefulset())
    await eventually(api.status_of(f"{STATEFULSETS}/db"), lambda s: s.get("readyReplicas") == 3)
    await api.patch(f"{STATEFULSETS}/db", {"spec": {"replicas": 1}})
    pods = await eventually(lambda: api.items(PODS, "app=db"), lambda p: len(p) == 1)
    assert pods[0]["metadata"]["name"] == "db-0"
    assert pod_requests(sandbox, api, "delete") == ["db-2", "db-1"]


async def test_statefulset_claim_templates_become_bound_claims_per_ordinal(api: Api) -> None:
    claim_template = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}},
    }
    await api.create(STATEFULSETS, statefulset(replicas=2, volumeClaimTemplates=[claim_template]))
    claims = await eventually(
        lambda: api.items(CLAIMS),
        lambda c: len(c) == 2 and all((x.get("status") or {}).get("phase") == "Bound" for x in c),
    )
    assert sorted(c["metadata"]["name"] for c in claims) == ["data-db-0", "data-db-1"]
    pod = await api.get(f"{PODS}/db-0")
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}} in pod["spec"]["volumes"]


# --- DaemonSet ----------------------------------------------------------------------------------------------


def daemonset(name: str = "agent", **template_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "agent", "image": "agent:1"}], **template_spec},
            },
        },
    }


async def test_daemonset_runs_one_pod_on_each_simulated_node(api: Api) -> None:
    await api.create(DAEMONSETS, daemonset())
    status = await eventually(api.status_of(f"{DAEMONSETS}/agent"), lambda s: s.get("numberAvailable") == 2)
    assert status == {
        "currentNumberScheduled": 2,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 2,
        "numberReady": 2,
        "observedGeneration": 1,
        "updatedNumberScheduled": 2,
        "numberAvailable": 2,
    }
    pods = await api.items(PODS, "app=agent")
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["sandbox-node", "sandbox-node-2"]
    nodes = (await api.get("/api/v1/nodes"))["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == ["sandbox-node", "sandbox-node-2"]


async def test_daemonset_with_an_unmatched_node_selector_wants_no_pods(api: Api) -> None:
    await api.create(DAEMONSETS, daemonset(nodeSelector={"disktype": "ssd"}))
    status = await eventually(api.status_of(f"{DAEMONSETS}/agent"), lambda s: "desiredNumberScheduled" in s)
    assert status["desiredNumberScheduled"] == 0 and status["currentNumberScheduled"] == 0
    assert await api.items(PODS, "app=agent") == []


async def test_daemonset_update_replaces_every_pod(api: Api) -> None:
    await api.create(DAEMONSETS, daemonset())
    await eventually(api.status_of(f"{DAEMONSETS}/agent"), lambda s: s.get("numberAvailable") == 2)
    await api.patch(
        f"{DAEMONSETS}/agent", {"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}}}
    )
    await eventually(
        api.status_of(f"{DAEMONSETS}/agent"),
        lambda s: (
            s.get("observedGeneration") == 2 and s.get("updatedNumberScheduled") == 2 and s.get("numberAvailable") == 2
        ),
    )
    pods = await eventually(lambda: api.items(PODS, "app=agent"), lambda p: len(p) == 2)
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"agent:2"}


# --- CronJob ------------------------------------------------------------------------------------------------


async def test_cronjob_starts_the_due_job_and_records_its_schedule_and_success(api: Api) -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template(restart="Never")}}},
    }
    await api.create(CRONJOBS, cronjob)
    # As if the last run were long ago: the current minute is due at once instead of at the next one.
    await api.patch(f"{CRONJOBS}/report/status", {"status": {"lastScheduleTime": "2020-01-01T00:00:00Z"}})
    status = await eventually(api.status_of(f"{CRONJOBS}/report"), lambda s: s.get("lastScheduleTime", "2020") > "2021")
    jobs = await eventually(lambda: api.items(JOBS), lambda j: len(j) == 1)
    scheduled = time.mktime(time.strptime(status["lastScheduleTime"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert jobs[0]["metadata"]["name"] == f"report-{int(scheduled) // 60}"
    assert (
        jobs[0]["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        == status["lastScheduleTime"]
    )
    done = await eventually(
        api.status_of(f"{CRONJOBS}/report"), lambda s: "lastSuccessfulTime" in s and "active" not in s
    )
    job_status = (await api.get(f"{JOBS}/{jobs[0]['metadata']['name']}"))["status"]
    assert done["lastSuccessfulTime"] == job_status["completionTime"]


# --- storage, networking, autoscaling -----------------------------------------------------------------------


def claim(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, **spec},
    }


async def test_claim_without_a_class_is_bound_by_the_default_storage_class(api: Api) -> None:
    classes = (await api.get("/apis/storage.k8s.io/v1/storageclasses"))["items"]
    (standard,) = classes
    assert standard["metadata"]["name"] == "standard"
    assert standard["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    created = await api.create(CLAIMS, claim("data"))
    status = await eventually(api.status_of(f"{CLAIMS}/data"), lambda s: s.get("phase") == "Bound")
    assert status == {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}
    bound = await api.get(f"{CLAIMS}/data")
    volume_name = f"pvc-{created['metadata']['uid']}"
    assert bound["spec"]["volumeName"] == volume_name
    assert bound["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"
    volume = await eventually(
        lambda: api.get(f"/api/v1/persistentvolumes/{volume_name}"),
        lambda v: (v.get("status") or {}).get("phase") == "Bound",
    )
    assert volume["spec"]["claimRef"]["uid"] == created["metadata"]["uid"]
    assert volume["spec"]["storageClassName"] == "standard"
    # Reclaim policy Delete: the volume goes with its claim.
    await api.delete(f"{CLAIMS}/data")
    await eventually(lambda: api.get_or_none(f"/api/v1/persistentvolumes/{volume_name}"), lambda v: v is None)


async def test_claim_naming_a_missing_storage_class_stays_pending(api: Api) -> None:
    await api.create(CLAIMS, claim("orphan", storageClassName="fast-ssd"))
    status = await eventually(api.status_of(f"{CLAIMS}/orphan"), lambda s: "phase" in s)
    assert status == {"phase": "Pending"}
    assert "volumeName" not in (await api.get(f"{CLAIMS}/orphan"))["spec"]


async def test_load_balancer_service_gets_an_ingress_address(api: Api) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "front"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "demo"}, "ports": [{"port": 80}]},
    }
    await api.create(SERVICES, service)
    status = await eventually(
        api.status_of(f"{SERVICES}/front"), lambda s: bool((s.get("loadBalancer") or {}).get("ingress"))
    )
    (point,) = status["loadBalancer"]["ingress"]
    assert point["ip"].startswith("192.0.2.") and point["ipMode"] == "VIP"


async def test_ingress_gets_the_ingress_controllers_address(api: Api) -> None:
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {"rules": [{"host": "web.example.com"}]},
    }
    await api.create(INGRESSES, ingress)
    status = await eventually(
        api.status_of(f"{INGRESSES}/web"), lambda s: bool((s.get("loadBalancer") or {}).get("ingress"))
    )
    assert status["loadBalancer"]["ingress"] == [{"ip": "192.0.2.1"}]


async def test_autoscaler_reports_its_targets_replicas_and_holds_them_within_bounds(api: Api) -> None:
    await api.create(DEPLOYMENTS, {**deployment("api", {}), "spec": {**deployment("api", {})["spec"], "replicas": 1}})
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "api"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
            "minReplicas": 2,
            "maxReplicas": 5,
        },
    }
    await api.create(AUTOSCALERS, hpa)
    status = await eventually(
        api.status_of(f"{AUTOSCALERS}/api"), lambda s: s.get("currentReplicas") == 2 and s.get("desiredReplicas") == 2
    )
    assert (await api.get(f"{DEPLOYMENTS}/api"))["spec"]["replicas"] == 2
    assert "lastScaleTime" in status
    able = condition(status, "AbleToScale")
    assert able is not None and able["status"] == "True"


# --- Namespace deletion -------------------------------------------------------------------------------------


async def test_deleting_a_namespace_removes_its_objects_then_the_namespace(api: Api) -> None:
    await api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
    jobs = "/apis/batch/v1/namespaces/doomed/jobs"
    await api.create(jobs, {**job("work"), "metadata": {"name": "work", "namespace": "doomed"}})
    held = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "held", "namespace": "doomed", "finalizers": ["example.com/hold"]},
    }
    await api.create("/api/v1/namespaces/doomed/configmaps", held)
    await eventually(lambda: api.items("/api/v1/namespaces/doomed/pods"), lambda p: len(p) == 1)
    (await api.client.delete("/api/v1/namespaces/doomed")).raise_for_status()
    namespace = await api.get("/api/v1/namespaces/doomed")
    assert namespace["status"]["phase"] == "Terminating"
    assert namespace["metadata"]["deletionTimestamp"]
    assert await api.items(jobs) == []
    assert await api.items("/api/v1/namespaces/doomed/pods") == []
    # The finalizer holds the last object, and so the namespace.
    assert (await api.get("/api/v1/namespaces/doomed/configmaps/held"))["metadata"]["deletionTimestamp"]
    await api.patch("/api/v1/namespaces/doomed/configmaps/held", {"metadata": {"finalizers": None}})
    await eventually(lambda: api.get_or_none("/api/v1/namespaces/doomed"), lambda ns: ns is None)
