"""Argo CD's default notification triggers under the real Application controller (in the controller process, as
`rollouts controller` runs it), for Applications synced from local Git repositories: each of the catalog's triggers
(on-sync-succeeded, -failed, -running, -status-unknown, on-health-degraded, on-deployed) fires once per transition
(the catalog's ``oncePer: app.status.operationState?.syncResult?.revision``), and not again after a restart of the
controller."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitops.controller.controller import AppKey
from kube.client import KubeClient
from kube.object_meta import ObjectKey
from kube.resources import APPLICATIONS, CONFIGMAPS
from kube.timestamps import parse_time
from notifications.controller import NotificationOptions
from notifications.defaults import DEFAULT_APPLICATION_TRIGGERS
from notifications.delivery import RetryPolicy
from rollouts.controller.controller import ControllerOptions
from sandbox.cluster import SandboxThread
from sandbox.webhook_receiver import WebhookReceiver
from tests.gitops_harness import (
    APP_NAMESPACE,
    GitRepo,
    app_status,
    application,
    controller_options,
    make_repo,
    wait_for,
    wait_synced_healthy,
)
from tests.notification_checks import notified_keys, pending_about
from tests.rollout_harness import CRD_DIR, ControllerThread, load_decide

TIMEOUT = 60.0
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  greeting: '{greeting}'\n"


class Process:
    """The controller process (Rollout, Application and notification controllers), restartable."""

    def __init__(self, kubeconfig: Path, cache: Path) -> None:
        self.kubeconfig = kubeconfig
        self.cache = cache
        self.thread: ControllerThread | None = None

    def start(self) -> None:
        self.thread = ControllerThread(
            self.kubeconfig, ControllerOptions(workers=2, metrics_port=0), load_decide(),
            applications=controller_options(self.cache),
            notifications=NotificationOptions(namespace="default", config_seconds=0.5,
                                              retry=RetryPolicy(backoff_base=0.2, backoff_max=1.0)),
        )
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.thread = None


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KubeClient, Process, WebhookReceiver]]:
    root = tmp_path_factory.mktemp("app-notifications")
    sandbox = SandboxThread(crd_dirs=[CRD_DIR], namespaces=("default", APP_NAMESPACE), ready_delay=0.1)
    sandbox.start()
    receiver = WebhookReceiver()
    receiver.start()
    kubeconfig = sandbox.write_kubeconfig(root / "kubeconfig.yaml")
    client = KubeClient.from_kubeconfig(str(kubeconfig))
    process = Process(kubeconfig, root / "cache")
    try:
        client.create(CONFIGMAPS, APP_NAMESPACE, {
            "metadata": {"name": "argocd-notifications-cm"},
            "data": {"service.webhook.receiver": f"url: {receiver.url}\n",
                     "context": "argocdUrl: https://cd.example.com\n"},
        })
        process.start()
        yield client, process, receiver
    finally:
        process.stop()
        client.close()
        receiver.stop()
        sandbox.stop()


def succeeded(receiver: WebhookReceiver, name: str) -> list[str]:
    return [request.body for request in receiver.received()
            if request.body.startswith(f"Application {name} has been successfully synced")]


def test_a_sync_notifies_once_per_revision_and_not_again_after_a_restart(
    running: tuple[KubeClient, Process, WebhookReceiver], tmp_path: Path
) -> None:
    client, process, receiver = running
    repo = make_repo(tmp_path, {"app/settings.yaml": CONFIGMAP.format(greeting="hello")})
    manifest = application("notified", repo.url, "app")
    manifest["metadata"]["annotations"] = {"notifications.argoproj.io/subscribe.on-sync-succeeded.receiver": ""}
    client.create(APPLICATIONS, APP_NAMESPACE, manifest)
    wait_synced_healthy(client, "notified")
    assert receiver.wait_for(lambda r: len(succeeded(r, "notified")) == 1, TIMEOUT)
    assert "https://cd.example.com/applications/notified" in succeeded(receiver, "notified")[0]

    repo.commit({"app/settings.yaml": CONFIGMAP.format(greeting="bonjour")}, "a new greeting")
    client.patch(APPLICATIONS, APP_NAMESPACE, "notified",
                 {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}})
    assert receiver.wait_for(lambda r: len(succeeded(r, "notified")) == 2, TIMEOUT), succeeded(receiver, "notified")
    # Restarted once both are recorded (a stop between a delivery and its record would send it again).
    wait_for(lambda: len(notified(client, "notified")) == 2, "both deliveries recorded")
    process.stop()
    process.start()
    assert process.thread is not None
    # The new process looks at the Application (a pass after the mark: its first, or the resync's) and offers
    # nothing: both revisions are recorded as sent.
    notifier = next(n for n in process.thread.operator.notifications if n.kind.resource == APPLICATIONS)
    process.thread.resync_and_wait(notifier.runner, [ObjectKey(APP_NAMESPACE, "notified")], TIMEOUT)
    assert not notifier.delivery.pending and notifier.delivery.delivered == 0
    assert len(succeeded(receiver, "notified")) == 2


# The words of each catalog template's message (this project's wording), so the receiver can tell them apart.
APP_MESSAGES = {
    "on-sync-succeeded": "has been successfully synced",
    "on-sync-failed": "has failed at",
    "on-sync-running": "has started at",
    "on-sync-status-unknown": "sync status is 'Unknown'",
    "on-health-degraded": "has degraded",
    "on-deployed": "is now running a new version",
}
assert set(APP_MESSAGES) == set(DEFAULT_APPLICATION_TRIGGERS)


def app_received(receiver: WebhookReceiver, name: str) -> Counter[str]:
    """How many notifications about Application ``name`` the receiver took, by the trigger their message shows."""
    counts: Counter[str] = Counter()
    for request in receiver.received():
        if not request.body.lower().startswith((f"application {name} ", f"the sync operation of application {name} ")):
            continue
        for trigger, words in APP_MESSAGES.items():
            if words in request.body:
                counts[trigger] += 1
                break
    return counts


def config_map(name: str, greeting: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  greeting: '{greeting}'\n"


def job(name: str, *, hook: bool, run_seconds: int = 0) -> str:
    """A Job the sandbox's kubelet fails (its container exits with 1), after ``run_seconds``."""
    hook_annotation = "\n  annotations:\n    argocd.argoproj.io/hook: PreSync" if hook else ""
    return (f"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}{hook_annotation}\nspec:\n  backoffLimit: 0\n"
            f"  template:\n    metadata:\n      annotations:\n        sandbox.rollouts/exit-code: '1'\n"
            f"        sandbox.rollouts/run-seconds: '{run_seconds}'\n    spec:\n      restartPolicy: Never\n"
            f"      containers:\n      - name: main\n        image: busybox\n")


def refresh(client: KubeClient, name: str) -> None:
    client.patch(APPLICATIONS, APP_NAMESPACE, name,
                 {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}})


def health_settled_a_second_ago(client: KubeClient, name: str) -> bool:
    """Whether the clock is past the second of the app's last health transition (times are whole seconds)."""
    moment = parse_time((app_status(client, name).get("health") or {}).get("lastTransitionTime"))
    return moment is not None and datetime.now(UTC) >= moment + timedelta(seconds=1)


@dataclass(frozen=True)
class Scenario:
    """An Application's manifests, what the test does to it, and the notifications worked out by hand."""

    files: dict[str, str]
    expected: dict[str, int]
    automated: bool = True
    path: str = "app"
    act: Callable[[KubeClient, str, GitRepo, WebhookReceiver], None] | None = None
    triggers: tuple[str, ...] = DEFAULT_APPLICATION_TRIGGERS


def sync_manually(client: KubeClient, name: str, repo: GitRepo, receiver: WebhookReceiver) -> None:
    client.patch(APPLICATIONS, APP_NAMESPACE, name, {"operation": {"sync": {}, "initiatedBy": {"username": "t"}}})


def deploy_then_change_a_config_map(client: KubeClient, name: str, repo: GitRepo, receiver: WebhookReceiver) -> None:
    assert receiver.wait_for(lambda r: app_received(r, name)["on-deployed"] == 1, TIMEOUT), app_received(receiver, name)
    wait_for(lambda: health_settled_a_second_ago(client, name), "a second past the health transition")
    repo.commit({"app/settings.yaml": config_map(f"{name}-settings", "bonjour")}, "a new greeting")
    refresh(client, name)


SCENARIOS = {
    # A manual sync whose PreSync Job runs 2 s and fails: the operation is Running (once), then Failed (once); the
    # ConfigMap is never applied, so the app's health stays Missing (a hook counts for no health): nothing else.
    "hook-fails": Scenario(
        {"app/job.yaml": job("hook-fails-migration", hook=True, run_seconds=2),
         "app/settings.yaml": config_map("hook-fails-settings", "hello")},
        {"on-sync-running": 1, "on-sync-failed": 1}, automated=False, act=sync_manually),
    # Two automated syncs of a ConfigMap. The first takes the app from Missing to Healthy after the sync finished:
    # deployed. The second leaves it Healthy throughout, its health's lastTransitionTime before the sync's
    # finishedAt: on-deployed's "health is newer than the operation" clause (argo-cd#21333) holds it back.
    # Running and Succeeded twice, once per revision (Argo CD writes Running as each operation starts, however short
    # it is); nothing degrades, nothing is unknown, nothing fails.
    "deployed": Scenario(
        {"app/settings.yaml": config_map("deployed-settings", "hello")},
        {"on-sync-running": 2, "on-sync-succeeded": 2, "on-deployed": 1}, act=deploy_then_change_a_config_map),
    # A (non-hook) Job that fails: the sync (Running, once) applies it and succeeds, then the Job's health is
    # Degraded and so is the app's (once); never Healthy, so never deployed.
    "degraded": Scenario(
        {"app/job.yaml": job("degraded-job", hook=False)},
        {"on-sync-running": 1, "on-sync-succeeded": 1, "on-health-degraded": 1}),
    # A manual sync with nothing to apply (the path holds no manifests): it finishes in the pass that starts it,
    # and still runs first, as every Argo CD operation does (Running is written as it starts): Running once,
    # Succeeded once. (on-deployed is left out: the app is Healthy from its creation, and whether that was in the
    # second the sync ended is up to the clock.)
    "nothing-to-apply": Scenario(
        {"app/notes.txt": "no manifests here\n"}, {"on-sync-running": 1, "on-sync-succeeded": 1},
        automated=False, act=sync_manually, triggers=("on-sync-running", "on-sync-succeeded")),
    # A path the repository does not have: the manifests cannot be generated, the sync status is Unknown (once),
    # and an automated sync never starts.
    "unknown": Scenario(
        {"app/settings.yaml": config_map("unknown-settings", "hello")},
        {"on-sync-status-unknown": 1}, path="no-such-path"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_application_trigger_fires_once_per_transition(
    running: tuple[KubeClient, Process, WebhookReceiver], tmp_path: Path, name: str
) -> None:
    client, process, receiver = running
    scenario = SCENARIOS[name]
    repo = make_repo(tmp_path, scenario.files)
    manifest = application(name, repo.url, scenario.path, automated=scenario.automated)
    manifest["metadata"]["annotations"] = {
        f"notifications.argoproj.io/subscribe.{trigger}.receiver": "" for trigger in scenario.triggers}
    client.create(APPLICATIONS, APP_NAMESPACE, manifest)
    if scenario.act is not None:
        scenario.act(client, name, repo, receiver)
    assert receiver.wait_for(lambda r: app_received(r, name) == scenario.expected, TIMEOUT), (
        f"received {dict(app_received(receiver, name))}, expected {scenario.expected}; status: "
        f"{app_status(client, name)}")
    wait_for(lambda: len(notified(client, name)) == sum(scenario.expected.values()), "every delivery recorded")
    # Looked at again (a pass after the records), nothing more is offered.
    assert process.thread is not None
    notifier = next(n for n in process.thread.operator.notifications if n.kind.resource == APPLICATIONS)
    process.thread.resync_and_wait(notifier.runner, [ObjectKey(APP_NAMESPACE, name)], TIMEOUT)
    assert not pending_about(notifier, ObjectKey(APP_NAMESPACE, name))
    assert dict(app_received(receiver, name)) == scenario.expected


def notified(client: KubeClient, name: str) -> dict[str, int]:
    return notified_keys(client.get(APPLICATIONS, APP_NAMESPACE, name))


def test_a_refresh_that_finds_the_same_health_keeps_its_transition_time_and_writes_nothing(
    running: tuple[KubeClient, Process, WebhookReceiver], tmp_path: Path
) -> None:
    """Argo CD keeps ``status.health.lastTransitionTime`` while the health status stays the same, so a periodic
    refresh of a settled Application has nothing to write."""
    client, process, _ = running
    name = "at-rest"
    repo = make_repo(tmp_path, {"app/settings.yaml": config_map(f"{name}-settings", "hello")})
    client.create(APPLICATIONS, APP_NAMESPACE, application(name, repo.url, "app"))
    settled = wait_synced_healthy(client, name)
    assert parse_time(settled["health"].get("lastTransitionTime")) is not None
    # Times are whole seconds: look again in a later second than the transition, when a new time would show.
    wait_for(lambda: health_settled_a_second_ago(client, name), "a second past the health transition")
    before = client.get(APPLICATIONS, APP_NAMESPACE, name)
    assert process.thread is not None
    applications = process.thread.operator.applications
    assert applications is not None
    process.thread.resync_and_wait(applications.runner, [AppKey(APP_NAMESPACE, name)], TIMEOUT)
    after = client.get(APPLICATIONS, APP_NAMESPACE, name)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["status"]["health"] == before["status"]["health"]


def held_hook(name: str) -> str:
    """A PreSync hook Job no simulator touches: it runs (Progressing) until the test says otherwise, holding the
    operation Running."""
    return (f"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  annotations:\n"
            f"    argocd.argoproj.io/hook: PreSync\n    sandbox.rollouts/simulate: 'false'\nspec:\n"
            f"  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: main\n"
            f"        image: busybox\n")


def refused_by_trigger(receiver: WebhookReceiver, name: str) -> set[str]:
    """The triggers of the notifications about Application ``name`` the receiver refused (attempted, not taken)."""
    found: set[str] = set()
    for request in receiver.refused_requests():
        if request.body.lower().startswith((f"application {name} ", f"the sync operation of application {name} ")):
            found.update(trigger for trigger, words in APP_MESSAGES.items() if words in request.body)
    return found


# Each Application subscribes to every default trigger. By hand, what each one's state holds when the controller
# restarts (the catalog's triggers are level-triggered, as in Argo CD: a state over before the restart, an
# automated sync's Running, is not notified afterwards), which the restarted controller sends once:
RESTARTED = {
    # An automated sync of a ConfigMap: Succeeded, and Healthy after it finished (from Missing): deployed.
    "rs-deployed": ({"app/settings.yaml": config_map("rs-deployed-settings", "hello")}, True,
                    {"on-sync-succeeded": 1, "on-deployed": 1}),
    # An automated sync of a Job that fails: Succeeded, the app Degraded, never Healthy.
    "rs-degraded": ({"app/job.yaml": job("rs-degraded-job", hook=False)}, True,
                    {"on-sync-succeeded": 1, "on-health-degraded": 1}),
    # A path the repository does not have: sync status Unknown, no operation.
    "rs-unknown": ({"app/settings.yaml": config_map("rs-unknown-settings", "hello")}, True,
                   {"on-sync-status-unknown": 1}),
    # A manual sync whose PreSync hook fails: Failed (the ConfigMap never applied: health Missing).
    "rs-failed": ({"app/job.yaml": job("rs-failed-migration", hook=True),
                   "app/settings.yaml": config_map("rs-failed-settings", "hello")}, False, {"on-sync-failed": 1}),
    # A manual sync whose PreSync hook runs through both restarts: Running.
    "rs-held": ({"app/job.yaml": held_hook("rs-held-migration"),
                 "app/settings.yaml": config_map("rs-held-settings", "hello")}, False, {"on-sync-running": 1}),
}
assert set().union(*(expected for _, _, expected in RESTARTED.values())) == set(DEFAULT_APPLICATION_TRIGGERS)


def test_every_application_trigger_is_sent_after_a_restart_and_not_again_after_another(
    running: tuple[KubeClient, Process, WebhookReceiver], tmp_path: Path
) -> None:
    """The state key is recorded on the Application only once the destination took the notification (Argo's
    ``notified.notifications.argoproj.io``): a controller stopped before the delivery sends it after its restart,
    and one restarted after it sends nothing again — for each of the six catalog triggers."""
    client, process, receiver = running
    # The destination refuses until the restart: every notification is attempted, none delivered or recorded.
    receiver.status = 503
    try:
        for name, (files, automated, _) in RESTARTED.items():
            (tmp_path / name).mkdir()
            repo = make_repo(tmp_path / name, files)
            manifest = application(name, repo.url, "no-such-path" if name == "rs-unknown" else "app",
                                   automated=automated)
            manifest["metadata"]["annotations"] = {f"notifications.argoproj.io/subscribe.{trigger}.receiver": ""
                                                   for trigger in DEFAULT_APPLICATION_TRIGGERS}
            client.create(APPLICATIONS, APP_NAMESPACE, manifest)
            if not automated:
                sync_manually(client, name, repo, receiver)
        for name, (_, _, expected) in RESTARTED.items():
            attempted = refused_of(name, set(expected))
            assert receiver.wait_for(attempted, TIMEOUT), (name, refused_by_trigger(receiver, name),
                                                           app_status(client, name))
            assert notified(client, name) == {}, name
        process.stop()
    finally:
        receiver.status = 200
    process.start()
    for name, (_, _, expected) in RESTARTED.items():
        assert receiver.wait_for(received_of(name, expected), TIMEOUT), (
            name, dict(app_received(receiver, name)), app_status(client, name))
        wait_for(records_reach(client, name, len(expected)), f"{name}'s records")
    process.stop()
    process.start()
    assert process.thread is not None
    # The new process looks at each Application (a pass after the mark) and offers nothing: all are recorded.
    notifier = next(n for n in process.thread.operator.notifications if n.kind.resource == APPLICATIONS)
    process.thread.resync_and_wait(notifier.runner, [ObjectKey(APP_NAMESPACE, name) for name in RESTARTED], TIMEOUT)
    assert not frozenset(notifier.delivery.pending) and notifier.delivery.delivered == 0
    assert app_status(client, "rs-held")["operationState"]["phase"] == "Running"
    assert {name: dict(app_received(receiver, name)) for name in RESTARTED} == {
        name: expected for name, (_, _, expected) in RESTARTED.items()}


def records_reach(client: KubeClient, name: str, count: int) -> Callable[[], bool]:
    return lambda: len(notified(client, name)) == count


def refused_of(name: str, triggers: set[str]) -> Callable[[WebhookReceiver], bool]:
    return lambda receiver: triggers <= refused_by_trigger(receiver, name)


def received_of(name: str, triggers: dict[str, int]) -> Callable[[WebhookReceiver], bool]:
    return lambda receiver: app_received(receiver, name) == triggers
