"""The sandbox cluster with the real Rollout controller running against it, for integration and conformance tests.

The sandbox runs on a thread of its own (`SandboxThread`); the controller — kopf and its handlers, exactly as
`rollouts controller` assembles them — runs on another, logged in with the sandbox's kubeconfig. Tests write
through the emulator's in-process API (the same rules as HTTP, but not counted as requests, so
`writes_in(namespace)` counts only the controller's and the simulator's) and wait for conditions with deadlines.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from analysis.controller.controller import AnalysisController
from gitops.controller.application_sets import AppSetControllerOptions
from gitops.controller.controller import AppControllerOptions
from kube.controller_runner import ControllerRunner
from kube.resources import (
    DEPLOYMENTS,
    DESTINATION_RULES,
    EVENTS,
    HTTP_ROUTES,
    INGRESSES,
    NAMESPACES,
    PODS,
    REPLICASETS,
    ROLLOUTS,
    SERVICES,
    VIRTUAL_SERVICES,
    ResourceKind,
)
from notifications.controller import NotificationOptions
from rollouts.controller.cache import RolloutKey
from rollouts.controller.controller import ControllerOptions, RolloutController
from rollouts.controller.reconciler import Decide
from rollouts.controller.run import RolloutOperator, build_operator
from sandbox.cluster import SandboxThread

JsonObject = dict[str, Any]

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
CRD_DIR: Final = REPO_ROOT / "crds"
WRITE_VERBS: Final = frozenset({"create", "update", "patch", "delete", "deletecollection"})
HASH_LABEL: Final = "rollouts-pod-template-hash"
REVISION_ANNOTATION: Final = "rollout.argoproj.io/revision"
DEFAULT_TIMEOUT: Final = 15.0


def load_decide() -> Decide:
    """The decision core (an ImportError is a failure like any other, never a skip)."""
    from rollouts.reconcile import decide

    return decide


# Loggers of the code under test; the sandbox's own loggers are the test bench, not the product.
CONTROLLER_LOGGERS: Final = ("rollouts", "analysis", "kube", "gitops", "kopf", "notifications")


class ControllerHealth(logging.Handler):
    """What the controllers logged at ERROR or with a traceback while a cluster ran: a controller that throws and
    recovers still fails the test that saw it (``RolloutCluster.problems_since``)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self._lock_records = threading.Lock()
        self.problems: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(CONTROLLER_LOGGERS):
            return
        text = f"{record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        with self._lock_records:
            self.problems.append(text)

    def logged(self) -> list[str]:
        with self._lock_records:
            return list(self.problems)


# Every cluster running now, so that the harness check (conftest.py) can look at each after a test.
RUNNING_CLUSTERS: Final[list[RolloutCluster]] = []


class ControllerThread:
    """The controller under kopf, on a thread and event loop of its own."""

    def __init__(
        self, kubeconfig: Path, options: ControllerOptions, decide: Decide,
        applications: AppControllerOptions | None = None,
        application_sets: AppSetControllerOptions | None = None,
        notifications: NotificationOptions | None = None,
    ) -> None:
        self.operator: RolloutOperator = build_operator(
            str(kubeconfig), None, options, decide=decide, applications=applications,
            application_sets=application_sets, notifications=notifications,
        )
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rollout-controller", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None

    @property
    def controller(self) -> RolloutController:
        return self.operator.controller

    def start(self, timeout: float = 30.0) -> None:
        """Start the controller thread; raise when it did not come up, or died while starting."""
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError(f"the controller did not start within {timeout:g}s (error: {self.error!r})")
        if self.error is not None:
            raise RuntimeError(f"the controller died at start-up: {self.error!r}") from self.error
        if not self._thread.is_alive():
            raise RuntimeError("the controller stopped at start-up without an error")

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the controller did not stop within {timeout:g}s")

    def call_soon(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the controller's loop (its methods are not thread-safe)."""
        if self._loop is None:
            raise RuntimeError("the controller is not running")
        self._loop.call_soon_threadsafe(function)

    def resync_and_wait(self, runner: ControllerRunner[Any], keys: Iterable[object], timeout: float) -> None:
        """Resync the controller ``runner`` belongs to and return once a pass over each of ``keys`` that began after
        this call has finished: what the test then sees is what the controller decided from the current state."""
        mark = runner.passes.mark()
        self.call_soon(runner.resync)
        for key in keys:
            if not runner.passes.wait_for_pass(key, mark, timeout):
                raise AssertionError(f"the controller did not look at {key} within {timeout:g}s")

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported by start()/the tests; nobody else can catch it here
            self.error = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.operator.run(stop_flag=self._stop, ready_flag=self._ready)


@dataclass(eq=False)  # the store keeps its subscribers in a set
class WatchRecorder:
    """Every version of the objects of one kind in one namespace, in the order the API server stored them.

    Subscribed in-process to the emulator's store, so no change can slip between two polls.
    """

    namespace: str
    events: list[tuple[str, JsonObject]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, event: Any) -> None:
        obj = event.object
        if (obj.get("metadata") or {}).get("namespace") == self.namespace:
            with self._lock:
                self.events.append((str(event.type), copy.deepcopy(obj)))

    def close(self) -> None:
        pass

    def versions(self, name: str) -> list[JsonObject]:
        with self._lock:
            return [obj for kind, obj in self.events if obj["metadata"]["name"] == name and kind != "DELETED"]


class RolloutCluster:
    """A sandbox with the controllers running in it, and the helpers the scenarios use.

    ``sandbox_options`` go to the SandboxThread (``mesh=True, prometheus=True, mesh_profiles=...``).
    """

    def __init__(
        self, tmp_dir: Path, *, ready_delay: float = 0.1, resync_seconds: float = 900.0,
        notifications: NotificationOptions | None = None, **sandbox_options: Any
    ) -> None:
        self.sandbox = SandboxThread(crd_dirs=[CRD_DIR], ready_delay=ready_delay, **sandbox_options)
        self.kubeconfig = tmp_dir / "kubeconfig.yaml"
        self._resync_seconds = resync_seconds
        self._notifications = notifications
        self._decide: Decide | None = None
        self._controller: ControllerThread | None = None
        self._names = itertools.count(1)
        self.health = ControllerHealth()

    def start(self, decide: Decide) -> None:
        self.sandbox.start()
        logging.getLogger().addHandler(self.health)
        try:
            self.sandbox.write_kubeconfig(self.kubeconfig)
            self._decide = decide
            self._start_controller()
        except BaseException:
            logging.getLogger().removeHandler(self.health)
            self.sandbox.stop()
            raise
        RUNNING_CLUSTERS.append(self)

    def _start_controller(self) -> None:
        assert self._decide is not None
        options = ControllerOptions(workers=4, resync_seconds=self._resync_seconds, metrics_port=0)
        self._controller = ControllerThread(self.kubeconfig, options, self._decide,
                                            notifications=self._notifications)
        self._controller.start()

    def restart_controller(self) -> None:
        """Stop the controller process and start a new one, as a crash and a restart would (the sandbox keeps
        running: all state is in the cluster)."""
        self.controller_thread.stop()
        self._start_controller()

    def stop(self) -> None:
        if self in RUNNING_CLUSTERS:
            RUNNING_CLUSTERS.remove(self)
        try:
            if self._controller is not None:
                self._controller.stop()
        finally:
            logging.getLogger().removeHandler(self.health)
            self.sandbox.stop()

    # -- health --------------------------------------------------------------------------------------------

    def health_mark(self) -> tuple[int, int]:
        """Where the record of problems stands now: (log lines, failed passes of both controllers)."""
        return len(self.health.logged()), self._failed_passes()

    def problems_since(self, mark: tuple[int, int]) -> list[str]:
        """What went wrong in the controllers since ``mark``: exceptions or errors they logged, and passes they
        counted in their reconcile-error metrics — each a failure even when the controller recovered."""
        logged, failed = mark
        problems = self.health.logged()[logged:]
        more_failures = self._failed_passes() - failed
        if more_failures:
            problems.append(f"{more_failures} reconcile pass(es) failed (counted in the reconcile-error metrics)")
        return problems

    def _failed_passes(self) -> int:
        if self._controller is None:
            return 0
        operator = self._controller.operator
        analysis, experiments = operator.analysis, operator.experiments
        return (
            operator.controller.runner.passes.errors
            + (analysis.runner.passes.errors if analysis else 0)
            + (experiments.runner.passes.errors if experiments else 0)
        )

    @property
    def controller_thread(self) -> ControllerThread:
        if self._controller is None:
            raise RuntimeError("the controller is not running")
        return self._controller

    @property
    def controller(self) -> RolloutController:
        return self.controller_thread.controller

    @property
    def analysis(self) -> AnalysisController:
        """The analysis controller running beside the Rollout controller."""
        analysis = self.controller_thread.operator.analysis
        if analysis is None:
            raise RuntimeError("the analysis controller is not running")
        return analysis

    # -- objects -----------------------------------------------------------------------------------------

    def new_namespace(self, prefix: str = "t") -> str:
        name = f"{prefix}-{next(self._names)}"
        self.create(NAMESPACES, None, {"metadata": {"name": name}})
        return name

    def create(self, kind: ResourceKind, namespace: str | None, body: JsonObject) -> JsonObject:
        manifest = {"apiVersion": kind.api_version, "kind": kind.kind, **copy.deepcopy(body)}
        if namespace is not None:
            manifest.setdefault("metadata", {})["namespace"] = namespace
        return self._on_sandbox_loop(
            self.sandbox.emulator.create_object, kind.group, kind.version, kind.plural, manifest, namespace
        )

    def apply_all(self, namespace: str, documents: list[JsonObject]) -> None:
        """Create every document (Services and Istio objects before the Rollout that names them)."""
        order = {"Service": 0, "DestinationRule": 1, "VirtualService": 2, "Rollout": 3}
        for document in sorted(documents, key=lambda d: order.get(d.get("kind", ""), 2)):
            self.create(kind_of(document), namespace, document)

    def _on_sandbox_loop(self, write: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Make an in-process write on the sandbox's own loop.

        This was a workaround: the emulator used to let a write made on its loop (every HTTP request) overtake
        one handed over from another thread, and then dropped the older one, so a test-thread write racing a
        controller write of another object could vanish from a watch. The emulator now delivers writes from any
        thread to its watchers in resourceVersion order (tests/integration/emulator/test_emulator_watch_threads.py),
        so this is no longer needed; it stays because it is harmless and keeps writes off the test thread.
        """

        async def on_loop() -> Any:
            return write(*args, **kwargs)

        return self.sandbox.call(on_loop)

    def get(self, kind: ResourceKind, namespace: str, name: str) -> JsonObject | None:
        return self.sandbox.emulator.get_object(kind.group, kind.version, kind.plural, namespace, name)

    def must_get(self, kind: ResourceKind, namespace: str, name: str) -> JsonObject:
        obj = self.get(kind, namespace, name)
        if obj is None:
            raise AssertionError(f"{kind.kind} {namespace}/{name} does not exist")
        return obj

    def list(self, kind: ResourceKind, namespace: str) -> list[JsonObject]:
        return self.sandbox.emulator.list_objects(kind.group, kind.version, kind.plural, namespace)

    def patch(
        self, kind: ResourceKind, namespace: str, name: str, patch: JsonObject, *, subresource: str | None = None
    ) -> JsonObject:
        return self._on_sandbox_loop(
            self.sandbox.emulator.patch_object,
            kind.group, kind.version, kind.plural, namespace, name, patch, subresource=subresource,
        )

    def delete(self, kind: ResourceKind, namespace: str, name: str) -> None:
        emulator = self.sandbox.emulator
        self._on_sandbox_loop(emulator.delete_object, kind.group, kind.version, kind.plural, namespace, name)

    # -- rollouts ----------------------------------------------------------------------------------------

    def rollout(self, namespace: str, name: str) -> JsonObject:
        return self.must_get(ROLLOUTS, namespace, name)

    def status(self, namespace: str, name: str) -> JsonObject:
        return dict(self.rollout(namespace, name).get("status") or {})

    def set_image(self, namespace: str, name: str, image: str, container: int = 0) -> None:
        """What `rollouts set image` does: patch one container's image in the pod template."""
        containers = copy.deepcopy(self.rollout(namespace, name)["spec"]["template"]["spec"]["containers"])
        containers[container]["image"] = image
        self.patch(ROLLOUTS, namespace, name, {"spec": {"template": {"spec": {"containers": containers}}}})

    def promote(self, namespace: str, name: str) -> None:
        """What `rollouts promote` does when paused at a pause step: clear the pause conditions."""
        self.patch(ROLLOUTS, namespace, name, {"status": {"pauseConditions": None}}, subresource="status")

    def promote_full(self, namespace: str, name: str) -> None:
        self.patch(ROLLOUTS, namespace, name, {"status": {"promoteFull": True}}, subresource="status")

    def abort(self, namespace: str, name: str) -> None:
        self.patch(ROLLOUTS, namespace, name, {"status": {"abort": True}}, subresource="status")

    def retry(self, namespace: str, name: str) -> None:
        self.patch(ROLLOUTS, namespace, name, {"status": {"abort": False}}, subresource="status")

    def undo(self, namespace: str, name: str) -> None:
        """What `rollouts undo` does: put back the pod template of the previous revision's ReplicaSet."""
        by_revision = sorted(
            self.replica_sets(namespace),
            key=lambda rs: int((rs["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION, "0")),
        )
        if len(by_revision) < 2:
            raise AssertionError(f"{namespace}/{name} has no previous revision to undo to")
        template = copy.deepcopy(by_revision[-2]["spec"]["template"])
        (template.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
        self._on_sandbox_loop(
            self.sandbox.emulator.patch_object,
            ROLLOUTS.group, ROLLOUTS.version, ROLLOUTS.plural, namespace, name,
            [{"op": "replace", "path": "/spec/template", "value": template}], patch_type="json",
        )

    def replica_sets(self, namespace: str) -> list[JsonObject]:
        return self.list(REPLICASETS, namespace)

    def replica_set_for_hash(self, namespace: str, pod_hash: str) -> JsonObject | None:
        for replica_set in self.replica_sets(namespace):
            if (replica_set["metadata"].get("labels") or {}).get(HASH_LABEL) == pod_hash:
                return replica_set
        return None

    def pods(self, namespace: str) -> list[JsonObject]:
        return self.list(PODS, namespace)

    def events(self, namespace: str) -> list[JsonObject]:
        return self.list(EVENTS, namespace)

    def event_reasons(self, namespace: str) -> list[str]:
        ordered = sorted(self.events(namespace), key=lambda e: e["metadata"]["name"])
        return [event.get("reason", "") for event in ordered]

    def resync(self) -> None:
        """Force the periodic resync now."""
        self.controller_thread.call_soon(self.controller.runner.resync)

    def look_again(self, namespace: str, name: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Queue the Rollout and return once a pass that began after this call has finished: what the test then
        sees is what the controller decided from the current state (the observable "it looked, and did nothing"
        that replaces sleeping and hoping it would have acted by then)."""
        runner = self.controller.runner
        key = RolloutKey(namespace, name)
        mark = runner.passes.mark()
        self.controller_thread.call_soon(lambda: runner.add(key))
        if not runner.passes.wait_for_pass(key, mark, timeout):
            raise AssertionError(f"the controller did not look at {namespace}/{name} within {timeout:g}s")

    def passes(self, namespace: str, name: str) -> float:
        """Reconcile passes of one Rollout so far (from the controller's own histogram)."""
        value = self.controller.metrics.registry.get_sample_value(
            "rollout_reconcile_count", {"namespace": namespace, "name": name}
        )
        return value or 0.0

    # -- requests ----------------------------------------------------------------------------------------

    def request_mark(self) -> int:
        return len(self.sandbox.emulator.requests)

    def writes_in(self, namespace: str, since: int = 0, resource: str | None = None) -> list[Any]:
        """Write requests (successful or not) to objects in ``namespace`` since a mark."""
        return [
            record
            for record in list(self.sandbox.emulator.requests)[since:]
            if record.verb in WRITE_VERBS
            and record.namespace == namespace
            and (resource is None or record.resource == resource)
        ]

    def record(self, kind: ResourceKind, namespace: str) -> WatchRecorder:
        """Record every stored version of ``kind`` objects in ``namespace`` from now on."""
        emulator = self.sandbox.emulator
        spec = emulator.registry.get(kind.group, kind.version, kind.plural)
        assert spec is not None, f"{kind.plural} not registered"
        recorder = WatchRecorder(namespace)
        emulator.store.subscribe(spec.storage_key, recorder, None)
        return recorder

    # -- waiting -----------------------------------------------------------------------------------------

    def wait_for(
        self, check: Callable[[], Any], what: str, timeout: float = DEFAULT_TIMEOUT, interval: float = 0.02
    ) -> Any:
        """Poll ``check`` until it returns something truthy (returned); fail naming ``what`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                controller_error = self.controller_thread.error
                raise AssertionError(
                    f"timed out after {timeout:g}s waiting for {what}"
                    + (f" (controller died: {controller_error!r})" if controller_error else "")
                )
            time.sleep(interval)

    def wait_until_settled(self, namespace: str, quiet: float = 0.3, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until nothing has written to ``namespace`` for ``quiet`` seconds and the controller is idle."""
        controller = self.controller
        last_count, last_change = -1, time.monotonic()

        def settled() -> bool:
            nonlocal last_count, last_change
            count = len(self.writes_in(namespace))
            now = time.monotonic()
            if count != last_count:
                last_count, last_change = count, now
            return now - last_change >= quiet and controller.runner.idle and controller.events.idle

        self.wait_for(settled, f"{namespace} to settle", timeout)

    def wait_for_phase(
        self, namespace: str, name: str, phase: str, timeout: float = DEFAULT_TIMEOUT, message: str | None = None
    ) -> JsonObject:
        def reached() -> JsonObject | None:
            rollout = self.rollout(namespace, name)
            status = rollout.get("status") or {}
            if status.get("phase") != phase:
                return None
            if str(status.get("observedGeneration", "")) != str(rollout["metadata"].get("generation", "")):
                return None
            if message is not None and message not in str(status.get("message", "")):
                return None
            return dict(status)

        try:
            return self.wait_for(reached, f"{namespace}/{name} phase {phase}", timeout)
        except AssertionError as error:
            status = self.status(namespace, name)
            raise AssertionError(
                f"{error}; status: phase={status.get('phase')!r} message={status.get('message')!r} "
                f"step={status.get('currentStepIndex')!r} stableRS={status.get('stableRS')!r} "
                f"currentPodHash={status.get('currentPodHash')!r}; {self.describe_controller(namespace, name)}"
            ) from None

    def describe_controller(self, namespace: str, name: str) -> str:
        """What the controller knows of a Rollout, for failure messages."""
        controller = self.controller
        cached = controller.cache.get(ROLLOUTS, namespace, name)
        queue = controller.runner.queue
        return (
            f"controller: cached={'rv ' + str(cached['metadata'].get('resourceVersion')) if cached else 'no'} "
            f"passes={self.passes(namespace, name):g} queued={len(queue)} idle={queue.idle} "
            f"wake-up={queue.scheduled(RolloutKey(namespace, name))} events-idle={controller.events.idle}"
        )

    def wait_for_step(self, namespace: str, name: str, step: int, timeout: float = DEFAULT_TIMEOUT) -> JsonObject:
        return self.wait_for(
            lambda: (s := self.status(namespace, name)).get("currentStepIndex") == step and s,
            f"{namespace}/{name} at step {step}",
            timeout,
        )


def kind_of(document: JsonObject) -> ResourceKind:
    kinds = {
        kind.kind: kind
        for kind in (
            ROLLOUTS, SERVICES, VIRTUAL_SERVICES, DESTINATION_RULES, REPLICASETS, DEPLOYMENTS, INGRESSES, HTTP_ROUTES
        )
    }
    return kinds[document["kind"]]


# -- manifests -------------------------------------------------------------------------------------------


def reviews_rollout(
    *,
    name: str = "reviews",
    image: str = "reviews:v1",
    pause_seconds: int = 1,
    replicas: int = 5,
    steps: list[JsonObject] | None = None,
    destination_rule: str | None = None,
    virtual_services: list[str] | None = None,
    abort_scale_down_delay: int | None = None,
) -> JsonObject:
    """The seed Rollout `reviews` (Istio canary 10/30/60 %), its pauses shortened and background analysis dropped."""
    istio: JsonObject = {
        "virtualServices": [{"name": vs, "routes": ["primary"]} for vs in (virtual_services or [name])]
    }
    canary: JsonObject = {
        "trafficRouting": {"istio": istio},
        "steps": steps
        if steps is not None
        else [
            {"setWeight": 10},
            {"pause": {"duration": pause_seconds}},
            {"setWeight": 30},
            {"pause": {"duration": pause_seconds}},
            {"setWeight": 60},
            {"pause": {"duration": pause_seconds}},
        ],
    }
    if destination_rule:
        istio["destinationRule"] = {
            "name": destination_rule,
            "canarySubsetName": "canary",
            "stableSubsetName": "stable",
        }
    else:
        canary["canaryService"] = f"{name}-canary"
        canary["stableService"] = f"{name}-stable"
    if abort_scale_down_delay is not None:
        canary["abortScaleDownDelaySeconds"] = abort_scale_down_delay
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image, "ports": [{"containerPort": 9080}]}]},
            },
            "strategy": {"canary": canary},
        },
    }


def service(name: str, app: str) -> JsonObject:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": app}, "ports": [{"name": "http", "port": 9080, "targetPort": 9080}]},
    }


def host_virtual_service(name: str, stable_host: str, canary_host: str) -> JsonObject:
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "VirtualService",
        "metadata": {"name": name},
        "spec": {
            "hosts": [name],
            "http": [
                {
                    "name": "primary",
                    "route": [
                        {"destination": {"host": stable_host}, "weight": 100},
                        {"destination": {"host": canary_host}, "weight": 0},
                    ],
                }
            ],
        },
    }


def subset_virtual_service(name: str, host: str) -> JsonObject:
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "VirtualService",
        "metadata": {"name": name},
        "spec": {
            "hosts": [host],
            "http": [
                {
                    "name": "primary",
                    "route": [
                        {"destination": {"host": host, "subset": "stable"}, "weight": 100},
                        {"destination": {"host": host, "subset": "canary"}, "weight": 0},
                    ],
                }
            ],
        },
    }


def destination_rule(name: str, host: str, app: str) -> JsonObject:
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "DestinationRule",
        "metadata": {"name": name},
        "spec": {
            "host": host,
            "subsets": [
                {"name": "stable", "labels": {"app": app}},
                {"name": "canary", "labels": {"app": app}},
            ],
        },
    }


def reviews_objects(**rollout_options: Any) -> list[JsonObject]:
    """The seed Rollout with its two Services and the `reviews` VirtualService (route `primary`)."""
    name = rollout_options.get("name", "reviews")
    return [
        service(f"{name}-canary", name),
        service(f"{name}-stable", name),
        host_virtual_service(name, f"{name}-stable", f"{name}-canary"),
        reviews_rollout(**rollout_options),
    ]


# -- reading routes -------------------------------------------------------------------------------------


def route_weights(virtual_service: JsonObject, route: str = "primary") -> dict[str, int]:
    """{destination (host, or subset when set): weight} of one HTTP route."""
    for http in virtual_service.get("spec", {}).get("http") or []:
        if http.get("name") == route:
            return {
                str(d["destination"].get("subset") or d["destination"]["host"]): int(d.get("weight", 0))
                for d in http.get("route") or []
            }
    raise AssertionError(f"no HTTP route {route!r} in {virtual_service['metadata']['name']}")


def weight_sequence(versions: list[JsonObject], canary: str, route: str = "primary") -> list[int]:
    """The canary weights the versions went through, consecutive repeats collapsed."""
    sequence: list[int] = []
    for version in versions:
        weight = route_weights(version, route).get(canary, 0)
        if not sequence or sequence[-1] != weight:
            sequence.append(weight)
    return sequence


def iter_documents(manifests: list[JsonObject], kind: str) -> Iterator[JsonObject]:
    return (document for document in manifests if document.get("kind") == kind)
