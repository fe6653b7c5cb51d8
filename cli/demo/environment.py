"""The demo's process tree: the sandbox (API emulator, workload and mesh simulators) on a thread of this process,
the sandbox's real Prometheus as a child process, and the real `rollouts controller` as another.

The controller runs as its own process, exactly as a user starts it, logged in with a kubeconfig written for the
sandbox. It is started in a session of its own, so that a Ctrl-C typed at the terminal reaches only the demo, which
then stops everything in order (controller, Prometheus, sandbox), and it is told by the kernel to exit should the
demo die without cleaning up (PR_SET_PDEATHSIG). `stop()` is safe to call at any point of `start()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from cli.demo.notifications import DemoNotifications
from kube import resources
from kube.json_data import JsonObject
from sandbox.cluster import SandboxThread
from sandbox.mesh_traffic import VersionProfile
from sandbox.prometheus import PrometheusServer, ScrapeTarget, find_prometheus_binary
from sandbox.recorder import ChangeRecorder, Resource

if TYPE_CHECKING:
    from dashboard.server import DashboardServer
    from kube.client import KubeClient

CRD_DIR: Final = Path(__file__).resolve().parents[2] / "crds"
NAMESPACE: Final = "default"
CONTROLLER_STOP_SECONDS: Final = 10.0
LOOPBACK: Final = "127.0.0.1"
PROMETHEUS_START_SECONDS: Final = 30.0
KINDS_BY_NAME: Final = {
    kind.kind: kind
    for kind in (
        resources.ROLLOUTS,
        resources.ANALYSIS_TEMPLATES,
        resources.SERVICES,
        resources.VIRTUAL_SERVICES,
        resources.DESTINATION_RULES,
    )
}
RECORDED: Final = tuple(
    Resource(kind.group, kind.version, kind.plural)
    for kind in (resources.ROLLOUTS, resources.ANALYSIS_RUNS, resources.VIRTUAL_SERVICES)
)
_PR_SET_PDEATHSIG: Final = 1


class DemoEnvironmentError(RuntimeError):
    """Something the demo started did not start, or stopped on its own."""


def _parent_death_signal() -> Callable[[], None] | None:
    """A pre-exec hook asking the kernel to SIGTERM the child when the demo dies; None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    # Resolved here, in the parent: between fork and exec the child should do as little as possible.
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)

    return set_death_signal


class DemoEnvironment:
    """Start with `start()`, stop with `stop()` (idempotent; also `with`)."""

    def __init__(
        self,
        work_dir: Path,
        *,
        error_rates: Mapping[str, float],
        ready_delay: float = 0.2,
        controller_args: Sequence[str] = (),
        namespaces: Sequence[str] = (NAMESPACE,),
        prometheus: bool = True,
        dashboard_port: int | None = None,
    ) -> None:
        self.work_dir = work_dir
        self.kubeconfig = work_dir / "kubeconfig.yaml"
        self.controller_log = work_dir / "controller.log"
        self._profiles = {image: VersionProfile(error_rate=rate) for image, rate in error_rates.items()}
        self._ready_delay = ready_delay
        self._controller_args = list(controller_args)
        self._namespaces = tuple(namespaces)
        self._with_prometheus = prometheus  # the platform scenario measures nothing: no Prometheus to wait for
        self._sandbox: SandboxThread | None = None
        self._controller: subprocess.Popen[bytes] | None = None
        self._prometheus: PrometheusServer | None = None
        self._prometheus_task: asyncio.Task[None] | None = None
        self._prometheus_stop: asyncio.Event | None = None
        self._prometheus_started = threading.Event()
        self.recorder: ChangeRecorder | None = None
        self._dashboard_port = dashboard_port  # `rollouts demo --dashboard`: serve the dashboard on this port
        self._dashboard: tuple[DashboardServer, KubeClient] | None = None
        self.notifications: DemoNotifications | None = None

    # --------------------------------------------------------------------------------------------- lifecycle

    def start(self, progress: Callable[[str], None] = lambda _: None) -> None:
        """Sandbox, then the controller and Prometheus (unless left out) side by side (each takes seconds to come
        up)."""
        if self._with_prometheus:
            find_prometheus_binary()  # before anything starts: without it there is no demo
        progress("starting the sandbox: API emulator, workload and mesh simulators")
        self._sandbox = SandboxThread(
            crd_dirs=[CRD_DIR], ready_delay=self._ready_delay, mesh=True, mesh_profiles=self._profiles,
            namespaces=self._namespaces,
        )
        self._sandbox.start()
        self._sandbox.write_kubeconfig(self.kubeconfig)
        self.recorder = ChangeRecorder(self._sandbox.emulator, RECORDED)
        self.recorder.start()
        self.notifications = DemoNotifications()
        self.notifications.start()
        self.create(resources.CONFIGMAPS, NAMESPACE, self.notifications.configmap())
        self._start_controller()
        progress(f"started the controller (pid {self.controller_pid}): rollouts controller --kubeconfig "
                 f"{self.kubeconfig}")
        if self._dashboard_port is not None:
            self._start_dashboard(self._dashboard_port, progress)
        if self._with_prometheus:
            progress("starting Prometheus, scraping the mesh every second")
            self._start_prometheus()
            progress(f"Prometheus (pid {self.prometheus_pid}) at {self.prometheus_url}")

    def stop(self) -> None:
        """Stop everything started, the controller first (it must not act on a cluster going away)."""
        if self.recorder is not None:
            self.recorder.stop()
        errors: list[BaseException] = []
        for step in (
            self._stop_dashboard, self._stop_controller, self._stop_notifications, self._stop_prometheus,
            self._stop_sandbox,
        ):
            try:
                step()
            except Exception as error:  # keep stopping the rest; report the first failure at the end
                errors.append(error)
        if errors:
            raise DemoEnvironmentError(f"could not stop everything cleanly: {errors[0]}") from errors[0]

    def __enter__(self) -> DemoEnvironment:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----------------------------------------------------------------------------------------------- dashboard

    def _start_dashboard(self, port: int, progress: Callable[[str], None]) -> None:
        """The dashboard on loopback, reading the sandbox with the demo's kubeconfig; its address, for a person."""
        from dashboard.access_guard import DashboardSettings
        from dashboard.server import DashboardServer
        from kube.client import KubeClient

        client = KubeClient.from_kubeconfig(str(self.kubeconfig))
        try:
            server = DashboardServer(DashboardSettings(address=LOOPBACK, port=port), client).start()
        except (OSError, RuntimeError) as error:
            client.close()
            raise DemoEnvironmentError(f"the dashboard did not start: {error}") from None
        self._dashboard = (server, client)
        progress(f"dashboard: open {server.url} (it follows the scenarios live)")

    def _stop_dashboard(self) -> None:
        running, self._dashboard = self._dashboard, None
        if running is not None:
            server, client = running
            server.stop()
            client.close()

    # ---------------------------------------------------------------------------------------------- controller

    def controller_command(self) -> list[str]:
        """How the demo starts `rollouts controller`: no metrics server, and whatever it serves (the push webhook
        of the GitOps scenarios) on loopback only — the demo is for this machine, not the network."""
        return [
            sys.executable, "-c", "from cli.main import main; main()",
            "controller", "--kubeconfig", str(self.kubeconfig), "--metrics-port", "0",
            "--metrics-address", LOOPBACK, "--webhook-address", LOOPBACK, "--notifications-namespace", NAMESPACE,
            *self._controller_args,
        ]

    def _start_controller(self) -> None:
        command = self.controller_command()
        # A file, not a pipe: nobody reads the log while the demo runs, and a full pipe would block the controller.
        with self.controller_log.open("wb") as log:
            self._controller = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Not thread-safe in general; this hook only calls prctl, resolved before the fork.
                preexec_fn=_parent_death_signal(),
            )

    @property
    def controller_pid(self) -> int | None:
        return self._controller.pid if self._controller is not None else None

    def check_controller(self) -> None:
        """Raise if the controller process has exited."""
        process = self._controller
        if process is not None and process.poll() is not None:
            raise DemoEnvironmentError(
                f"the controller exited with status {process.returncode}; its log:\n{self.controller_log_tail()}"
            )

    def controller_log_tail(self, lines: int = 30) -> str:
        try:
            text = self.controller_log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def controller_errors(self) -> list[str]:
        """The ERROR lines and tracebacks the controller logged: a demo that "worked" while the controller hid an
        exception did not work."""
        try:
            lines = self.controller_log.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [line for line in lines if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")]

    def _stop_controller(self) -> None:
        process, self._controller = self._controller, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(CONTROLLER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _stop_notifications(self) -> None:
        notifications, self.notifications = self.notifications, None
        if notifications is not None:
            notifications.stop()

    # ---------------------------------------------------------------------------------------------- Prometheus

    def _start_prometheus(self) -> None:
        sandbox = self._require_sandbox()
        self._prometheus = PrometheusServer(
            [ScrapeTarget(sandbox.mesh.metrics_target, job="istio-mesh")], startup_timeout=PROMETHEUS_START_SECONDS
        )

        async def spawn() -> asyncio.Task[None]:
            self._prometheus_stop = asyncio.Event()
            return asyncio.get_running_loop().create_task(self._serve_prometheus())

        # On the sandbox's loop, as `Sandbox(prometheus=True)` runs it; one task owns the whole lifetime, so that
        # stopping it while it still starts (Ctrl-C) is a cancellation its own clean-up handles.
        task = sandbox.call(spawn)
        self._prometheus_task = task
        while not self._prometheus_started.wait(0.1):
            if task.done():
                # An exception is re-raised here; a task that ended without starting is a bug.
                sandbox.call(self._task_result, task)
                raise DemoEnvironmentError("Prometheus stopped before it started")

    @staticmethod
    async def _task_result(task: asyncio.Task[None]) -> None:
        task.result()

    async def _serve_prometheus(self) -> None:
        assert self._prometheus is not None and self._prometheus_stop is not None
        async with self._prometheus:
            self._prometheus_started.set()
            await self._prometheus_stop.wait()

    @property
    def prometheus_url(self) -> str:
        if self._prometheus is None:
            raise RuntimeError("Prometheus is not started")
        return self._prometheus.url

    @property
    def prometheus_pid(self) -> int | None:
        return self._prometheus.pid if self._prometheus is not None else None

    def _stop_prometheus(self) -> None:
        task, self._prometheus_task = self._prometheus_task, None
        sandbox = self._sandbox
        if task is None or sandbox is None:
            return

        async def finish() -> None:
            if self._prometheus_started.is_set() and self._prometheus_stop is not None:
                self._prometheus_stop.set()
            else:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(task), PROMETHEUS_START_SECONDS)

        sandbox.call(finish)

    # ------------------------------------------------------------------------------------------------- sandbox

    def _stop_sandbox(self) -> None:
        sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            sandbox.stop()

    def _require_sandbox(self) -> SandboxThread:
        if self._sandbox is None:
            raise RuntimeError("the sandbox is not started")
        return self._sandbox

    # ------------------------------------------------------------------------------------------ reading/writing

    def apply(self, documents: Sequence[JsonObject]) -> None:
        """Create the documents in the demo's namespace (in-process: the same rules as over HTTP)."""
        emulator = self._require_sandbox().emulator
        for document in documents:
            kind = KINDS_BY_NAME.get(str(document.get("kind")))
            if kind is None:
                raise DemoEnvironmentError(f"the demo cannot apply a {document.get('kind')}")
            group, _, version = str(document.get("apiVersion", "")).rpartition("/")
            emulator.create_object(group, version, kind.plural, document, NAMESPACE)

    def set_image(self, rollout: str, container: str, image: str) -> None:
        """What `rollouts set image ROLLOUT CONTAINER=IMAGE` sends, for one container at a known index."""
        emulator = self._require_sandbox().emulator
        current = self.get(resources.ROLLOUTS, rollout) or {}
        containers = (((current.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        index = next((i for i, c in enumerate(containers) if c.get("name") == container), None)
        if index is None:
            raise DemoEnvironmentError(f"rollout {rollout} has no container {container}")
        patch = [
            {"op": "test", "path": f"/spec/template/spec/containers/{index}/name", "value": container},
            {"op": "replace", "path": f"/spec/template/spec/containers/{index}/image", "value": image},
        ]
        emulator.patch_object(
            resources.ROLLOUTS.group, resources.ROLLOUTS.version, resources.ROLLOUTS.plural, NAMESPACE, rollout, patch,
            patch_type="json",
        )

    def get(self, kind: resources.ResourceKind, name: str, namespace: str = NAMESPACE) -> JsonObject | None:
        return self._require_sandbox().emulator.get_object(kind.group, kind.version, kind.plural, namespace, name)

    def list_objects(self, kind: resources.ResourceKind, namespace: str) -> list[JsonObject]:
        """Every object of ``kind`` in ``namespace`` (in-process)."""
        objects: list[JsonObject] = self._require_sandbox().emulator.list_objects(
            kind.group, kind.version, kind.plural, namespace)
        return objects

    def patch(self, kind: resources.ResourceKind, namespace: str, name: str, patch: JsonObject) -> None:
        """A JSON merge patch, as `kubectl patch --type merge` or a `kubectl edit` sends it (in-process)."""
        self._require_sandbox().emulator.patch_object(kind.group, kind.version, kind.plural, namespace, name, patch)

    def create(self, kind: resources.ResourceKind, namespace: str, document: JsonObject) -> None:
        """Create one object of any kind the sandbox serves (in-process)."""
        self._require_sandbox().emulator.create_object(kind.group, kind.version, kind.plural, document, namespace)

    def family(self) -> tuple[list[JsonObject], list[JsonObject], list[JsonObject]]:
        """The namespace's ReplicaSets, pods and AnalysisRuns, for the `get rollout` tree."""
        emulator = self._require_sandbox().emulator
        return tuple(  # type: ignore[return-value]
            emulator.list_objects(kind.group, kind.version, kind.plural, NAMESPACE)
            for kind in (resources.REPLICASETS, resources.PODS, resources.ANALYSIS_RUNS)
        )

    def wait_for(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `check` (cheap, in-process) until true; fail early if the controller died."""
        deadline = time.monotonic() + timeout
        while not check():
            self.check_controller()
            if time.monotonic() > deadline:
                raise DemoEnvironmentError(f"timed out after {timeout:g}s waiting for {what}; the controller's "
                                           f"log:\n{self.controller_log_tail()}")
            time.sleep(0.05)
