"""An in-memory Kubernetes API server for the sandbox, built on kmock.

Serves the REST semantics clients rely on (kubectl, the ``kubernetes`` client, kopf): server-set metadata,
optimistic concurrency, the three patch formats, selectors, watches with bookmarks, status and scale
subresources, finalizers, garbage collection, namespaces and CRDs.

Typical use::

    with EmulatorThread() as cluster:            # its own thread and loop; blocking clients are safe
        cluster.emulator.register_crd(rollout_crd)
        api = kubernetes.client.ApiClient(kubernetes.client.Configuration(host=cluster.url))
        ...
        assert cluster.emulator.get_object("argoproj.io", "v1alpha1", "rollouts", "default", "web")

    async with running_emulator() as handle:     # on the current loop, for asyncio code
        async with httpx.AsyncClient(base_url=handle.url) as http: ...

Reactions added with kmock's DSL take precedence over the API (``emulator["get /api/v1/pods"] << 500``),
which lets tests inject failures. Simulators may write in-process with ``create_object``/``patch_object``/
``replace_object``/``delete_object`` (same rules, watchers notified, not counted by ``write_count``).
"""

from sandbox.emulator.kmock_adapter import ApiServer
from sandbox.emulator.lifecycle import PatchType, Propagation
from sandbox.emulator.resources import ResourceSpec, ScalePaths
from sandbox.emulator.runners import EmulatorHandle, EmulatorThread, running_emulator
from sandbox.emulator.server import ApiEmulator, RequestRecord
from sandbox.emulator.status import ApiError

__all__ = [
    "ApiEmulator",
    "ApiError",
    "ApiServer",
    "EmulatorHandle",
    "EmulatorThread",
    "PatchType",
    "Propagation",
    "RequestRecord",
    "ResourceSpec",
    "ScalePaths",
    "running_emulator",
]
