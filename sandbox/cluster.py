"""The whole sandbox cluster in one object: API emulator, Istio and project CRDs, workload simulator, and on
request a simulated Istio mesh (`mesh=True`) and a real Prometheus scraping it (`prometheus=True`).

`Sandbox` runs on the caller's event loop (`async with Sandbox() as cluster`); `SandboxThread` runs the same
on a thread of its own for blocking callers — the `kubernetes` client, kopf's KopfRunner — which would
otherwise stall the loop that serves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Self, TypeVar

import yaml

from sandbox.controllers import ControllerDelays, ControllerSimulator
from sandbox.emulator import ApiEmulator, ApiError, running_emulator
from sandbox.emulator.faults import FaultInjector, FaultPolicy
from sandbox.istio_crds import istio_crds
from sandbox.mesh import MeshSimulator
from sandbox.mesh_traffic import VersionProfile
from sandbox.prometheus import PrometheusServer, ScrapeTarget
from sandbox.storage_plans import default_storage_class
from sandbox.workloads import WorkloadSimulator

T = TypeVar("T")

CRD_KIND: Final = "CustomResourceDefinition"
KUBECONFIG_CONTEXT: Final = "sandbox"
# The emulator checks no credentials, but kubectl and the kubernetes client want a user with something in it.
KUBECONFIG_TOKEN: Final = "sandbox-token"
MESH_SCRAPE_JOB: Final = "istio-mesh"


class SandboxError(RuntimeError):
    """The sandbox could not be set up as asked (a CRD file that does not load, say)."""


def load_crd_files(directories: Iterable[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Every CustomResourceDefinition in the `*.yaml` files of `directories`, with the file it came from.

    Other documents (a kustomization.yaml, say) are skipped; a CRD defined twice is taken from its last file.
    """
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for directory in directories:
        if not directory.is_dir():
            raise SandboxError(f"CRD directory {directory} does not exist")
        for path in sorted(directory.glob("*.yaml")):
            try:
                documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
            except (OSError, yaml.YAMLError) as error:
                raise SandboxError(f"cannot read CRDs from {path}: {error}") from error
            for document in documents:
                if isinstance(document, dict) and document.get("kind") == CRD_KIND:
                    name = str((document.get("metadata") or {}).get("name", ""))
                    found[name] = (path, document)
    return list(found.values())


def kubeconfig_for(url: str, *, namespace: str = "default") -> dict[str, Any]:
    """A kubeconfig with one cluster, user and context, all named `sandbox`."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": KUBECONFIG_CONTEXT, "cluster": {"server": url, "insecure-skip-tls-verify": True}}],
        "users": [{"name": KUBECONFIG_CONTEXT, "user": {"token": KUBECONFIG_TOKEN}}],
        "contexts": [
            {
                "name": KUBECONFIG_CONTEXT,
                "context": {
                    "cluster": KUBECONFIG_CONTEXT,
                    "user": KUBECONFIG_CONTEXT,
                    "namespace": namespace,
                },
            }
        ],
        "current-context": KUBECONFIG_CONTEXT,
        "preferences": {},
    }


def write_kubeconfig(path: Path, url: str, *, namespace: str = "default") -> Path:
    """Write a kubeconfig for `url` at `path` atomically (a reader never sees half a file); mode 0600."""
    path = Path(path)
    text = yaml.safe_dump(kubeconfig_for(url, namespace=namespace), sort_keys=False)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


class Sandbox:
    """An emulated cluster served over HTTP, with Istio's CRDs, the project's CRDs and simulated workloads.

    `mesh=True` adds a `MeshSimulator` (`.mesh`): traffic along every VirtualService, reported as Istio's
    metrics; `mesh_profiles` maps container images to how their pods behave. `prometheus=True` adds a real
    Prometheus (`.prometheus`, URL at `.prometheus.url`) scraping the mesh every second; starting it takes
    about 6 s, until its first scrape of the mesh succeeds. `faults` injects API failures into requests once
    the sandbox has started (`sandbox.emulator.faults`); `.emulator.outage(seconds)` refuses every request for a
    while, and `.emulator.faults.injected` counts what was injected.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        crd_dirs: Sequence[Path] = (),
        ready_delay: float | None = 0.5,
        ready_delay_by_image: Mapping[str, float | None] | None = None,
        namespaces: Sequence[str] = ("default",),
        simulate_workloads: bool = True,
        nodes: int = 1,
        controller_delays: ControllerDelays | None = None,
        mesh: bool = False,
        mesh_profiles: Mapping[str, VersionProfile] | None = None,
        prometheus: bool = False,
        faults: FaultPolicy | None = None,
    ) -> None:
        if nodes < 1:
            raise SandboxError(f"nodes: a sandbox needs at least 1 node, not {nodes}")
        self.host = host
        self.port = port
        self.crd_dirs = [Path(d) for d in crd_dirs]
        self.ready_delay = ready_delay
        self.ready_delay_by_image = dict(ready_delay_by_image or {})
        self.namespaces = list(namespaces)
        self.simulate_workloads = simulate_workloads
        self.nodes = nodes
        self.controller_delays = controller_delays or ControllerDelays()
        self.simulate_mesh = mesh
        self.mesh_profiles = dict(mesh_profiles or {})
        self.run_prometheus = prometheus
        self.fault_policy = faults
        self._stack: contextlib.AsyncExitStack | None = None
        self._url: str | None = None
        self._emulator: ApiEmulator | None = None
        self._workloads: WorkloadSimulator | None = None
        self._controllers: ControllerSimulator | None = None
        self._mesh: MeshSimulator | None = None
        self._prometheus: PrometheusServer | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the sandbox is not started")
        return self._url

    @property
    def emulator(self) -> ApiEmulator:
        if self._emulator is None:
            raise RuntimeError("the sandbox is not started")
        return self._emulator

    @property
    def workloads(self) -> WorkloadSimulator:
        if self._workloads is None:
            raise RuntimeError("the sandbox simulates no workloads (not started, or simulate_workloads=False)")
        return self._workloads

    @property
    def controllers(self) -> ControllerSimulator:
        if self._controllers is None:
            raise RuntimeError("the sandbox simulates no controllers (not started, or simulate_workloads=False)")
        return self._controllers

    @property
    def mesh(self) -> MeshSimulator:
        if self._mesh is None:
            raise RuntimeError("the sandbox simulates no mesh (not started, or mesh=False)")
        return self._mesh

    @property
    def prometheus(self) -> PrometheusServer:
        if self._prometheus is None:
            raise RuntimeError("the sandbox runs no Prometheus (not started, or prometheus=False)")
        return self._prometheus

    def write_kubeconfig(self, path: Path, *, namespace: str = "default") -> Path:
        return write_kubeconfig(path, self.url, namespace=namespace)

    async def start(self) -> None:
        if self._stack is not None:
            raise RuntimeError("the sandbox is already started")
        # Read the CRD files before listening, so a broken file fails fast and leaves nothing running.
        crds = [(None, crd) for crd in istio_crds()] + load_crd_files(self.crd_dirs)
        stack = contextlib.AsyncExitStack()
        self._stack = stack
        try:
            handle = await stack.enter_async_context(running_emulator(self.host, self.port))
            self._url, self._emulator = handle.url, handle.emulator
            self._ensure_namespaces()
            self._ensure_default_storage_class()
            self._install_crds(crds)
            if self.simulate_workloads:
                self._workloads = WorkloadSimulator(
                    handle.url, ready_delay=self.ready_delay, ready_delay_by_image=self.ready_delay_by_image,
                    nodes=self.nodes,
                )
                await stack.enter_async_context(self._workloads)
                self._controllers = ControllerSimulator(handle.url, nodes=self.nodes, delays=self.controller_delays)
                await stack.enter_async_context(self._controllers)
            if self.simulate_mesh:
                self._mesh = MeshSimulator(handle.url, profiles=self.mesh_profiles)
                await stack.enter_async_context(self._mesh)
            if self.run_prometheus:
                # Started last: it counts as started once it has scraped the mesh, which must be serving.
                targets = [ScrapeTarget(self._mesh.metrics_target, job=MESH_SCRAPE_JOB)] if self._mesh else []
                self._prometheus = PrometheusServer(targets)
                await stack.enter_async_context(self._prometheus)
            if self.fault_policy is not None:
                # Only once everything is up: the simulators' first lists are start-up, not what is under test.
                handle.emulator.faults = FaultInjector(self.fault_policy)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop Prometheus, the simulators, then the emulator. Idempotent."""
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()
        self._url = self._emulator = self._workloads = self._mesh = self._prometheus = None
        self._controllers = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _ensure_namespaces(self) -> None:
        emulator = self.emulator
        for name in self.namespaces:
            if emulator.get_object("", "v1", "namespaces", None, name) is None:
                emulator.create_object("", "v1", "namespaces", {"metadata": {"name": name}})

    def _ensure_default_storage_class(self) -> None:
        """A default StorageClass, as every real cluster has, so claims without a class get bound."""
        storage_class = default_storage_class()
        name = storage_class["metadata"]["name"]
        if self.emulator.get_object("storage.k8s.io", "v1", "storageclasses", None, name) is None:
            self.emulator.create_object("storage.k8s.io", "v1", "storageclasses", storage_class)

    def _install_crds(self, crds: Sequence[tuple[Path | None, dict[str, Any]]]) -> None:
        # Created as objects (which registers them), so that `kubectl get crd` and CRD watchers see them too.
        emulator = self.emulator
        for source, crd in crds:
            try:
                emulator.create_object("apiextensions.k8s.io", "v1", "customresourcedefinitions", crd)
            except ApiError as error:
                name = (crd.get("metadata") or {}).get("name", "?")
                origin = f" from {source}" if source else ""
                raise SandboxError(f"CRD {name}{origin} was refused: {error}") from error


class SandboxThread:
    """A `Sandbox` on its own thread and event loop, for blocking callers; start()/stop() or `with`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        crd_dirs: Sequence[Path] = (),
        ready_delay: float | None = 0.5,
        ready_delay_by_image: Mapping[str, float | None] | None = None,
        namespaces: Sequence[str] = ("default",),
        simulate_workloads: bool = True,
        nodes: int = 1,
        controller_delays: ControllerDelays | None = None,
        mesh: bool = False,
        mesh_profiles: Mapping[str, VersionProfile] | None = None,
        prometheus: bool = False,
        faults: FaultPolicy | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.sandbox = Sandbox(
            host=host,
            port=port,
            crd_dirs=crd_dirs,
            ready_delay=ready_delay,
            ready_delay_by_image=ready_delay_by_image,
            namespaces=namespaces,
            simulate_workloads=simulate_workloads,
            nodes=nodes,
            controller_delays=controller_delays,
            mesh=mesh,
            mesh_profiles=mesh_profiles,
            prometheus=prometheus,
            faults=faults,
        )
        self.startup_timeout = startup_timeout
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.sandbox.url

    @property
    def emulator(self) -> ApiEmulator:
        return self.sandbox.emulator

    @property
    def workloads(self) -> WorkloadSimulator:
        return self.sandbox.workloads

    @property
    def controllers(self) -> ControllerSimulator:
        return self.sandbox.controllers

    @property
    def mesh(self) -> MeshSimulator:
        return self.sandbox.mesh

    @property
    def prometheus(self) -> PrometheusServer:
        return self.sandbox.prometheus

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the sandbox thread is not running")
        return self._loop

    def write_kubeconfig(self, path: Path, *, namespace: str = "default") -> Path:
        return self.sandbox.write_kubeconfig(path, namespace=namespace)

    def start(self) -> None:
        """Start the sandbox and return once it serves; its startup errors are raised here."""
        if self._thread is not None:
            raise RuntimeError("a SandboxThread can be started only once")
        self._thread = threading.Thread(target=self._run, name="sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.startup_timeout):
            self.stop()
            raise TimeoutError(f"the sandbox did not start within {self.startup_timeout:g}s")
        if self._error is not None:
            self._thread.join()
            raise self._error

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the sandbox and its thread. Idempotent."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop may have closed already
            loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the sandbox thread did not stop within {timeout:g}s")

    def call(self, coro_fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """Run `coro_fn(*args)` on the sandbox's loop and return its result to this thread."""
        return asyncio.run_coroutine_threadsafe(coro_fn(*args), self.loop).result()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # handed to start(); nobody else could catch it on this thread
            self._error = error
        finally:
            self._ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        async with self.sandbox:
            self._ready.set()
            await self._stopping.wait()
