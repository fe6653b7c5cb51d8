"""The ReplicaSets a Rollout owns: reading them, the body of a new one, and the patches that change them.

Strategy-neutral on purpose: canary and blue-green both create, find, scale, annotate and clean up ReplicaSets the
same way; only how many replicas each side gets differs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kube.json_data import JsonObject
from kube.object_meta import controller_owner_reference
from kube.resources import ROLLOUTS
from kube.timestamps import parse_time
from rollouts.hashing import HASH_LABEL

REVISION_ANNOTATION = "rollout.argoproj.io/revision"
DESIRED_REPLICAS_ANNOTATION = "rollout.argoproj.io/desired-replicas"
SCALE_DOWN_DEADLINE_ANNOTATION = "scale-down-deadline"


# --- reading -------------------------------------------------------------------------------------


def name_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def labels_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    labels = (obj.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def annotations_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    annotations = (obj.get("metadata") or {}).get("annotations")
    return annotations if isinstance(annotations, dict) else {}


def pod_template_hash_of(rs: Mapping[str, Any]) -> str | None:
    value = labels_of(rs).get(HASH_LABEL)
    return value if isinstance(value, str) and value else None


def revision_of(rs: Mapping[str, Any]) -> int:
    """The ``rollout.argoproj.io/revision`` annotation; 0 when missing or not a number."""
    try:
        return int(str(annotations_of(rs).get(REVISION_ANNOTATION, "0")))
    except ValueError:
        return 0


def _int_field(obj: Mapping[str, Any], section: str, key: str, default: int) -> int:
    value = (obj.get(section) or {}).get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def spec_replicas(rs: Mapping[str, Any]) -> int:
    # The API server defaults spec.replicas to 1, so an absent value means 1.
    return _int_field(rs, "spec", "replicas", 1)


def status_replicas(rs: Mapping[str, Any]) -> int:
    return _int_field(rs, "status", "replicas", 0)


def ready_replicas(rs: Mapping[str, Any]) -> int:
    return _int_field(rs, "status", "readyReplicas", 0)


def available_replicas(rs: Mapping[str, Any]) -> int:
    return _int_field(rs, "status", "availableReplicas", 0)


def is_fully_available(rs: Mapping[str, Any] | None) -> bool:
    """Every wanted pod is available (and there is at least one): a Service may be pointed at it."""
    if rs is None:
        return False
    wanted = spec_replicas(rs)
    return wanted > 0 and available_replicas(rs) >= wanted


def is_being_deleted(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def has_scale_down_deadline(rs: Mapping[str, Any]) -> bool:
    return SCALE_DOWN_DEADLINE_ANNOTATION in annotations_of(rs)


def scale_down_deadline(rs: Mapping[str, Any]) -> datetime | None:
    """When the ReplicaSet may be scaled to 0; None when not annotated or unreadable."""
    return parse_time(annotations_of(rs).get(SCALE_DOWN_DEADLINE_ANNOTATION))


@dataclass(frozen=True)
class ReplicaTotals:
    """Pod counts summed over ReplicaSets, as a Rollout's status reports them."""

    replicas: int = 0
    ready: int = 0
    available: int = 0


def totals(replica_sets: Iterable[Mapping[str, Any]]) -> ReplicaTotals:
    found = list(replica_sets)
    return ReplicaTotals(
        replicas=sum(status_replicas(rs) for rs in found),
        ready=sum(ready_replicas(rs) for rs in found),
        available=sum(available_replicas(rs) for rs in found),
    )


# --- which is which -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaSetGroups:
    """The owned ReplicaSets by role: the one running the current template, the stable one, and the rest.

    ``new`` and ``stable`` are the same object once the Rollout is fully promoted. ``others`` excludes both and
    is ordered by name, so everything decided from it is deterministic.
    """

    new: JsonObject | None
    stable: JsonObject | None
    others: tuple[JsonObject, ...] = field(default=())

    @property
    def all(self) -> tuple[JsonObject, ...]:
        found: list[JsonObject] = []
        for rs in (self.new, self.stable, *self.others):
            if rs is not None and all(rs is not seen for seen in found):
                found.append(rs)
        return tuple(found)

    @property
    def stable_is_distinct(self) -> bool:
        """A stable ReplicaSet exists and is not the new one (Argo's CheckStableRSExists)."""
        return self.stable is not None and (self.new is None or name_of(self.stable) != name_of(self.new))


def find_by_hash(replica_sets: Sequence[JsonObject], pod_hash: str | None) -> JsonObject | None:
    """The ReplicaSet labelled with ``pod_hash``; the first by name if (against the odds) several are."""
    if not pod_hash:
        return None
    matches = [rs for rs in replica_sets if pod_template_hash_of(rs) == pod_hash]
    return min(matches, key=name_of) if matches else None


def group_replica_sets(
    replica_sets: Sequence[JsonObject], current_hash: str, stable_hash: str | None
) -> ReplicaSetGroups:
    new = find_by_hash(replica_sets, current_hash)
    stable = find_by_hash(replica_sets, stable_hash)
    chosen = {name_of(rs) for rs in (new, stable) if rs is not None}
    others = tuple(sorted((rs for rs in replica_sets if name_of(rs) not in chosen), key=name_of))
    return ReplicaSetGroups(new=new, stable=stable, others=others)


def max_revision(replica_sets: Iterable[Mapping[str, Any]]) -> int:
    return max((revision_of(rs) for rs in replica_sets), default=0)


# --- writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """The Rollout that owns the ReplicaSets (for their controller ownerReference)."""

    name: str
    namespace: str
    uid: str
    """The Rollout's ``metadata.uid``, which the ownerReference names: the garbage collector deletes the ReplicaSets
    with that very Rollout, not with a later one of the same name."""


def replica_set_name(rollout_name: str, pod_hash: str) -> str:
    """Argo's name for a Rollout's ReplicaSet, ``<rollout>-<pod-template-hash>``: one per revision of the template."""
    return f"{rollout_name}-{pod_hash}"


def new_replica_set(
    *,
    owner: Owner,
    template: Mapping[str, Any],
    selector: Mapping[str, Any],
    pod_hash: str,
    revision: int,
    replicas: int,
    desired_replicas: int,
    min_ready_seconds: int,
) -> JsonObject:
    """The body of the ReplicaSet that runs ``template``: the template's labels plus the hash label, a selector that
    includes the hash (so it never adopts another revision's pods), and a controller reference to the Rollout."""
    pod_template = copy.deepcopy(dict(template))
    template_metadata = dict(pod_template.get("metadata") or {})
    labels = {**(template_metadata.get("labels") or {}), HASH_LABEL: pod_hash}
    template_metadata["labels"] = labels
    pod_template["metadata"] = template_metadata
    rs_selector = copy.deepcopy(dict(selector))
    rs_selector["matchLabels"] = {**(rs_selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": replica_set_name(owner.name, pod_hash),
            "namespace": owner.namespace,
            "labels": dict(labels),
            "annotations": {
                REVISION_ANNOTATION: str(revision),
                DESIRED_REPLICAS_ANNOTATION: str(desired_replicas),
            },
            "ownerReferences": [
                controller_owner_reference(
                    api_version=ROLLOUTS.api_version, kind="Rollout", name=owner.name, uid=owner.uid
                )
            ],
        },
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready_seconds,
            "selector": rs_selector,
            "template": pod_template,
        },
    }


def scale_patch(rs: Mapping[str, Any], replicas: int, desired_replicas: int) -> JsonObject | None:
    """``{"spec": {"replicas": n}}`` (with the desired-replicas annotation kept current), or None when already there."""
    if spec_replicas(rs) == replicas:
        return None
    patch: JsonObject = {"spec": {"replicas": replicas}}
    if annotations_of(rs).get(DESIRED_REPLICAS_ANNOTATION) != str(desired_replicas):
        patch["metadata"] = {"annotations": {DESIRED_REPLICAS_ANNOTATION: str(desired_replicas)}}
    return patch


def revision_sync_patch(rs: Mapping[str, Any], revision: int, min_ready_seconds: int) -> JsonObject | None:
    """Raise the revision of a reused ReplicaSet (undo, fast rollback) and keep its minReadySeconds current."""
    patch: JsonObject = {}
    if revision_of(rs) < revision:
        patch["metadata"] = {"annotations": {REVISION_ANNOTATION: str(revision)}}
    if _int_field(rs, "spec", "minReadySeconds", 0) != min_ready_seconds:
        patch["spec"] = {"minReadySeconds": min_ready_seconds}
    return patch or None


def deadline_patch(deadline: str | None) -> JsonObject:
    """Set (or, with None, remove) the ``scale-down-deadline`` annotation."""
    return {"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: deadline}}}


def revision_history_to_delete(others: Sequence[JsonObject], limit: int) -> list[JsonObject]:
    """The oldest scaled-down ReplicaSets beyond ``revisionHistoryLimit`` (never the new or the stable one, which
    callers leave out of ``others``)."""
    alive = sorted((rs for rs in others if not is_being_deleted(rs)), key=_age_key)
    excess = len(alive) - max(limit, 0)
    doomed: list[JsonObject] = []
    for rs in alive[: max(excess, 0)]:
        # Pods still running, or a scale-down the ReplicaSet controller has not acted on yet: keep it for now.
        if spec_replicas(rs) != 0 or status_replicas(rs) != 0 or _generation_unobserved(rs):
            continue
        doomed.append(rs)
    return doomed


def _age_key(rs: Mapping[str, Any]) -> tuple[str, int, str]:
    created = str((rs.get("metadata") or {}).get("creationTimestamp") or "")
    return created, revision_of(rs), name_of(rs)


def _generation_unobserved(rs: Mapping[str, Any]) -> bool:
    generation = (rs.get("metadata") or {}).get("generation")
    observed = (rs.get("status") or {}).get("observedGeneration")
    return isinstance(generation, int) and isinstance(observed, int) and generation > observed
