"""The arithmetic of the issue #13 benchmarks: settled copies that a controller takes for its own work, which
Rollouts fail during the burst, and how the summary finds the issue's targets among the results."""

from __future__ import annotations

from typing import Any

from bench.abort import burst_failing_indexes
from bench.common import ROLLOUT, SERVICE, VIRTUAL_SERVICE, fleet_objects, weight_steps
from bench.run_all import ISSUE_13, issue_rows, results_order, run_load
from bench.settled import POD, REPLICA_SET, SettledTemplate, copy_for
from rollouts.hashing import pod_template_hash

HASH_LABEL = "rollouts-pod-template-hash"


def settled_template() -> SettledTemplate:
    """Rollout r-0003 as a controller leaves it at rest: its ReplicaSet and pod named and labelled by the hash of its
    pod template, the Services selecting that hash, the status naming it; uids and server fields as stored."""
    objects = dict((resource.plural, body) for resource, body in fleet_objects(3, steps=weight_steps("2s")))
    rollout = objects["rollouts"]
    pod_hash = pod_template_hash(rollout["spec"]["template"])
    rollout["metadata"].update(uid="uid-rollout", resourceVersion="41", generation=1)
    rollout["status"] = {"stableRS": pod_hash, "currentPodHash": pod_hash, "phase": "Healthy",
                         "selector": f"app=r-0003,{HASH_LABEL}={pod_hash}"}
    labels = {"app": "r-0003", HASH_LABEL: pod_hash}
    replica_set = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                   "metadata": {"name": f"r-0003-{pod_hash}", "namespace": "fleet", "uid": "uid-rs", "labels": labels,
                                "ownerReferences": [{"kind": "Rollout", "name": "r-0003", "uid": "uid-rollout"}]},
                   "spec": {"replicas": 1, "selector": {"matchLabels": labels}},
                   "status": {"availableReplicas": 1}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": f"r-0003-{pod_hash}-x7k2p", "namespace": "fleet", "uid": "uid-pod", "labels": labels,
                        "ownerReferences": [{"kind": "ReplicaSet", "name": f"r-0003-{pod_hash}", "uid": "uid-rs"}]},
           "status": {"phase": "Running"}}
    for role in ("canary", "stable"):
        objects[f"services-{role}"] = next(body for resource, body in fleet_objects(3, steps=weight_steps("2s"))
                                           if resource == SERVICE and body["metadata"]["name"].endswith(role))
        objects[f"services-{role}"]["spec"]["selector"][HASH_LABEL] = pod_hash
    return SettledTemplate(3, (
        (ROLLOUT, rollout), (SERVICE, objects["services-canary"]), (SERVICE, objects["services-stable"]),
        (VIRTUAL_SERVICE, objects["virtualservices"]), (REPLICA_SET, replica_set), (POD, pod),
    ), pod_hash)


def by_kind(copies: list[tuple[Any, dict[str, Any], str]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for resource, body, _ in copies:
        found.setdefault(resource.plural, []).append(body)
    return found


def test_a_settled_copy_is_named_and_hashed_as_its_own_rollout_would_be() -> None:
    template = settled_template()
    copies = by_kind(copy_for(template, 42))
    rollout = copies["rollouts"][0]
    # The hash of the copy's own pod template, as the controller computes it for its ReplicaSet's name and labels.
    own_hash = pod_template_hash(rollout["spec"]["template"])
    assert own_hash != template.pod_hash
    assert rollout["metadata"]["name"] == "r-0042"
    assert rollout["status"]["stableRS"] == rollout["status"]["currentPodHash"] == own_hash
    assert rollout["status"]["selector"] == f"app=r-0042,{HASH_LABEL}={own_hash}"
    [replica_set], [pod] = copies["replicasets"], copies["pods"]
    assert replica_set["metadata"]["name"] == f"r-0042-{own_hash}"
    assert replica_set["spec"]["selector"]["matchLabels"] == {"app": "r-0042", HASH_LABEL: own_hash}
    assert pod["metadata"]["name"].startswith(f"r-0042-{own_hash}-")
    assert {service["spec"]["selector"][HASH_LABEL] for service in copies["services"]} == {own_hash}
    assert [service["metadata"]["name"] for service in copies["services"]] == ["r-0042-canary", "r-0042-stable"]
    assert copies["virtualservices"][0]["metadata"]["name"] == "r-0042"


def test_a_settled_copy_drops_the_server_fields_and_says_which_uids_its_owners_replace() -> None:
    copies = copy_for(settled_template(), 7)
    for _, body, _ in copies:
        assert not {"uid", "resourceVersion", "generation", "creationTimestamp"} & body["metadata"].keys()
    uids = {resource.plural: uid for resource, _, uid in copies if resource in (ROLLOUT, REPLICA_SET, POD)}
    assert uids == {"rollouts": "uid-rollout", "replicasets": "uid-rs", "pods": "uid-pod"}
    owners = {resource.plural: body["metadata"]["ownerReferences"][0]["uid"] for resource, body, _ in copies
              if body["metadata"].get("ownerReferences")}
    assert owners == {"replicasets": "uid-rollout", "pods": "uid-rs"}  # seed_copy maps them to the new uids


def test_the_rollouts_that_fail_during_the_burst_are_spread_evenly() -> None:
    assert burst_failing_indexes(1000) == list(range(10, 1000, 20))
    assert burst_failing_indexes(200) == [2 + 4 * i for i in range(50)]
    assert burst_failing_indexes(10) == list(range(10))  # fewer Rollouts than failing ones: every one fails


def test_results_are_ordered_by_scenario_then_size() -> None:
    names = ["fleet-1000", "abort-burst-1000", "fleet-100", "reliability", "abort-100"]
    assert sorted(names, key=results_order) == ["abort-100", "abort-burst-1000", "fleet-100", "fleet-1000",
                                                "reliability"]


def test_the_summary_finds_each_issue_target_or_says_it_was_not_measured() -> None:
    rows = [["fleet-1000", "controller CPU per step", "28.1 ms", "≤ 5 ms", "no", "over by 23.1 ms (462 %)",
             "2026-12-07 12:30Z, load 6.1/5.2/4.9"]]
    table = issue_rows(rows)
    assert len(table) == len(ISSUE_13)
    assert table[0][1:] == ["fleet-1000", "28.1 ms", "no", "over by 23.1 ms (462 %)",
                            "2026-12-07 12:30Z, load 6.1/5.2/4.9"]
    assert all(row[3] == "not measured" for row in table[1:])


def test_each_summary_row_names_its_run_and_the_load_at_its_end() -> None:
    assert run_load({"date": "2026-12-07T11:46:55Z", "load_average_1_5_15m": [8.61, 7.2, 7.24]}) == (
        "2026-12-07 11:46Z, load 8.61/7.2/7.24")
    assert run_load({}) == "unknown date, load unknown"  # a results file written before the machine was recorded
