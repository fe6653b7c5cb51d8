"""The job provider against the sandbox's API emulator.

Nothing runs the Jobs here (the workload simulator does not), so each test writes the Job's status itself,
as the job controller would, through the status subresource.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest
import yaml

from analysis.providers import MeasurementContext, ProviderError, ProviderResult, provider_for
from analysis.providers.job import DEFAULT_POLL_INTERVAL, JobProvider
from kube.client import AsyncKubeClient, KubeClient
from sandbox.emulator import ApiEmulator, EmulatorThread

CRD_FILE = Path(__file__).resolve().parents[3] / "crds" / "argoproj.io_analysisruns.yaml"
_namespaces = itertools.count()

SPEC: dict[str, Any] = {
    "backoffLimit": 0,
    "template": {
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "smoke", "image": "busybox", "command": ["sh", "-c", "exit 0"]}],
        }
    },
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmulatorThread]:
    with EmulatorThread() as thread:
        thread.emulator.register_crd(yaml.safe_load(CRD_FILE.read_text()))
        yield thread


@pytest.fixture
def emulator(cluster: EmulatorThread) -> ApiEmulator:
    return cluster.emulator


@pytest.fixture
async def kube(cluster: EmulatorThread) -> AsyncIterator[AsyncKubeClient]:
    api = kubernetes.client.ApiClient(kubernetes.client.Configuration(host=cluster.url))
    client = AsyncKubeClient(KubeClient(api, timeout=10))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def namespace(emulator: ApiEmulator) -> str:
    """A fresh namespace per test, so that listing Jobs never sees another test's."""
    name = f"jobs-{next(_namespaces)}"
    emulator.create_object("", "v1", "namespaces", {"metadata": {"name": name}})
    return name


def new_run(emulator: ApiEmulator, namespace: str, name: str = "web-6d4f-2") -> dict[str, Any]:
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": name},
        "spec": {"metrics": [{"name": "smoke", "provider": {"job": {"spec": SPEC}}}]},
    }
    return emulator.create_object("argoproj.io", "v1alpha1", "analysisruns", body, namespace)


def context(
    run: dict[str, Any], metric_name: str = "smoke", index: int = 0, *, secrets: tuple[str, ...] = (),
    metadata: dict[str, Any] | None = None,
) -> MeasurementContext:
    job: dict[str, Any] = {"spec": SPEC}
    if metadata is not None:
        job["metadata"] = metadata
    return MeasurementContext(
        run_name=run["metadata"]["name"],
        run_namespace=run["metadata"]["namespace"],
        run_uid=run["metadata"]["uid"],
        metric_name=metric_name,
        metric={"name": metric_name, "provider": {"job": job}},
        secrets=secrets,
        measurement_index=index,
    )


def provider(kube: AsyncKubeClient, measurement: MeasurementContext) -> JobProvider:
    chosen = provider_for(measurement.metric, kube=kube)
    assert isinstance(chosen, JobProvider)
    return chosen


def set_condition(emulator: ApiEmulator, namespace: str, name: str, condition: dict[str, str]) -> None:
    emulator.patch_object("batch", "v1", "jobs", namespace, name, {"status": {"conditions": [condition]}},
                          subresource="status")


def job_names(emulator: ApiEmulator, namespace: str) -> list[str]:
    return sorted(job["metadata"]["name"] for job in emulator.list_objects("batch", "v1", "jobs", namespace))


async def test_run_creates_an_owned_job(kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str) -> None:
    run = new_run(emulator, namespace)
    uid = run["metadata"]["uid"]
    measurement = context(run, index=2, metadata={"labels": {"team": "web"}, "annotations": {"note": "smoke"}})
    result = await provider(kube, measurement).run(measurement)
    name = f"{uid}.smoke.3"
    assert result == ProviderResult(
        phase="Running", metadata={"job-name": name, "job-namespace": namespace}, resume_after=DEFAULT_POLL_INTERVAL
    )
    job = emulator.get_object("batch", "v1", "jobs", namespace, name)
    assert job is not None
    assert job["metadata"]["labels"] == {"team": "web", "analysisrun.argoproj.io/uid": uid}
    assert job["metadata"]["annotations"] == {
        "note": "smoke",
        "analysisrun.argoproj.io/name": "web-6d4f-2",
        "analysisrun.argoproj.io/metric-name": "smoke",
    }
    assert job["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AnalysisRun",
            "name": "web-6d4f-2",
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert job["spec"] == SPEC


async def test_resume_follows_the_job(kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str) -> None:
    run = new_run(emulator, namespace)
    first, second = context(run, index=0), context(run, index=1)
    jobs = provider(kube, first)
    started = await jobs.run(first)
    reference = started.metadata

    running = await jobs.resume(first, reference)
    assert (running.phase, running.resume_after, running.metadata) == ("Running", DEFAULT_POLL_INTERVAL, reference)

    set_condition(emulator, namespace, reference["job-name"], {"type": "Complete", "status": "True"})
    done = await jobs.resume(first, reference)
    assert done == ProviderResult(phase="Successful", metadata=reference)

    failing = (await jobs.run(second)).metadata
    set_condition(
        emulator,
        namespace,
        failing["job-name"],
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
         "message": "Job has reached the specified backoff limit"},
    )
    failed = await jobs.resume(second, failing)
    assert failed.phase == "Failed"
    assert failed.message == (
        f"job {namespace}/{failing['job-name']} failed: BackoffLimitExceeded: "
        "Job has reached the specified backoff limit"
    )


async def test_missing_job_is_an_error(kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str) -> None:
    run = new_run(emulator, namespace)
    measurement = context(run)
    jobs = provider(kube, measurement)
    reference = (await jobs.run(measurement)).metadata
    emulator.delete_object("batch", "v1", "jobs", namespace, reference["job-name"])
    with pytest.raises(ProviderError, match="no longer exists: it was deleted before it finished"):
        await jobs.resume(measurement, reference)
    with pytest.raises(ProviderError, match="job metadata reference missing"):
        await jobs.resume(measurement, {})


async def test_terminate_deletes_the_job(kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str) -> None:
    run = new_run(emulator, namespace)
    measurement = context(run)
    jobs = provider(kube, measurement)
    reference = (await jobs.run(measurement)).metadata
    assert job_names(emulator, namespace) == [reference["job-name"]]
    await jobs.terminate(measurement, reference)
    assert job_names(emulator, namespace) == []
    # Terminating again, or a measurement that never created its Job, is not an error.
    await jobs.terminate(measurement, reference)
    await jobs.terminate(measurement, {})


async def test_garbage_collect_keeps_the_newest(kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str) -> None:
    run = new_run(emulator, namespace)
    other_run = new_run(emulator, namespace, name="other")
    uid, other_uid = run["metadata"]["uid"], other_run["metadata"]["uid"]
    for index in range(12):  # past 10, so that ".10" must sort after ".9"
        measurement = context(run, index=index)
        await provider(kube, measurement).run(measurement)
    for measurement in (context(run, "latency", 0), context(other_run, index=0)):
        await provider(kube, measurement).run(measurement)

    measurement = context(run)
    await provider(kube, measurement).garbage_collect(measurement, 3)

    assert job_names(emulator, namespace) == sorted(
        [f"{uid}.smoke.10", f"{uid}.smoke.11", f"{uid}.smoke.12", f"{uid}.latency.1", f"{other_uid}.smoke.1"]
    )
    await provider(kube, measurement).garbage_collect(measurement, 0)
    assert job_names(emulator, namespace) == sorted([f"{uid}.latency.1", f"{other_uid}.smoke.1"])


async def test_run_is_idempotent_for_its_own_job(
    kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str
) -> None:
    run = new_run(emulator, namespace)
    measurement = context(run)
    jobs = provider(kube, measurement)
    first = await jobs.run(measurement)
    again = await jobs.run(measurement)  # a controller that restarted before recording the measurement
    assert again == first
    assert job_names(emulator, namespace) == [first.metadata["job-name"]]


async def test_run_refuses_a_job_of_another_run(
    kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str
) -> None:
    run = new_run(emulator, namespace)
    measurement = context(run)
    name = f"{run['metadata']['uid']}.smoke.1"
    emulator.create_object("batch", "v1", "jobs", {"metadata": {"name": name}, "spec": SPEC}, namespace)
    with pytest.raises(ProviderError, match="already exists and belongs to another AnalysisRun or metric"):
        await provider(kube, measurement).run(measurement)


async def test_deleting_the_run_deletes_its_jobs(
    kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str
) -> None:
    run = new_run(emulator, namespace)
    for index in range(2):
        measurement = context(run, index=index)
        await provider(kube, measurement).run(measurement)
    assert len(job_names(emulator, namespace)) == 2
    emulator.delete_object("argoproj.io", "v1alpha1", "analysisruns", namespace, run["metadata"]["name"])
    assert job_names(emulator, namespace) == []


async def test_failure_messages_are_masked(kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str) -> None:
    run = new_run(emulator, namespace)
    measurement = context(run, secrets=("hunter2",))
    jobs = provider(kube, measurement)
    reference = (await jobs.run(measurement)).metadata
    set_condition(emulator, namespace, reference["job-name"],
                  {"type": "Failed", "status": "True", "reason": "Error", "message": "login hunter2 refused"})
    failed = await jobs.resume(measurement, reference)
    assert failed.message.endswith("failed: Error: login ***** refused")


async def test_unreachable_api_is_an_error(emulator: ApiEmulator, namespace: str) -> None:
    run = new_run(emulator, namespace)
    api = kubernetes.client.ApiClient(kubernetes.client.Configuration(host="http://127.0.0.1:1"))
    kube = AsyncKubeClient(KubeClient(api, timeout=2))
    try:
        measurement = context(run)
        with pytest.raises(ProviderError, match=r"could not create job .*cannot reach the Kubernetes API"):
            await provider(kube, measurement).run(measurement)
    finally:
        kube.close()


async def test_a_run_without_uid_cannot_own_jobs(kube: AsyncKubeClient) -> None:
    measurement = MeasurementContext(
        run_name="r", run_namespace="default", run_uid="", metric_name="smoke",
        metric={"name": "smoke", "provider": {"job": {"spec": SPEC}}},
    )
    with pytest.raises(ProviderError, match="has no uid"):
        await provider(kube, measurement).run(measurement)


async def test_a_job_metric_without_spec(kube: AsyncKubeClient) -> None:
    measurement = MeasurementContext(
        run_name="r", run_namespace="default", run_uid="u", metric_name="smoke",
        metric={"name": "smoke", "provider": {"job": {"metadata": {}}}},
    )
    with pytest.raises(ProviderError, match="invalid job provider: spec"):
        await provider(kube, measurement).run(measurement)


# --- issue #15 item 4: a forged measurement status must not make the controller delete others' Jobs ----------


def foreign_job(emulator: ApiEmulator, namespace: str, name: str = "payments-migration") -> dict[str, Any]:
    return emulator.create_object("batch", "v1", "jobs", {"metadata": {"name": name}, "spec": SPEC}, namespace)


async def test_terminate_leaves_a_job_in_another_namespace_alone(
    kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str
) -> None:
    """Anyone who can write ``analysisruns/status`` can name any Job in ``job-namespace``; only the run's own
    namespace is ever touched."""
    other_namespace = f"{namespace}-victim"
    emulator.create_object("", "v1", "namespaces", {"metadata": {"name": other_namespace}})
    foreign_job(emulator, other_namespace)
    run = new_run(emulator, namespace)
    measurement = context(run)
    forged = {"job-name": "payments-migration", "job-namespace": other_namespace}
    with pytest.raises(ProviderError, match=f"not in the AnalysisRun's namespace {namespace}"):
        await provider(kube, measurement).terminate(measurement, forged)
    assert job_names(emulator, other_namespace) == ["payments-migration"]


async def test_terminate_leaves_a_job_the_run_does_not_own_alone(
    kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str
) -> None:
    foreign_job(emulator, namespace)
    run = new_run(emulator, namespace)
    measurement = context(run)
    forged = {"job-name": "payments-migration", "job-namespace": namespace}
    with pytest.raises(ProviderError, match="is not owned by AnalysisRun"):
        await provider(kube, measurement).terminate(measurement, forged)
    assert job_names(emulator, namespace) == ["payments-migration"]


async def test_terminate_checks_the_owner_uid_not_the_name(
    kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str
) -> None:
    """A Job whose ownerReference names the run but carries another uid (an earlier run of that name, or a
    forgery) is not this run's."""
    run = new_run(emulator, namespace)
    body = {
        "metadata": {
            "name": "look-alike",
            "ownerReferences": [
                {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun", "name": run["metadata"]["name"],
                 "uid": "not-the-run-uid", "controller": True}
            ],
        },
        "spec": SPEC,
    }
    emulator.create_object("batch", "v1", "jobs", body, namespace)
    measurement = context(run)
    with pytest.raises(ProviderError, match="is not owned by AnalysisRun"):
        await provider(kube, measurement).terminate(measurement, {"job-name": "look-alike"})
    assert job_names(emulator, namespace) == ["look-alike"]


async def test_resume_does_not_read_a_job_in_another_namespace(
    kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str
) -> None:
    other_namespace = f"{namespace}-elsewhere"
    emulator.create_object("", "v1", "namespaces", {"metadata": {"name": other_namespace}})
    foreign_job(emulator, other_namespace)
    run = new_run(emulator, namespace)
    measurement = context(run)
    forged = {"job-name": "payments-migration", "job-namespace": other_namespace}
    with pytest.raises(ProviderError, match=f"not in the AnalysisRun's namespace {namespace}"):
        await provider(kube, measurement).resume(measurement, forged)


async def test_garbage_collect_deletes_only_jobs_the_run_controls(
    kube: AsyncKubeClient, emulator: ApiEmulator, namespace: str
) -> None:
    """The uid label and metric annotation are anyone's to write; the ownerReference uid decides."""
    run = new_run(emulator, namespace)
    uid = run["metadata"]["uid"]
    labelled = {
        "metadata": {
            "name": "labelled-only",
            "labels": {"analysisrun.argoproj.io/uid": uid},
            "annotations": {"analysisrun.argoproj.io/metric-name": "smoke"},
        },
        "spec": SPEC,
    }
    emulator.create_object("batch", "v1", "jobs", labelled, namespace)
    measurement = context(run)
    await provider(kube, measurement).garbage_collect(measurement, 0)
    assert job_names(emulator, namespace) == ["labelled-only"]
