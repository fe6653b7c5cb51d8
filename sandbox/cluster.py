"""The whole sandbox cluster in one object: API emulator, Istio, Gateway API and project CRDs, workload simulator,
and on request a simulated Istio mesh (`mesh=True`) and a real Prometheus scraping it (`prometheus=True`).

`Sandbox` runs on the caller's event loop (`async with Sandbox() as cluster`); `SandboxThread` runs the same
on a thread of its own for blocking callers — the `kubernetes` client, kopf's KopfRunner — which would
otherwise stall the loop that serves them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Generic, TypedDict, TypeVar, Unpack, cast

import yaml

from sandbox.background import Background, started_part
from sandbox.controllers import ControllerDelays, ControllerSimulator
from sandbox.emulator import ApiEmulator, ApiError, running_emulator
from sandbox.emulator.authentication import bearer_header
from sandbox.emulator.faults import FaultInjector, FaultPolicy
from sandbox.gateway_api_crds import gateway_api_crds
from sandbox.istio_crds import istio_crds
from sandbox.loop_thread import LoopThread
from sandbox.mesh import MeshSimulator
from sandbox.mesh_traffic import VersionProfile
from sandbox.prometheus import PrometheusServer, ScrapeTarget
from sandbox.storage_plans import default_storage_class
from sandbox.workloads import WorkloadSimulator

CRD_KIND: Final = "CustomResourceDefinition"
KUBECONFIG_CONTEXT: Final = "sandbox"
# The emulator checks no credentials unless given a bearer token, but kubectl and the kubernetes client want a user
# with something in it.
KUBECONFIG_TOKEN: Final = "sandbox-token"
MESH_SCRAPE_JOB: Final = "istio-mesh"

T = TypeVar("T")


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


def kubeconfig_for(url: str, *, namespace: str = "default", token: str = KUBECONFIG_TOKEN) -> dict[str, Any]:
    """A kubeconfig with one cluster, user (authenticated by ``token``) and context, all named `sandbox`."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": KUBECONFIG_CONTEXT, "cluster": {"server": url, "insecure-skip-tls-verify": True}}],
        "users": [{"name": KUBECONFIG_CONTEXT, "user": {"token": token}}],
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


def write_kubeconfig(path: Path, url: str, *, namespace: str = "default", token: str = KUBECONFIG_TOKEN) -> Path:
    """Write a kubeconfig for `url` at `path` atomically (a reader never sees half a file); mode 0600."""
    path = Path(path)
    text = yaml.safe_dump(kubeconfig_for(url, namespace=namespace, token=token), sort_keys=False)
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


class SandboxOptions(TypedDict, total=False):
    """`Sandbox`'s keyword arguments, for what passes them on (`SandboxThread`)."""

    host: str
    port: int
    crd_dirs: Sequence[Path]
    ready_delay: float | None
    ready_delay_by_image: Mapping[str, float | None] | None
    namespaces: Sequence[str]
    simulate_workloads: bool
    nodes: int
    controller_delays: ControllerDelays | None
    mesh: bool
    mesh_profiles: Mapping[str, VersionProfile] | None
    prometheus: bool
    bearer_token: str | None
    faults: FaultPolicy | None


class _StartedPart(Generic[T]):
    """A part of a `Sandbox` that exists while it runs (if asked for): what `start()` stored under the same name
    with a leading underscore; before that, or when not asked for, a RuntimeError saying why (``missing``)."""

    def __init__(self, missing: str) -> None:
        self.missing = missing

    def __set_name__(self, owner: type, name: str) -> None:
        self.stored = f"_{name}"

    def __get__(self, sandbox: Sandbox, owner: type | None = None) -> T:
        return started_part(cast("T | None", getattr(sandbox, self.stored)), self.missing)

    def __set__(self, sandbox: Sandbox, value: T) -> None:
        raise AttributeError(f"{self.stored[1:]} is set by start(), not assigned")


class Sandbox(Background):
    """An emulated cluster served over HTTP, with Istio's CRDs, the project's CRDs and simulated workloads.

    `mesh=True` adds a `MeshSimulator` (`.mesh`): traffic along every VirtualService, reported as Istio's
    metrics; `mesh_profiles` maps container images to how their pods behave. `prometheus=True` adds a real
    Prometheus (`.prometheus`, URL at `.prometheus.url`) scraping the mesh every second; starting it takes
    about 6 s, until its first scrape of the mesh succeeds. `bearer_token` makes the API refuse (401) every
    request that does not present it, as a cluster with a static token does; the kubeconfig written carries it.
    `faults` injects API failures into requests once
    the sandbox has started (`sandbox.emulator.faults`); `.emulator.outage(seconds)` refuses every request for a
    while, and `.emulator.faults.injected` counts what was injected.
    """

    url = _StartedPart[str]("the sandbox is not started")
    emulator = _StartedPart[ApiEmulator]("the sandbox is not started")
    workloads = _StartedPart[WorkloadSimulator](
        "the sandbox simulates no workloads (not started, or simulate_workloads=False)")
    controllers = _StartedPart[ControllerSimulator](
        "the sandbox simulates no controllers (not started, or simulate_workloads=False)")
    mesh = _StartedPart[MeshSimulator]("the sandbox simulates no mesh (not started, or mesh=False)")
    prometheus = _StartedPart[PrometheusServer]("the sandbox runs no Prometheus (not started, or prometheus=False)")

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
        bearer_token: str | None = None,
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
        self.bearer_token = bearer_token
        self.fault_policy = faults
        self._stack: contextlib.AsyncExitStack | None = None
        self._url: str | None = None
        self._emulator: ApiEmulator | None = None
        self._workloads: WorkloadSimulator | None = None
        self._controllers: ControllerSimulator | None = None
        self._mesh: MeshSimulator | None = None
        self._prometheus: PrometheusServer | None = None

    def write_kubeconfig(self, path: Path, *, namespace: str = "default") -> Path:
        return write_kubeconfig(path, self.url, namespace=namespace, token=self.bearer_token or KUBECONFIG_TOKEN)

    async def start(self) -> None:
        if self._stack is not None:
            raise RuntimeError("the sandbox is already started")
        # Read the CRD files before listening, so a broken file fails fast and leaves nothing running.
        crds = [(None, crd) for crd in (*istio_crds(), *gateway_api_crds())] + load_crd_files(self.crd_dirs)
        stack = contextlib.AsyncExitStack()
        self._stack = stack
        try:
            handle = await stack.enter_async_context(
                running_emulator(self.host, self.port, emulator=ApiEmulator(bearer_token=self.bearer_token)))
            headers = bearer_header(self.bearer_token)
            self._url, self._emulator = handle.url, handle.emulator
            self._ensure_namespaces()
            self._ensure_default_storage_class()
            self._install_crds(crds)
            if self.simulate_workloads:
                self._workloads = WorkloadSimulator(
                    handle.url, ready_delay=self.ready_delay, ready_delay_by_image=self.ready_delay_by_image,
                    headers=headers,
                    nodes=self.nodes,
                )
                await stack.enter_async_context(self._workloads)
                self._controllers = ControllerSimulator(handle.url, nodes=self.nodes, delays=self.controller_delays,
                                                       headers=headers)
                await stack.enter_async_context(self._controllers)
            if self.simulate_mesh:
                self._mesh = MeshSimulator(handle.url, profiles=self.mesh_profiles, headers=headers)
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


class _OfSandbox(Generic[T]):
    """An attribute of a `SandboxThread` that is the same attribute of its `Sandbox` (same value, same error before
    start)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, thread: SandboxThread, owner: type | None = None) -> T:
        return cast(T, getattr(thread.sandbox, self.name))

    def __set__(self, thread: SandboxThread, value: T) -> None:
        raise AttributeError(f"{self.name} is its Sandbox's, not assigned")


class SandboxThread(LoopThread[Sandbox]):
    """A `Sandbox` on its own thread and event loop, for blocking callers; start()/stop() or `with`."""

    url = _OfSandbox[str]()
    emulator = _OfSandbox[ApiEmulator]()
    workloads = _OfSandbox[WorkloadSimulator]()
    controllers = _OfSandbox[ControllerSimulator]()
    mesh = _OfSandbox[MeshSimulator]()
    prometheus = _OfSandbox[PrometheusServer]()

    def __init__(self, *, startup_timeout: float = 30.0, **options: Unpack[SandboxOptions]) -> None:
        """`options` are `Sandbox`'s own."""
        self.sandbox = Sandbox(**options)
        super().__init__("sandbox", lambda: self.sandbox, startup_timeout=startup_timeout)

    def write_kubeconfig(self, path: Path, *, namespace: str = "default") -> Path:
        return self.sandbox.write_kubeconfig(path, namespace=namespace)
