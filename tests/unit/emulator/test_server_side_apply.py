"""Field ownership (sandbox/emulator/server_side_apply.py), against the rules of Kubernetes' "Server-Side Apply"
reference page: conflicts, shared ownership, force, removal of fields no longer applied, and Update operations."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.emulator.managed_fields import builtin_field_type
from sandbox.emulator.server_side_apply import (
    ApplyConflict,
    Conflict,
    ManagerEntry,
    apply,
    conflict_message,
    default_manager,
    read_entries,
    record_update,
)

T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"


def _deployment(replicas: int | None = None, **labels: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    if labels:
        obj["metadata"]["labels"] = labels
    if replicas is not None:
        obj["spec"] = {"replicas": replicas}
    return obj


def _apply(live: dict[str, Any] | None, config: dict[str, Any], manager: str, now: str = T1,
           force: bool = False) -> dict[str, Any]:
    return apply(live, config, manager=manager, api_version="apps/v1", now=now, field_type=builtin_field_type,
                 force=force, scope="main")


def _owners(obj: dict[str, Any]) -> dict[str, set[tuple[str, ...]]]:
    return {f"{e.manager}/{e.operation}": set(e.fields) for e in read_entries(obj)}


REPLICAS = ("f:spec", "f:replicas")


def test_first_apply_owns_exactly_the_applied_fields() -> None:
    result = _apply(None, _deployment(2, app="web"), "alice")
    assert _owners(result) == {"alice/Apply": {REPLICAS, ("f:metadata", "f:labels", "f:app")}}
    entry = result["metadata"]["managedFields"][0]
    assert {k: entry[k] for k in ("manager", "operation", "apiVersion", "time", "fieldsType")} == {
        "manager": "alice", "operation": "Apply", "apiVersion": "apps/v1", "time": T1, "fieldsType": "FieldsV1"}


def test_changing_a_field_another_applier_owns_is_a_conflict() -> None:
    live = _apply(None, _deployment(2), "alice")
    with pytest.raises(ApplyConflict) as info:
        _apply(live, _deployment(3), "bob")
    assert info.value.causes() == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".spec.replicas"}]
    assert str(info.value) == 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas'


def test_applying_the_same_value_shares_ownership() -> None:
    live = _apply(None, _deployment(2), "alice")
    result = _apply(live, _deployment(2), "bob")
    assert _owners(result) == {"alice/Apply": {REPLICAS}, "bob/Apply": {REPLICAS}}


def test_force_takes_the_field_over() -> None:
    live = _apply(None, _deployment(2, app="web"), "alice")
    result = _apply(live, _deployment(3), "bob", force=True)
    assert result["spec"]["replicas"] == 3
    assert _owners(result) == {"alice/Apply": {("f:metadata", "f:labels", "f:app")}, "bob/Apply": {REPLICAS}}


def test_field_no_longer_applied_and_owned_by_nobody_else_is_removed() -> None:
    live = _apply(None, _deployment(2, app="web", tier="front"), "alice")
    result = _apply(live, _deployment(2, app="web"), "alice", now=T2)
    assert result["metadata"]["labels"] == {"app": "web"}


def test_field_no_longer_applied_but_owned_by_another_manager_stays() -> None:
    live = _apply(None, _deployment(2, tier="front"), "alice")
    live = _apply(live, _deployment(tier="front"), "bob")
    result = _apply(live, _deployment(2), "alice", now=T2)
    assert result["metadata"]["labels"] == {"tier": "front"}
    assert _owners(result) == {"alice/Apply": {REPLICAS}, "bob/Apply": {("f:metadata", "f:labels", "f:tier")}}


def test_map_emptied_by_removal_goes_too() -> None:
    live = _apply(None, _deployment(2, tier="front"), "alice")
    result = _apply(live, _deployment(2), "alice", now=T2)
    assert "labels" not in result["metadata"]


def test_list_item_no_longer_applied_is_removed_by_key() -> None:
    def with_containers(*names: str) -> dict[str, Any]:
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": n, "image": f"{n}:1"} for n in names]}}}}

    live = _apply(None, with_containers("app", "sidecar"), "alice")
    result = _apply(live, with_containers("app"), "alice", now=T2)
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "app", "image": "app:1"}]


def test_fields_nobody_applied_are_kept() -> None:
    live = {**_deployment(2), "spec": {"replicas": 2, "revisionHistoryLimit": 10}}  # a server default
    result = _apply(live, _deployment(4), "alice")
    assert result["spec"] == {"replicas": 4, "revisionHistoryLimit": 10}


def test_reapplying_unchanged_configuration_keeps_the_entry_time() -> None:
    live = _apply(None, _deployment(2), "alice", now=T1)
    again = _apply(live, _deployment(2), "alice", now=T2)
    assert again["metadata"]["managedFields"][0]["time"] == T1


def test_update_takes_ownership_from_the_applier() -> None:
    live = _apply(None, _deployment(2, app="web"), "alice")
    scaled = {**live, "spec": {"replicas": 5}}
    fields = record_update(live, scaled, manager="kubectl-scale", api_version="apps/v1", now=T2,
                           field_type=builtin_field_type, scope="main")
    assert _owners({"metadata": {"managedFields": fields}}) == {
        "alice/Apply": {("f:metadata", "f:labels", "f:app")}, "kubectl-scale/Update": {REPLICAS}}


def test_update_that_changes_nothing_records_nothing() -> None:
    live = _apply(None, _deployment(2), "alice")
    fields = record_update(live, dict(live), manager="kubectl-edit", api_version="apps/v1", now=T2,
                           field_type=builtin_field_type)
    assert fields == live["metadata"]["managedFields"]


def test_create_records_every_field_for_the_creator() -> None:
    created = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "1"}},
               "data": {"k": "v"}}
    fields = record_update(None, created, manager="kubectl-create", api_version="v1", now=T0,
                           field_type=builtin_field_type)
    assert fields == [{"manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": T0,
                       "fieldsType": "FieldsV1",
                       "fieldsV1": {"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {"f:x": {}}}}}]


def test_conflict_with_an_update_manager_names_its_version_and_time() -> None:
    edit = ManagerEntry("kubectl-edit", "Update", "apps/v1", T0, "", frozenset({REPLICAS}))
    assert Conflict(edit, REPLICAS).message == 'conflict with "kubectl-edit" using apps/v1 at 2026-01-01T00:00:00Z'


def test_several_conflicts_are_listed_by_manager() -> None:
    alice = ManagerEntry("alice", "Apply", "v1", T0, "", frozenset())
    bob = ManagerEntry("bob", "Apply", "v1", T0, "", frozenset())
    message = conflict_message([Conflict(bob, ("f:data", "f:b")), Conflict(alice, ("f:data", "f:a")),
                                Conflict(alice, ("f:data", "f:c"))])
    assert message == ('Apply failed with 3 conflicts: conflict with "alice":\n- .data.a\n- .data.c\n'
                       'conflict with "bob":\n- .data.b')


@pytest.mark.parametrize(("param", "agent", "expected"), [
    ("mine", "kubectl/v1.32.0 (linux/amd64) kubernetes/abc", "mine"),
    (None, "kubectl-edit/v1.32.0 (linux/amd64) kubernetes/abc", "kubectl-edit"),
    (None, "OpenAPI-Generator/37.0.2/python", "OpenAPI-Generator"),
    ("", None, "unknown"),
])
def test_default_manager_is_the_user_agent_product(param: str | None, agent: str | None, expected: str) -> None:
    assert default_manager(param, agent) == expected


@pytest.mark.parametrize(("live", "applied", "expected"), [
    (["a", "b"], ["b", "a"], ["b", "a"]),  # shared items follow the applied order
    (["x", "a"], ["a", "n"], ["x", "a", "n"]),  # a live-only item keeps its place, a new one comes after a
    (["a", "x"], ["n", "a"], ["n", "a", "x"]),  # a new item goes where the applied list puts it
])
def test_merged_list_order(live: list[str], applied: list[str], expected: list[str]) -> None:
    def containers(names: list[str]) -> dict[str, Any]:
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": n} for n in names]}}}}

    # The live object's extra containers belong to another manager, so they are kept, not pruned.
    live_obj = _apply(None, containers(live), "other")
    result = _apply(live_obj, containers(applied), "alice")
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == expected
