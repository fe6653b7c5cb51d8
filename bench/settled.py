"""A fleet of Rollouts at rest, seeded straight into the emulator's store instead of rolled out one by one.

Letting the controller create ten thousand Rollouts' ReplicaSets, scale them, switch their Services and settle their
status takes many minutes (five at 5,000 Rollouts), and measures the controller's first rollouts rather than a
controller that starts over a cluster at rest. So the controller settles *one* Rollout of the fleet (the template,
the first index) the ordinary way; what it and the workload simulator left in the cluster — the Rollout with its
status and annotations, its ReplicaSet and that ReplicaSet's pod, its two Services and the VirtualService — is then
copied for every other index, with the Rollout's name, the pod-template hash (which differs per Rollout, since the
pod labels name the Rollout) and the owners' uids substituted. A controller started on the result finds every
Rollout as its own passes would have left it: its first pass over each writes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from bench.common import (
    NAMESPACE,
    ROLLOUT,
    SERVICE,
    VIRTUAL_SERVICE,
    Harness,
    RolloutStates,
    anyone_writing,
    fleet_objects,
    healthy,
    rollout_name,
    wait_until_quiet,
)
from kube.json_data import JsonObject
from rollouts.hashing import pod_template_hash
from sandbox.kubelet_plans import SIMULATE_ANNOTATION
from sandbox.recorder import Resource

REPLICA_SET: Final = Resource("apps", "v1", "replicasets")
POD: Final = Resource("", "v1", "pods")
HASH_LABEL: Final = "rollouts-pod-template-hash"
# Server-set fields: the emulator assigns its own on create.
SERVER_METADATA: Final = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")
# The order a copy is created in: owners before what they own, so that an owner's new uid is known.
SEED_ORDER: Final = (ROLLOUT, SERVICE, VIRTUAL_SERVICE, REPLICA_SET, POD)
KEPT_WRITING: Final = "the controller kept writing after the template Rollout had settled"
# The controller's /metrics holds a histogram per Rollout: at 10,000 Rollouts, rendering it once a second took more
# than a quarter of the controller's CPU during start-up (py-spy, results/scale-10000-profile.md). Every 3 s, and
# uncompressed, it costs little, for a start-up measured against a minute.
OBSERVED_POLL_S: Final = 3.0


@dataclass(frozen=True)
class SettledTemplate:
    """What the controller (and the simulator) left in the cluster for one settled Rollout: its objects as stored,
    owners first, and its pod-template hash."""

    index: int
    objects: tuple[tuple[Resource, JsonObject], ...]
    pod_hash: str


def seed_settled_fleet(
    harness: Harness, indexes: Sequence[int], steps: Sequence[JsonObject], *, analysis: JsonObject | None = None,
    routed: bool = True, timeout: float = 120.0,
) -> float:
    """Create Rollouts at rest with the given ``indexes`` (``bench.common.fleet_objects``, with ``steps``,
    ``analysis`` and ``routed``) in ``harness``'s sandbox and return the seconds it took.

    Starts the harness's controller for the template (the first index) and stops it again once the template is
    settled (Healthy and no write for a few seconds); the caller starts a fresh one. Waits until the simulator has
    made every copy's pod Ready, so that the cluster is at rest when this returns."""
    started = time.monotonic()
    first, *others = indexes
    ready_before = _ready_replica_sets(harness.emulator)
    for resource, body in fleet_objects(first, steps=steps, analysis=analysis, routed=routed):
        harness.create(resource, body)
    harness.start_controller()
    assert harness.recorder is not None
    states = RolloutStates(harness.recorder)

    def template_healthy() -> bool:
        states.refresh()
        return healthy(states.statuses.get(rollout_name(first)) or {})

    harness.wait(template_healthy, timeout, f"the template Rollout {rollout_name(first)} Healthy")
    wait_until_quiet(harness, timeout, failure=KEPT_WRITING)
    harness.stop_controller()
    template = capture_template(harness.emulator, first)
    for index in others:
        seed_copy(harness.emulator, template, index)
    wanted = ready_before + len(indexes)
    harness.wait(lambda: _ready_replica_sets(harness.emulator) >= wanted, timeout + len(indexes) * 0.05,
                 f"{wanted} ReplicaSets with their pod Ready", poll=2.0)
    wait_until_quiet(harness, timeout + len(indexes) * 0.05, writing=anyone_writing, failure=KEPT_WRITING)
    return time.monotonic() - started


def start_over_settled(
    harness: Harness, n: int, *, timeout: float, on_start: Callable[[int], object] | None = None
) -> float:
    """Start the harness's controller (``on_start`` gets its pid at once) and wait until it has finished a pass over
    each of ``n`` Rollouts (by its own per-Rollout ``rollout_reconcile`` count); the seconds from the process's
    start."""
    started = time.monotonic()
    harness.start_controller()
    if on_start is not None:
        assert harness.controller is not None
        on_start(harness.controller.pid)
    observed = 0
    while observed < n:
        harness.check_controller()
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"the controller observed {observed} of {n} Rollouts in {timeout:g} s")
        time.sleep(OBSERVED_POLL_S)
        observed = observed_rollouts(harness.metrics_port)
    return time.monotonic() - started


def observed_rollouts(metrics_port: int) -> int:
    """How many Rollouts the controller has finished a pass over: its ``rollout_reconcile_count`` series (one per
    Rollout) with a count above zero. 0 while its metrics server does not answer yet."""
    try:
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30,
                         headers={"Accept-Encoding": "identity"}).text
    except httpx.TransportError:
        return 0
    prefix = "rollout_reconcile_count{"
    return sum(1 for line in text.splitlines() if line.startswith(prefix) and float(line.rsplit(" ", 1)[1]) > 0)


def capture_template(emulator: Any, index: int) -> SettledTemplate:
    """The settled objects of Rollout ``index``, as stored."""
    name = rollout_name(index)
    rollout = emulator.get_object(ROLLOUT.group, ROLLOUT.version, ROLLOUT.plural, NAMESPACE, name)
    if rollout is None:
        raise RuntimeError(f"the template Rollout {NAMESPACE}/{name} is gone")
    pod_hash = str((rollout.get("status") or {}).get("stableRS") or "")
    if not pod_hash:
        raise RuntimeError(f"the template Rollout {NAMESPACE}/{name} has no stable ReplicaSet: it is not settled")
    wanted = {
        ROLLOUT: [rollout],
        # None for a Rollout without traffic routing.
        SERVICE: [emulator.get_object("", "v1", "services", NAMESPACE, f"{name}-{role}")
                  for role in ("canary", "stable")],
        VIRTUAL_SERVICE: [emulator.get_object(VIRTUAL_SERVICE.group, VIRTUAL_SERVICE.version, VIRTUAL_SERVICE.plural,
                                              NAMESPACE, name)],
        REPLICA_SET: [rs for rs in emulator.list_objects(REPLICA_SET.group, REPLICA_SET.version, REPLICA_SET.plural,
                                                         NAMESPACE)
                      if _owner_uids(rs) == {rollout["metadata"]["uid"]}],
    }
    if len(wanted[REPLICA_SET]) != 1:
        raise RuntimeError(f"the template Rollout owns {len(wanted[REPLICA_SET])} ReplicaSets, not one")
    replica_set_uid = wanted[REPLICA_SET][0]["metadata"]["uid"]
    wanted[POD] = [pod for pod in emulator.list_objects(POD.group, POD.version, POD.plural, NAMESPACE)
                   if _owner_uids(pod) == {replica_set_uid}]
    objects = tuple((resource, obj) for resource in SEED_ORDER for obj in wanted[resource] if obj is not None)
    return SettledTemplate(index, objects, pod_hash)


def copy_for(template: SettledTemplate, index: int) -> list[tuple[Resource, JsonObject, str]]:
    """The template's objects renamed for Rollout ``index``, each with the uid of the template object it copies:
    the Rollout's name and its own pod-template hash substituted everywhere (names, labels, selectors, status),
    server-set metadata dropped. Owner uids still name the template's objects (``seed_copy`` replaces them as it
    creates the owners)."""
    name, template_name = rollout_name(index), rollout_name(template.index)
    rollout = next(obj for resource, obj in template.objects if resource == ROLLOUT)
    renamed_template = json.loads(json.dumps(rollout["spec"]["template"]).replace(template_name, name))
    pod_hash = pod_template_hash(renamed_template)
    copies: list[tuple[Resource, JsonObject, str]] = []
    for resource, obj in template.objects:
        text = json.dumps(obj).replace(template_name, name).replace(template.pod_hash, pod_hash)
        body: JsonObject = json.loads(text)
        metadata = body.setdefault("metadata", {})
        uid = str(metadata.get("uid", ""))
        for key in SERVER_METADATA:
            metadata.pop(key, None)
        copies.append((resource, body, uid))
    return copies


def seed_copy(emulator: Any, template: SettledTemplate, index: int) -> None:
    """Create the copy of the template for Rollout ``index`` in-process, each status written through /status as
    its controller writes it.

    The ReplicaSet is created with the simulator told to keep off it (``sandbox.rollouts/simulate: "false"``)
    until its pod and status are stored, and handed back to it then: otherwise the simulator would create a pod
    of its own for a ReplicaSet it sees without one, and ten thousand pods through its HTTP loop take minutes."""
    uids: dict[str, str] = {}
    held: list[str] = []
    for resource, body, old_uid in copy_for(template, index):
        status = body.pop("status", None)
        metadata = body["metadata"]
        for owner in metadata.get("ownerReferences") or []:
            owner["uid"] = uids.get(owner.get("uid", ""), owner.get("uid", ""))
        if resource == REPLICA_SET:
            metadata.setdefault("annotations", {})[SIMULATE_ANNOTATION] = "false"
            held.append(metadata["name"])
        elif resource == POD:
            # The simulated kubelet would restamp the copied status (its own IP and start time): kept off for good.
            # The ReplicaSet's simulated controller still counts the pod, and deletes it when scaled down.
            metadata.setdefault("annotations", {})[SIMULATE_ANNOTATION] = "false"
        created = emulator.create_object(resource.group, resource.version, resource.plural, body, NAMESPACE)
        uids[old_uid] = created["metadata"]["uid"]
        if status:
            emulator.patch_object(resource.group, resource.version, resource.plural, NAMESPACE,
                                  created["metadata"]["name"], {"status": status}, subresource="status")
    for name in held:
        emulator.patch_object(REPLICA_SET.group, REPLICA_SET.version, REPLICA_SET.plural, NAMESPACE, name,
                              {"metadata": {"annotations": {SIMULATE_ANNOTATION: None}}})


def _owner_uids(obj: Mapping[str, Any]) -> set[str]:
    return {str(o.get("uid")) for o in (obj.get("metadata") or {}).get("ownerReferences") or []}


def _ready_replica_sets(emulator: Any) -> int:
    return sum(1 for rs in emulator.list_objects(REPLICA_SET.group, REPLICA_SET.version, REPLICA_SET.plural,
                                                 NAMESPACE)
               if (rs.get("status") or {}).get("availableReplicas") == (rs.get("spec") or {}).get("replicas"))
