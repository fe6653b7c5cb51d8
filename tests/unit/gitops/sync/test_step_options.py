"""Sync options and validity checks as the planned actions show them (gitops-engine sync_context.go)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gitops.resources import JsonObject, ResourceKey
from gitops.sync.actions import SyncAction
from gitops.sync.step import plan_sync_step
from tests.unit.gitops.sync.fake_cluster import T0, Comparison, Driver, FakeCluster, application, manifest


def _first_pass(
    app: JsonObject,
    targets: list[JsonObject],
    live: list[JsonObject] | None = None,
    comparison: Comparison | None = None,
    **kwargs: object,
) -> tuple[list[SyncAction], JsonObject]:
    step = plan_sync_step(
        app=app,
        operation_state=None,
        targets=targets,
        live={ResourceKey.of(o): o for o in live or []},
        comparison=comparison or Comparison(),
        revision="abcdef0123456789",
        now=T0,
        health=lambda obj: None,
        **kwargs,  # type: ignore[arg-type]
    )
    return list(step.actions), step.operation_state


def _wet(actions: list[SyncAction]) -> list[SyncAction]:
    return [a for a in actions if not a.dry_run]


FLAGS = [
    pytest.param([], {}, ("apply", False, False, False, True), id="defaults: client-side apply, validated"),
    pytest.param(["ServerSideApply=true"], {}, ("apply", True, False, False, True), id="ServerSideApply=true"),
    pytest.param(
        ["ServerSideApply=true", "Replace=true"],
        {},
        ("create", False, True, False, True),
        id="Replace wins over ServerSideApply (create when missing)",
    ),
    pytest.param(
        [],
        {"argocd.argoproj.io/sync-options": "Force=true,Replace=true"},
        ("create", False, True, True, True),
        id="per-resource Force and Replace",
    ),
    pytest.param(["Validate=false"], {}, ("apply", False, False, False, False), id="Validate=false"),
    pytest.param(
        ["ServerSideApply=true"],
        {"argocd.argoproj.io/sync-options": "ServerSideApply=false"},
        ("apply", False, False, False, True),
        id="per-resource ServerSideApply=false opts out",
    ),
]


@pytest.mark.parametrize(("options", "annotations", "expected"), FLAGS)
def test_apply_flags(options: list[str], annotations: dict[str, str], expected: tuple[object, ...]) -> None:
    actions, _ = _first_pass(application(options=options), [manifest("ConfigMap", "c", annotations=annotations)])
    (apply,) = _wet(actions)
    assert (apply.kind, apply.server_side, apply.replace, apply.force, apply.validate) == expected
    assert apply.field_manager == "argocd-controller"


def test_dry_run_never_uses_server_side_apply() -> None:
    """gitops-engine validates with a client-side dry run even under ServerSideApply=true."""
    actions, _ = _first_pass(application(options=["ServerSideApply=true"]), [manifest("ConfigMap", "c")])
    (dry,) = [a for a in actions if a.dry_run]
    assert not dry.server_side


def test_dry_run_of_every_task_precedes_the_first_wave() -> None:
    """First pass: every task is dry-run before anything is written, then the first wave only."""
    targets = [manifest("ConfigMap", "a"), manifest("ConfigMap", "b", wave=1), manifest("Job", "h", hook="PostSync")]
    actions, _ = _first_pass(application(), targets)
    assert [(a.dry_run, a.key.name) for a in actions] == [(True, "a"), (True, "b"), (True, "h"), (False, "a")]
    assert all(a.gate for a in actions if a.dry_run)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], "foreground"),
        (["PrunePropagationPolicy=background"], "background"),
        (["PrunePropagationPolicy=orphan"], "orphan"),
    ],
)
def test_prune_propagation_policy(options: list[str], expected: str) -> None:
    """PrunePropagationPolicy, foreground by default."""
    old = manifest("ConfigMap", "old", namespace="demo")
    actions, _ = _first_pass(application(options=options), [], live=[old])
    (delete,) = _wet(actions)
    assert (delete.kind, delete.propagation) == ("delete", expected)


def test_prune_false_annotation_skips_the_prune() -> None:
    """Prune=false on the live object: PruneSkipped "ignored (no prune)", nothing deleted."""
    old = manifest("ConfigMap", "old", namespace="demo", annotations={"argocd.argoproj.io/sync-options": "Prune=false"})
    actions, state = _first_pass(application(), [], live=[old])
    assert _wet(actions) == []
    (result,) = state["syncResult"]["resources"]
    assert (result["status"], result["message"]) == ("PruneSkipped", "ignored (no prune)")


def test_prune_confirm_keeps_the_object_until_the_application_approves_deletion() -> None:
    """Prune=confirm (Argo CD sync-options.md): not pruned until the Application carries
    argocd.argoproj.io/deletion-approved; meanwhile PruneSkipped, saying how to approve."""
    old = manifest("ConfigMap", "old", namespace="demo",
                   annotations={"argocd.argoproj.io/sync-options": "Prune=confirm"})
    actions, state = _first_pass(application(), [], live=[old])
    assert _wet(actions) == []
    (result,) = state["syncResult"]["resources"]
    assert result["status"] == "PruneSkipped"
    assert "argocd.argoproj.io/deletion-approved" in result["message"]

    approved = application()
    approved["metadata"]["annotations"] = {"argocd.argoproj.io/deletion-approved": "2026-12-07T03:00:00Z"}
    actions, _ = _first_pass(approved, [], live=[old])
    assert [(action.kind, action.key.name) for action in _wet(actions)] == [("delete", "old")]


def test_forbidden_kind_fails_the_operation_with_the_projects_message() -> None:
    """Any invalid task fails the operation: "one or more synchronization tasks are not valid"."""

    def permitted(key: ResourceKey) -> str | None:
        return (
            "resource rbac.authorization.k8s.io:ClusterRole is not permitted in project p"
            if key.kind == "ClusterRole"
            else None
        )

    targets = [manifest("ConfigMap", "c"), manifest("ClusterRole", "r", api="rbac.authorization.k8s.io/v1")]
    actions, state = _first_pass(application(), targets, permitted=permitted)
    assert actions == []
    assert (state["phase"], state["message"]) == ("Failed", "one or more synchronization tasks are not valid")
    (result,) = state["syncResult"]["resources"]
    assert result["status"] == "SyncFailed"
    assert result["message"] == "resource rbac.authorization.k8s.io:ClusterRole is not permitted in project p"


def test_custom_resource_of_a_crd_in_the_same_sync_skips_its_dry_run() -> None:
    """An unknown kind whose CRD is among the targets is not dry-run (it cannot be until the CRD exists)."""
    crd = manifest(
        "CustomResourceDefinition",
        "widgets.example.com",
        api="apiextensions.k8s.io/v1",
        spec={"group": "example.com", "names": {"kind": "Widget"}},
    )
    widget = manifest("Widget", "w", api="example.com/v1")
    actions, state = _first_pass(application(), [crd, widget], kind_known=lambda g, k: k != "Widget")
    assert [a.key.kind for a in actions if a.dry_run] == ["CustomResourceDefinition"]
    assert state["phase"] == "Running"


def test_unknown_kind_without_skip_option_is_invalid() -> None:
    """A kind the API server does not serve, with no CRD in the sync and no skip option, invalidates the operation."""
    actions, state = _first_pass(
        application(), [manifest("Widget", "w", api="example.com/v1")], kind_known=lambda g, k: False
    )
    assert actions == []
    assert (state["phase"], state["message"]) == ("Failed", "one or more synchronization tasks are not valid")
    assert state["syncResult"]["resources"][0]["message"] == (
        "the server could not find the requested resource example.com/Widget"
    )


def test_skip_dry_run_on_missing_resource_option() -> None:
    """SkipDryRunOnMissingResource=true: an unknown kind is applied without a dry run."""
    actions, _state = _first_pass(
        application(options=["SkipDryRunOnMissingResource=true"]),
        [manifest("Widget", "w", api="example.com/v1")],
        kind_known=lambda g, k: False,
    )
    assert [(a.dry_run, a.key.kind) for a in actions] == [(False, "Widget")]


def test_fail_on_shared_resource() -> None:
    """FailOnSharedResource=true: a SharedResourceWarning fails the operation before any write."""
    comparison = Comparison(
        conditions=({"type": "SharedResourceWarning", "message": "ConfigMap/c is part of applications app and other"},)
    )
    actions, state = _first_pass(
        application(options=["FailOnSharedResource=true"]), [manifest("ConfigMap", "c")], comparison=comparison
    )
    assert actions == []
    assert state["message"] == "Shared resource found: ConfigMap/c is part of applications app and other"


def test_respect_ignore_differences_applies_the_live_value() -> None:
    """RespectIgnoreDifferences=true: an ignored field keeps its live value in what is applied."""
    target = manifest("Deployment", "web", api="apps/v1", spec={"replicas": 1, "paused": False})
    live = manifest("Deployment", "web", api="apps/v1", namespace="demo", spec={"replicas": 5, "paused": False})
    app = application(
        options=["RespectIgnoreDifferences=true"],
        ignoreDifferences=[{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
    )
    actions, _ = _first_pass(app, [target], live=[live])
    (apply,) = _wet(actions)
    assert apply.obj is not None and apply.obj["spec"] == {"replicas": 5, "paused": False}


def test_prune_waits_for_actual_deletion() -> None:
    """A pruned object still being deleted holds the operation: "waiting for deletion of …"."""
    cluster = FakeCluster()
    old = manifest("ConfigMap", "old", namespace="demo")
    cluster.objects[ResourceKey.of(old)] = old
    driver = Driver(application(), [manifest("ConfigMap", "keep"), manifest("ConfigMap", "later", wave=1)], cluster)
    real_execute = cluster.execute

    def slow_delete(action: SyncAction):  # type: ignore[no-untyped-def]
        if action.kind == "delete":
            cluster.objects[action.key] = dict(
                old, metadata=dict(old["metadata"], deletionTimestamp="2026-01-01T12:00:00Z")
            )
            cluster.writes.append(("delete", "ConfigMap/old"))
            return action.result(True)
        return real_execute(action)

    cluster.execute = slow_delete  # type: ignore[method-assign]
    driver.one_pass()
    driver.one_pass()
    assert driver.state is not None
    assert driver.state["message"] == "waiting for deletion of /ConfigMap/old"
    assert cluster.writes == [("delete", "ConfigMap/old"), ("apply", "ConfigMap/keep")]
    del cluster.objects[ResourceKey.of(old)]
    driver.one_pass()
    assert cluster.writes[-1] == ("apply", "ConfigMap/later")


def test_wet_apply_failure_fails_with_the_reason_and_runs_syncfail() -> None:
    """ "one or more objects failed to apply, reason: <message>"; SyncFail hooks run first."""
    cluster = FakeCluster()
    targets = [manifest("ConfigMap", "bad"), manifest("Pod", "on-fail", hook="SyncFail")]
    driver = Driver(application(), targets, cluster)
    real_execute = cluster.execute

    def reject_wet(action: SyncAction):  # type: ignore[no-untyped-def]
        if action.key.name == "bad" and not action.dry_run:
            return action.result(False, "ConfigMap/bad is invalid")
        return real_execute(action)

    cluster.execute = reject_wet  # type: ignore[method-assign]
    state = driver.run(on_pass=lambda d: cluster.healthy.add("Pod/on-fail"))
    assert state["message"] == "one or more objects failed to apply, reason: ConfigMap/bad is invalid"
    assert cluster.writes == [("apply", "Pod/on-fail")]


def test_retry_waits_its_backoff_then_starts_over() -> None:
    """A failed operation scheduled for retry restarts after duration × factor^n with its results cleared."""
    from gitops.sync.retry import schedule_retry

    state = {
        "operation": {"sync": {"revision": "abcdef0123456789"}, "retry": {"limit": 2}},
        "phase": "Failed",
        "message": "boom",
        "startedAt": "2026-01-01T12:00:00Z",
        "syncResult": {
            "revision": "abcdef0123456789",
            "resources": [
                {
                    "group": "",
                    "kind": "ConfigMap",
                    "namespace": "demo",
                    "name": "c",
                    "status": "SyncFailed",
                    "syncPhase": "Sync",
                }
            ],
        },
    }
    waiting = schedule_retry(state, T0)
    assert waiting["message"] == "boom. Retrying attempt #1 at 12:00PM."
    common = {
        "app": application(),
        "targets": [manifest("ConfigMap", "c")],
        "live": {},
        "comparison": Comparison(),
        "revision": "abcdef0123456789",
        "health": lambda obj: None,
    }
    early = plan_sync_step(operation_state=waiting, now=T0 + timedelta(seconds=4), **common)  # type: ignore[arg-type]
    assert (early.actions, early.requeue_after) == ((), 1.0)
    due = plan_sync_step(operation_state=waiting, now=T0 + timedelta(seconds=5), **common)  # type: ignore[arg-type]
    assert [a.dry_run for a in due.actions] == [True, False]
    assert "finishedAt" not in due.operation_state


def test_restart_after_namespace_creation_still_dry_runs() -> None:
    """Killed right after creating the namespace: the restarted pass still validates everything first."""
    cluster = FakeCluster()
    driver = Driver(application(options=["CreateNamespace=true"]), [manifest("ConfigMap", "c")], cluster)
    driver.one_pass(stop_after_actions=1)
    assert cluster.writes == [("apply", "Namespace/demo")]
    step = driver.plan()
    assert [(a.dry_run, a.key.kind) for a in step.actions] == [(True, "ConfigMap"), (False, "ConfigMap")]


def test_hook_being_deleted_is_waited_for_not_deleted_again() -> None:
    """BeforeHookCreation: while the previous hook is terminating, no second delete and no create yet."""
    hook = manifest("Pod", "check", hook="PreSync")
    terminating = manifest("Pod", "check", hook="PreSync", namespace="demo")
    terminating["metadata"]["deletionTimestamp"] = "2026-01-01T11:59:00Z"
    actions, state = _first_pass(application(), [hook], live=[terminating])
    assert _wet(actions) == []
    assert state["phase"] == "Running"


def test_failed_prune_stops_the_wave_and_fails_the_operation() -> None:
    """gitops-engine runTasks: prunes run first and a failed one returns before the wave's creates; the operation
    then fails with "one or more objects failed to apply, reason: <message>" after its SyncFail hooks."""
    cluster = FakeCluster()
    old = manifest("ConfigMap", "old", namespace="demo")
    cluster.objects[ResourceKey.of(old)] = old
    targets = [manifest("ConfigMap", "keep"), manifest("Pod", "on-fail", hook="SyncFail")]
    driver = Driver(application(), targets, cluster)
    real_execute = cluster.execute

    def refuse_delete(action: SyncAction):  # type: ignore[no-untyped-def]
        if action.kind == "delete":
            return action.result(False, 'configmaps "old" is forbidden')
        return real_execute(action)

    cluster.execute = refuse_delete  # type: ignore[method-assign]
    state = driver.run(on_pass=lambda d: cluster.healthy.add("Pod/on-fail"))
    assert ("apply", "ConfigMap/keep") not in cluster.writes
    assert cluster.writes == [("apply", "Pod/on-fail")]
    assert state["phase"] == "Failed"
    assert state["message"] == 'one or more objects failed to apply, reason: configmaps "old" is forbidden'
    pruned = next(r for r in state["syncResult"]["resources"] if r["name"] == "old")
    assert (pruned["status"], pruned["hookPhase"]) == ("SyncFailed", "Failed")
