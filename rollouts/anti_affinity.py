"""``antiAffinity`` (canary and blue-green): keep the new version's pods off the nodes of the stable version's.

When a ReplicaSet is created for a new revision while another one is stable, its pod template gets one more pod
anti-affinity term: pods labelled ``rollouts-pod-template-hash`` In [the stable hash], per node
(``kubernetes.io/hostname``), either preferred (with the strategy's weight) or required. Once that revision is the
stable one the term has served its purpose and is taken off again (Argo's GenerateReplicaSetAffinity and
IfInjectedAntiAffinityRuleNeedsUpdate), so the pods it creates from then on may share nodes freely.

Pure: functions of plain dicts.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kube.json_data import JsonObject
from rollouts.hashing import HASH_LABEL
from rollouts.models import AntiAffinity

TOPOLOGY_KEY = "kubernetes.io/hostname"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"


def injected_term(stable_hash: str) -> JsonObject:
    """The pod affinity term that keeps a pod off nodes running pods of ``stable_hash``."""
    return {
        "labelSelector": {"matchExpressions": [{"key": HASH_LABEL, "operator": "In", "values": [stable_hash]}]},
        "topologyKey": TOPOLOGY_KEY,
    }


def with_anti_affinity(
    replica_set: Mapping[str, Any], anti_affinity: AntiAffinity | None, *, stable_hash: str | None, new_hash: str
) -> JsonObject:
    """A copy of a ReplicaSet body (about to be created) whose pod template avoids the stable's nodes; unchanged
    without ``antiAffinity``, without a stable revision, or when the new revision is the stable one."""
    body: JsonObject = copy.deepcopy(dict(replica_set))
    if anti_affinity is None or not stable_hash or stable_hash == new_hash:
        return body
    preferred = anti_affinity.preferred_during_scheduling_ignored_during_execution
    required = anti_affinity.required_during_scheduling_ignored_during_execution
    if preferred is None and required is None:
        return body
    pod_spec = body.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
    affinity = pod_spec["affinity"] = dict(pod_spec.get("affinity") or {})
    pod_anti_affinity = affinity["podAntiAffinity"] = dict(affinity.get("podAntiAffinity") or {})
    if preferred is not None:
        term = {"weight": preferred.weight, "podAffinityTerm": injected_term(stable_hash)}
        pod_anti_affinity[PREFERRED] = [*(pod_anti_affinity.get(PREFERRED) or []), term]
    else:
        pod_anti_affinity[REQUIRED] = [*(pod_anti_affinity.get(REQUIRED) or []), injected_term(stable_hash)]
    return body


def _is_injected(term: Any) -> bool:
    inner = term.get("podAffinityTerm", term) if isinstance(term, Mapping) else None
    if not isinstance(inner, Mapping) or inner.get("topologyKey") != TOPOLOGY_KEY:
        return False
    expressions = (inner.get("labelSelector") or {}).get("matchExpressions") or []
    return len(expressions) == 1 and (expressions[0] or {}).get("key") == HASH_LABEL


def removal_patch(replica_set: Mapping[str, Any]) -> JsonObject | None:
    """The merge patch that takes the injected terms off a ReplicaSet's pod template (the other terms stay);
    None when it has none."""
    pod_spec = ((replica_set.get("spec") or {}).get("template") or {}).get("spec") or {}
    pod_anti_affinity = (pod_spec.get("affinity") or {}).get("podAntiAffinity") or {}
    changes: JsonObject = {}
    for mode in (PREFERRED, REQUIRED):
        terms = pod_anti_affinity.get(mode) or []
        kept = [term for term in terms if not _is_injected(term)]
        if len(kept) != len(terms):
            changes[mode] = kept or None
    if not changes:
        return None
    return {"spec": {"template": {"spec": {"affinity": {"podAntiAffinity": changes}}}}}


__all__ = ["TOPOLOGY_KEY", "injected_term", "removal_patch", "with_anti_affinity"]
