"""What the ReplicaSet and Deployment controllers and the kubelet decide to write, as pure functions.

Pod manifests and names, the pods a scale-down removes, pod statuses across the kubelet's lifecycle, the
pod-template hash, and one reconcile pass of the Deployment controller (`plan_deployment`). The I/O lives in
`sandbox.workloads`; the status arithmetic in `sandbox.workload_status`.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from sandbox.workload_status import (
    DEFAULT_REVISION_HISTORY_LIMIT,
    DeploymentReason,
    JsonDict,
    condition_of,
    deployment_base_status,
    desired_replicas,
    format_timestamp,
    is_deployment_complete,
    is_pod_ready,
    is_rolling_update,
    max_surge,
    max_unavailable,
    new_condition,
    pod_ready_since,
    progress_deadline_seconds,
    progress_recheck_at,
    set_condition,
    set_progressing_condition,
)

# The alphabet of apimachinery's rand.String and SafeEncodeString: no vowels (no words), no 0/o or 1/l.
NAME_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"
NAME_SUFFIX_LENGTH: Final = 5
# generateName keeps room for the suffix inside the 63 characters a DNS label allows.
MAX_GENERATE_NAME_BASE: Final = 63 - NAME_SUFFIX_LENGTH

DEPLOYMENT_HASH_LABEL: Final = "pod-template-hash"
DEPLOYMENT_ANNOTATION_PREFIX: Final = "deployment.kubernetes.io/"
REVISION_ANNOTATION: Final = DEPLOYMENT_ANNOTATION_PREFIX + "revision"
DESIRED_REPLICAS_ANNOTATION: Final = DEPLOYMENT_ANNOTATION_PREFIX + "desired-replicas"
MAX_REPLICAS_ANNOTATION: Final = DEPLOYMENT_ANNOTATION_PREFIX + "max-replicas"

NODE_NAME: Final = "sandbox-node"
HOST_IP: Final = "10.0.0.10"


# --- pods ---------------------------------------------------------------------------------------------------


def pod_name_prefix(owner_name: str) -> str:
    """The generateName the ReplicaSet controller uses, truncated the way the API server truncates it."""
    return f"{owner_name}-"[:MAX_GENERATE_NAME_BASE]


def pod_name(owner_name: str, rng: random.Random | None = None) -> str:
    """`<owner>-<5 random characters>`, the name the API server generates from the controller's prefix."""
    choose = (rng or random).choice
    return pod_name_prefix(owner_name) + "".join(choose(NAME_ALPHABET) for _ in range(NAME_SUFFIX_LENGTH))


def controller_ref(owner: Mapping[str, Any], kind: str, api_version: str = "apps/v1") -> JsonDict:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    """The uid of the object's controlling owner, if it has one."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref.get("uid")  # type: ignore[no-any-return]
    return None


def pod_for_replica_set(rs: Mapping[str, Any], name: str) -> JsonDict:
    """controller.GetPodFromTemplate: the template's labels, annotations, finalizers, spec; owned by `rs`."""
    template = rs.get("spec", {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    metadata: JsonDict = {
        "name": name,
        "generateName": pod_name_prefix(rs["metadata"]["name"]),
        "namespace": rs["metadata"]["namespace"],
        "labels": dict(template_meta.get("labels") or {}),
        "ownerReferences": [controller_ref(rs, "ReplicaSet")],
    }
    if template_meta.get("annotations"):
        metadata["annotations"] = dict(template_meta["annotations"])
    if template_meta.get("finalizers"):
        metadata["finalizers"] = list(template_meta["finalizers"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def pod_images(pod: Mapping[str, Any]) -> list[str]:
    spec = pod.get("spec") or {}
    return [c.get("image", "") for c in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]]


def pod_ready_delay(
    pod: Mapping[str, Any], default: float | None, by_image: Mapping[str, float | None]
) -> float | None:
    """Seconds from start to Ready: the slowest of the pod's images; None (never) if an image never is."""
    delays = [by_image.get(image, default) for image in pod_images(pod)] or [default]
    if any(delay is None for delay in delays):
        return None
    return max(delay for delay in delays if delay is not None)


def _container_statuses(pod: Mapping[str, Any], *, running: bool, started_at: str) -> list[JsonDict]:
    statuses = []
    for container in (pod.get("spec") or {}).get("containers") or ():
        state: JsonDict = (
            {"running": {"startedAt": started_at}} if running else {"waiting": {"reason": "ContainerCreating"}}
        )
        statuses.append(
            {
                "name": container.get("name", ""),
                "image": container.get("image", ""),
                "imageID": "",
                "ready": running,
                "started": running,
                "restartCount": 0,
                "state": state,
            }
        )
    return statuses


def _pod_conditions(ready: bool, now: str, ready_since: str) -> list[JsonDict]:
    def condition(condition_type: str, status: bool, since: str) -> JsonDict:
        entry: JsonDict = {
            "type": condition_type,
            "status": "True" if status else "False",
            "lastProbeTime": None,
            "lastTransitionTime": since,
        }
        if not status:
            entry["reason"] = "ContainersNotReady"
        return entry

    return [
        condition("PodScheduled", True, now),
        condition("Initialized", True, now),
        condition("ContainersReady", ready, ready_since),
        condition("Ready", ready, ready_since),
    ]


def pending_pod_status(pod: Mapping[str, Any], now: float) -> JsonDict:
    """Scheduled, containers being created, not Ready."""
    stamp = format_timestamp(now)
    return {
        "phase": "Pending",
        "hostIP": HOST_IP,
        "startTime": stamp,
        "qosClass": "BestEffort",
        "conditions": _pod_conditions(False, stamp, stamp),
        "containerStatuses": _container_statuses(pod, running=False, started_at=stamp),
    }


def running_pod_status(pod: Mapping[str, Any], now: float, pod_ip: str) -> JsonDict:
    """Running with every container ready; keeps the startTime and scheduling times already reported."""
    stamp = format_timestamp(now)
    current = pod.get("status") or {}
    started = current.get("startTime") or stamp
    return {
        "phase": "Running",
        "hostIP": HOST_IP,
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": started,
        "qosClass": "BestEffort",
        "conditions": _pod_conditions(True, started, stamp),
        "containerStatuses": _container_statuses(pod, running=True, started_at=stamp),
    }


PodT = TypeVar("PodT", bound=Mapping[str, Any])


def pods_to_delete(pods: Sequence[PodT], count: int) -> list[PodT]:
    """The `count` pods a scale-down removes first (controller.ActivePods ordering, simplified).

    Not running before running, not ready before ready, recently ready before long ready, newer before older.
    """

    def rank(pod: Mapping[str, Any]) -> tuple[int, int, float]:
        phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get((pod.get("status") or {}).get("phase", ""), 0)
        return (phase_rank, int(is_pod_ready(pod)), -(pod_ready_since(pod) or 0.0))

    # Two stable sorts: newest first as the tie-breaker, then the ranking.
    newest_first = sorted(pods, key=lambda pod: pod.get("metadata", {}).get("creationTimestamp") or "", reverse=True)
    return sorted(newest_first, key=rank)[: max(0, count)]


# --- pod-template hash --------------------------------------------------------------------------------------


def fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """apimachinery's rand.SafeEncodeString: each byte mapped into NAME_ALPHABET."""
    return "".join(NAME_ALPHABET[ord(ch) % len(NAME_ALPHABET)] for ch in text)


def pod_template_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """controller.ComputeHash: FNV-32a of the template (canonical JSON here, Go's object dump there).

    The value differs from a real cluster's for the same template, but it has the same form and properties:
    deterministic, changed by any change to the template, and by the collision count.
    """
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


def template_without_hash(template: Mapping[str, Any], label: str) -> JsonDict:
    stripped = copy.deepcopy(dict(template))
    labels = (stripped.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(label, None)
    return stripped


# --- Deployment ---------------------------------------------------------------------------------------------


def revision_of(obj: Mapping[str, Any]) -> int:
    value = (obj.get("metadata", {}).get("annotations") or {}).get(REVISION_ANNOTATION)
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


@dataclass
class DeploymentPlan:
    """The writes of one Deployment reconcile pass, in the order they should be made."""

    create: JsonDict | None = None
    """A new ReplicaSet to create (its name carries the pod-template hash)."""
    patches: dict[str, JsonDict] = field(default_factory=dict)
    """Merge patches of existing ReplicaSets by name (scale, annotations, minReadySeconds)."""
    deletes: list[str] = field(default_factory=list)
    """Old ReplicaSets beyond revisionHistoryLimit."""
    deployment_annotations: dict[str, str] = field(default_factory=dict)
    """Annotations to set on the Deployment itself (its revision)."""
    status: JsonDict = field(default_factory=dict)
    """The full desired status; written only where it differs from the observed one."""
    recheck_at: float | None = None
    """Epoch seconds at which to look again even if nothing changes (progress deadline)."""


class _Pass:
    """Working state of one pass: copies of the ReplicaSets that reflect the writes planned so far."""

    def __init__(self, deployment: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]], now: float):
        self.deployment = deployment
        self.now = now
        self.plan = DeploymentPlan()
        self.status: JsonDict = copy.deepcopy(dict(deployment.get("status") or {}))
        self.replicas = desired_replicas(deployment)
        ordered = sorted(replica_sets, key=_creation_order)
        template = deployment.get("spec", {}).get("template") or {}
        self.new_rs: JsonDict | None = None
        self.old_rs: list[JsonDict] = []
        for rs in ordered:
            rs_copy = copy.deepcopy(dict(rs))
            rs_template = template_without_hash(rs.get("spec", {}).get("template") or {}, DEPLOYMENT_HASH_LABEL)
            if self.new_rs is None and rs_template == template:
                self.new_rs = rs_copy
            else:
                self.old_rs.append(rs_copy)

    @property
    def all_rs(self) -> list[JsonDict]:
        return [*self.old_rs, *([self.new_rs] if self.new_rs is not None else [])]

    def patch_rs(self, rs: JsonDict, patch: JsonDict) -> None:
        _merge(rs, patch)
        if rs is self.plan.create:
            return
        _merge(self.plan.patches.setdefault(rs["metadata"]["name"], {}), patch)

    def replica_annotations(self) -> dict[str, str]:
        return {
            DESIRED_REPLICAS_ANNOTATION: str(self.replicas),
            MAX_REPLICAS_ANNOTATION: str(self.replicas + max_surge(self.deployment)),
        }

    def scale(self, rs: JsonDict, replicas: int) -> bool:
        """deployment controller scaleReplicaSet: size and replica annotations; True if the size changed."""
        annotations = rs["metadata"].get("annotations") or {}
        wanted = self.replica_annotations()
        patch: JsonDict = {}
        if _spec_replicas(rs) != replicas:
            patch["spec"] = {"replicas": replicas}
        if any(annotations.get(k) != v for k, v in wanted.items()):
            patch["metadata"] = {"annotations": wanted}
        if patch:
            self.patch_rs(rs, patch)
        return "spec" in patch

    def sync_revision(self) -> None:
        """getNewReplicaSet for an existing one: top revision, minReadySeconds, FoundNewReplicaSet."""
        rs = self.new_rs
        if rs is None:
            return
        wanted_revision = max((revision_of(old) for old in self.old_rs), default=0) + 1
        patch: JsonDict = {}
        if revision_of(rs) < wanted_revision:
            patch["metadata"] = {"annotations": {REVISION_ANNOTATION: str(wanted_revision)}}
        min_ready = int(self.deployment.get("spec", {}).get("minReadySeconds") or 0)
        if int(rs.get("spec", {}).get("minReadySeconds") or 0) != min_ready:
            patch["spec"] = {"minReadySeconds": min_ready}
        if patch:
            self.patch_rs(rs, patch)
        if progress_deadline_seconds(self.deployment) is not None and condition_of(self.status, "Progressing") is None:
            message = f'Found new replica set "{rs["metadata"]["name"]}"'
            reason = DeploymentReason.FOUND_NEW_RS
            set_condition(self.status, new_condition("Progressing", "True", reason, message, self.now))

    def create_new_rs(self, collision_count: int | None) -> JsonDict:
        """getNewReplicaSet with createIfNotExisted: `<deployment>-<hash>`, sized by newRSNewReplicas."""
        d = self.deployment
        template = copy.deepcopy(d.get("spec", {}).get("template") or {})
        rs_hash = pod_template_hash(template, collision_count)
        template.setdefault("metadata", {}).setdefault("labels", {})[DEPLOYMENT_HASH_LABEL] = rs_hash
        selector = copy.deepcopy(d.get("spec", {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[DEPLOYMENT_HASH_LABEL] = rs_hash
        revision = max((revision_of(old) for old in self.old_rs), default=0) + 1
        rs: JsonDict = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{d['metadata']['name']}-{rs_hash}",
                "namespace": d["metadata"]["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {**self.replica_annotations(), REVISION_ANNOTATION: str(revision)},
                "ownerReferences": [controller_ref(d, "Deployment")],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": int(d.get("spec", {}).get("minReadySeconds") or 0),
                "selector": selector,
                "template": template,
            },
        }
        self.new_rs = rs
        rs["spec"]["replicas"] = self.new_rs_replicas()
        self.plan.create = rs
        if progress_deadline_seconds(d) is not None:
            message = f'Created new replica set "{rs["metadata"]["name"]}"'
            reason = DeploymentReason.NEW_RS_CREATED
            set_condition(self.status, new_condition("Progressing", "True", reason, message, self.now))
        return rs

    def new_rs_replicas(self) -> int:
        """deploymentutil.NewRSNewReplicas: grow the new ReplicaSet as far as maxSurge allows."""
        assert self.new_rs is not None
        current = _spec_replicas(self.new_rs)
        if not is_rolling_update(self.deployment):
            return self.replicas
        max_total = self.replicas + max_surge(self.deployment)
        total = sum(_spec_replicas(rs) for rs in self.all_rs)
        if total >= max_total:
            return current
        return current + min(max_total - total, self.replicas - current)

    # -- strategies --

    def sync_scale(self) -> None:
        """dc.scale for scaling events and paused Deployments (proportional scaling is left out)."""
        active = [rs for rs in self.all_rs if _spec_replicas(rs) > 0]
        if len(active) == 1 or not active:
            target = active[0] if active else self.new_rs or (self.old_rs[-1] if self.old_rs else None)
            if target is not None and _spec_replicas(target) != self.replicas:
                self.scale(target, self.replicas)
            return
        if self.new_rs is not None and _is_saturated(self.deployment, self.new_rs):
            for rs in self.old_rs:
                if _spec_replicas(rs) > 0:
                    self.scale(rs, 0)

    def reconcile_new_rs(self) -> bool:
        assert self.new_rs is not None
        current = _spec_replicas(self.new_rs)
        if current == self.replicas:
            return False
        if current > self.replicas:
            return self.scale(self.new_rs, self.replicas)
        return self.scale(self.new_rs, self.new_rs_replicas())

    def reconcile_old_rs(self) -> bool:
        """reconcileOldReplicaSets: scale old ReplicaSets down while minimum availability allows."""
        assert self.new_rs is not None
        if sum(_spec_replicas(rs) for rs in self.old_rs) == 0:
            return False
        min_available = self.replicas - max_unavailable(self.deployment)
        new_unavailable = _spec_replicas(self.new_rs) - _status(self.new_rs, "availableReplicas")
        max_scaled_down = sum(_spec_replicas(rs) for rs in self.all_rs) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        scaled = 0
        # Unhealthy replicas first: they cost no availability.
        for rs in self.old_rs:
            if scaled >= max_scaled_down:
                break
            unhealthy = _spec_replicas(rs) - _status(rs, "availableReplicas")
            if _spec_replicas(rs) == 0 or unhealthy <= 0:
                continue
            step = min(max_scaled_down - scaled, unhealthy)
            self.scale(rs, _spec_replicas(rs) - step)
            scaled += step
        available = sum(_status(rs, "availableReplicas") for rs in self.all_rs)
        if available > min_available:
            budget = available - min_available
            taken = 0
            for rs in self.old_rs:
                if taken >= budget:
                    break
                if _spec_replicas(rs) == 0:
                    continue
                step = min(_spec_replicas(rs), budget - taken)
                self.scale(rs, _spec_replicas(rs) - step)
                taken += step
            scaled += taken
        return scaled > 0

    def cleanup_history(self) -> None:
        """cleanupDeployment: delete the oldest idle ReplicaSets beyond revisionHistoryLimit."""
        limit = self.deployment.get("spec", {}).get("revisionHistoryLimit")
        limit = DEFAULT_REVISION_HISTORY_LIMIT if limit is None else int(limit)
        alive = [rs for rs in self.old_rs if not rs["metadata"].get("deletionTimestamp")]
        excess = len(alive) - limit
        if excess <= 0:
            return
        for rs in sorted(alive, key=lambda r: (revision_of(r), _creation_order(r)))[:excess]:
            idle = _status(rs, "replicas") == 0 and _spec_replicas(rs) == 0
            observed = int(rs["metadata"].get("generation") or 0) <= _status(rs, "observedGeneration")
            if idle and observed:
                self.plan.deletes.append(rs["metadata"]["name"])

    def paused_condition(self) -> None:
        """checkPausedConditions: Progressing Unknown while paused, and once more when resumed."""
        if progress_deadline_seconds(self.deployment) is None:
            return
        current = condition_of(self.status, "Progressing")
        if current is not None and current.get("reason") == DeploymentReason.TIMED_OUT:
            return
        paused_noted = current is not None and current.get("reason") == DeploymentReason.PAUSED
        paused = bool(self.deployment.get("spec", {}).get("paused"))
        if paused and not paused_noted:
            set_condition(
                self.status,
                new_condition("Progressing", "Unknown", DeploymentReason.PAUSED, "Deployment is paused", self.now),
            )
        elif not paused and paused_noted:
            set_condition(
                self.status,
                new_condition("Progressing", "Unknown", DeploymentReason.RESUMED, "Deployment is resumed", self.now),
            )

    def is_scaling_event(self) -> bool:
        for rs in self.all_rs:
            if _spec_replicas(rs) <= 0:
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS_ANNOTATION)
            if desired is not None and desired.isdigit() and int(desired) != self.replicas:
                return True
        return False

    def deployment_view(self) -> JsonDict:
        """The Deployment as the status functions should see it: with the conditions this pass set so far."""
        return {**self.deployment, "status": self.status}

    def finish(self, *, estimate_progress: bool) -> DeploymentPlan:
        view = self.deployment_view()
        if estimate_progress:
            # syncRolloutStatus compares against the status observed at the start of the pass.
            observed = {
                **self.deployment,
                "status": {
                    **(self.deployment.get("status") or {}),
                    "conditions": self.status.get("conditions"),
                },
            }
            status = deployment_base_status(observed, self.all_rs, self.new_rs, self.now)
            set_progressing_condition(status, observed, self.new_rs, self.now)
        else:
            status = deployment_base_status(view, self.all_rs, self.new_rs, self.now)
        self.plan.status = status
        self.plan.recheck_at = progress_recheck_at(self.deployment, status) if estimate_progress else None
        if self.new_rs is not None:
            revision = str(revision_of(self.new_rs))
            annotations = self.deployment.get("metadata", {}).get("annotations") or {}
            if revision != "0" and annotations.get(REVISION_ANNOTATION) != revision:
                self.plan.deployment_annotations[REVISION_ANNOTATION] = revision
        return self.plan


def plan_deployment(
    deployment: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]], now: float
) -> DeploymentPlan:
    """One pass of the Deployment controller's syncDeployment over the ReplicaSets the Deployment controls."""
    p = _Pass(deployment, [rs for rs in replica_sets if not rs["metadata"].get("deletionTimestamp")], now)
    spec = deployment.get("spec") or {}
    collision_count = (deployment.get("status") or {}).get("collisionCount")
    p.sync_revision()
    if deployment.get("metadata", {}).get("deletionTimestamp"):
        return p.finish(estimate_progress=False)
    p.paused_condition()
    if spec.get("paused") or p.is_scaling_event():
        p.sync_scale()
        if spec.get("paused"):
            p.cleanup_history()
        return p.finish(estimate_progress=False)
    if not is_rolling_update(deployment):
        return _recreate(p, collision_count)
    if p.new_rs is None:
        p.create_new_rs(collision_count)
    elif p.reconcile_new_rs():
        return p.finish(estimate_progress=True)
    if p.reconcile_old_rs():
        return p.finish(estimate_progress=True)
    if is_deployment_complete(deployment, deployment.get("status") or {}):
        p.cleanup_history()
    return p.finish(estimate_progress=True)


def _recreate(p: _Pass, collision_count: int | None) -> DeploymentPlan:
    """rolloutRecreate: all old pods gone before the new ReplicaSet is created or scaled up."""
    scaled_down = False
    for rs in p.old_rs:
        if _spec_replicas(rs) > 0:
            scaled_down = p.scale(rs, 0) or scaled_down
    if scaled_down or any(_status(rs, "replicas") > 0 for rs in p.old_rs):
        return p.finish(estimate_progress=True)
    if p.new_rs is None:
        p.create_new_rs(collision_count)
    elif _spec_replicas(p.new_rs) != p.replicas:
        p.scale(p.new_rs, p.replicas)
    if is_deployment_complete(p.deployment, p.deployment.get("status") or {}):
        p.cleanup_history()
    return p.finish(estimate_progress=True)


def _is_saturated(deployment: Mapping[str, Any], rs: Mapping[str, Any]) -> bool:
    desired = (rs.get("metadata", {}).get("annotations") or {}).get(DESIRED_REPLICAS_ANNOTATION)
    replicas = desired_replicas(deployment)
    return _spec_replicas(rs) == replicas and desired == str(replicas) and _status(rs, "availableReplicas") == replicas


def _spec_replicas(rs: Mapping[str, Any]) -> int:
    return int(rs.get("spec", {}).get("replicas") or 0)


def _status(rs: Mapping[str, Any], field_name: str) -> int:
    return int((rs.get("status") or {}).get(field_name) or 0)


def _creation_order(rs: Mapping[str, Any]) -> tuple[str, str]:
    metadata = rs.get("metadata", {})
    return (metadata.get("creationTimestamp") or "", metadata.get("name") or "")


def _merge(target: JsonDict, patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif isinstance(value, Mapping):
            target[key] = copy.deepcopy(dict(value))
        else:
            target[key] = value
