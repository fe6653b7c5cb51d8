"""antiAffinity: the new version's pods avoid the nodes of the stable version's (Argo's docs/features/anti-affinity
and GenerateReplicaSetAffinity): one injected pod anti-affinity term per new ReplicaSet, against the stable's
pod-template hash, per node, preferred with the given weight or required; taken off once that version is stable."""

from __future__ import annotations

from typing import Any

from rollouts.anti_affinity import TOPOLOGY_KEY, removal_patch, with_anti_affinity
from rollouts.hashing import HASH_LABEL
from rollouts.models import AntiAffinity
from tests.unit.rollouts.bluegreen_builders import V1 as BG_V1
from tests.unit.rollouts.bluegreen_builders import V2 as BG_V2
from tests.unit.rollouts.bluegreen_builders import bg_deployed, to_pause
from tests.unit.rollouts.builders import NAME, Cluster, deployed, hash_of, replica_set

V1, V2 = "reviews:v1", "reviews:v2"
PREFERRED = {"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 50}}
REQUIRED = {"requiredDuringSchedulingIgnoredDuringExecution": {}}
STEPS = [{"setWeight": 20}, {"pause": {}}]


def pod_anti_affinity(rs: dict[str, Any]) -> dict[str, Any]:
    return dict(((rs["spec"]["template"]["spec"].get("affinity") or {}).get("podAntiAffinity")) or {})


def against(stable_hash: str) -> dict[str, Any]:
    return {
        "labelSelector": {"matchExpressions": [{"key": HASH_LABEL, "operator": "In", "values": [stable_hash]}]},
        "topologyKey": TOPOLOGY_KEY,
    }


def updated(anti_affinity: dict[str, Any]) -> Cluster:
    cluster = deployed(V1, steps=STEPS, canary={"antiAffinity": anti_affinity})
    cluster.set_spec({"template": {"spec": {"containers": [{"name": NAME, "image": V2}]}}})
    cluster.converge()
    return cluster


def test_the_first_version_has_no_stable_to_avoid() -> None:
    cluster = deployed(V1, steps=STEPS, canary={"antiAffinity": PREFERRED})
    assert pod_anti_affinity(cluster.rs(V1)) == {}


def test_a_new_version_prefers_nodes_without_stable_pods_with_the_given_weight() -> None:
    cluster = updated(PREFERRED)
    assert pod_anti_affinity(cluster.rs(V2)) == {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "podAffinityTerm": against(hash_of(V1))}]
    }
    assert pod_anti_affinity(cluster.rs(V1)) == {}


def test_required_anti_affinity_is_a_required_term() -> None:
    cluster = updated(REQUIRED)
    required = pod_anti_affinity(cluster.rs(V2))
    assert required == {"requiredDuringSchedulingIgnoredDuringExecution": [against(hash_of(V1))]}


def test_the_term_is_taken_off_once_the_new_version_is_stable() -> None:
    cluster = updated(PREFERRED)
    cluster.set_status({"pauseConditions": None})
    cluster.converge()
    assert cluster.status["stableRS"] == hash_of(V2)
    assert pod_anti_affinity(cluster.rs(V2)) == {}
    assert cluster.reconcile().is_noop


def test_the_templates_own_anti_affinity_terms_are_kept() -> None:
    own = {"weight": 10, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}}
    rs = replica_set(V2, replicas=1)
    rs["spec"]["template"]["spec"]["affinity"] = {
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [own]}
    }
    injected = with_anti_affinity(
        rs, AntiAffinity.model_validate(PREFERRED), stable_hash=hash_of(V1), new_hash=hash_of(V2)
    )
    terms = pod_anti_affinity(injected)["preferredDuringSchedulingIgnoredDuringExecution"]
    assert terms == [own, {"weight": 50, "podAffinityTerm": against(hash_of(V1))}]
    assert removal_patch(injected) == {
        "spec": {
            "template": {
                "spec": {"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [own]}}}
            }
        }
    }
    assert removal_patch(rs) is None


def test_blue_green_preview_avoids_the_active_versions_nodes() -> None:
    cluster = bg_deployed(BG_V1, blue_green={"autoPromotionEnabled": False, "antiAffinity": REQUIRED})
    to_pause(cluster)
    assert pod_anti_affinity(cluster.rs(BG_V2)) == {
        "requiredDuringSchedulingIgnoredDuringExecution": [against(hash_of(BG_V1))]
    }
