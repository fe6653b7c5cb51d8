"""A whole sync operation over several passes against a fake cluster: the order of writes, waits and outcomes."""

from __future__ import annotations

from tests.unit.gitops.sync.fake_cluster import Comparison, Driver, FakeCluster, application, manifest


def _everything_healthy(driver: Driver) -> None:
    for obj in driver.cluster.objects.values():
        driver.cluster.healthy.add(f"{obj['kind']}/{obj['metadata']['name']}")


def _waves_app() -> list[dict[str, object]]:
    # The argocd-example-apps sync-waves shape: a PreSync hook, resources in waves -1, 0 and 1, a PostSync hook.
    return [
        manifest("Job", "upgrade-sql-schema", api="batch/v1", hook="PreSync"),
        manifest("ConfigMap", "settings", wave=-1),
        manifest("Deployment", "backend", api="apps/v1"),
        manifest("Service", "backend"),
        manifest("Secret", "token"),
        manifest("Deployment", "frontend", api="apps/v1", wave=1),
        manifest("Job", "smoke-test", api="batch/v1", hook="PostSync"),
    ]


def test_writes_follow_phase_then_wave_then_kind_order() -> None:
    """gitops-engine sync_tasks.go: PreSync < Sync < PostSync; waves ascend; within a wave Secret < Service <
    Deployment (the kind table); each resource is applied exactly once."""
    cluster = FakeCluster()
    state = Driver(application(), _waves_app(), cluster).run(on_pass=_everything_healthy)
    assert state["phase"] == "Succeeded"
    assert cluster.writes == [
        ("apply", "Job/upgrade-sql-schema"),
        ("apply", "ConfigMap/settings"),
        ("apply", "Secret/token"),
        ("apply", "Service/backend"),
        ("apply", "Deployment/backend"),
        ("apply", "Deployment/frontend"),
        ("apply", "Job/smoke-test"),
    ]


def test_next_wave_waits_for_health_of_the_previous_one() -> None:
    """sync_context.go: in a multi-step sync, a Running resource blocks the next wave with Argo's message."""
    cluster = FakeCluster()
    driver = Driver(
        application(),
        [manifest("Deployment", "db", api="apps/v1"), manifest("Deployment", "web", api="apps/v1", wave=1)],
        cluster,
    )
    driver.one_pass()
    driver.one_pass()
    driver.one_pass()
    assert cluster.writes == [("apply", "Deployment/db")]
    assert driver.state is not None
    assert driver.state["message"] == "waiting for healthy state of apps/Deployment/db"
    cluster.healthy.add("Deployment/db")
    driver.one_pass()
    assert cluster.writes[-1] == ("apply", "Deployment/web")


def test_single_wave_succeeds_without_waiting_for_health() -> None:
    """sync_context.go: the last wave with only non-hooks succeeds once applied ("successfully synced (all tasks
    run)"), even while the Deployment is still Progressing."""
    cluster = FakeCluster()
    state = Driver(application(), [manifest("Deployment", "web", api="apps/v1")], cluster).run()
    assert (state["phase"], state["message"]) == ("Succeeded", "successfully synced (all tasks run)")


def test_failed_presync_hook_stops_the_sync_and_runs_syncfail_hooks() -> None:
    """A Degraded PreSync hook fails the operation: nothing of the Sync phase is applied, the SyncFail hook runs."""
    cluster = FakeCluster(degraded={"Job/migrate"})
    targets = [
        manifest("Job", "migrate", api="batch/v1", hook="PreSync"),
        manifest("Deployment", "web", api="apps/v1"),
        manifest("Job", "cleanup", api="batch/v1", hook="SyncFail"),
    ]

    def heal_cleanup(driver: Driver) -> None:
        cluster.healthy.add("Job/cleanup")

    state = Driver(application(), targets, cluster).run(on_pass=heal_cleanup)
    assert cluster.writes == [("apply", "Job/migrate"), ("apply", "Job/cleanup")]
    assert state["phase"] == "Failed"
    # gitops-engine's message, with the failed hook named (our addition: Argo CD lists only failed applies).
    assert state["message"] == (
        "one or more synchronization tasks completed unsuccessfully, reason: PreSync hook batch/Job/migrate failed: "
        "Job/migrate failed"
    )
    migrate = next(r for r in state["syncResult"]["resources"] if r["name"] == "migrate")
    assert (migrate["hookPhase"], migrate["message"], migrate["hookType"]) == (
        "Failed",
        "Job/migrate failed",
        "PreSync",
    )


def test_apply_failure_names_the_reason() -> None:
    """sync_context.go: a rejected apply fails with "one or more objects failed to apply, reason: <message>"."""
    cluster = FakeCluster(failing_applies={"ConfigMap/bad"})
    cluster_dry_ok = Driver(application(), [manifest("ConfigMap", "bad")], cluster)
    state = cluster_dry_ok.run()
    assert state["phase"] == "Failed"
    # The dry run already rejects it: no SyncFail hooks, Argo's dry-run message.
    assert state["message"] == "one or more objects failed to apply (dry run)"
    assert cluster.writes == []


def test_prune_runs_in_reverse_wave_order_before_applies() -> None:
    """sync_context.go getSyncTasks: prune waves are mirrored, so the object of the highest wave goes first."""
    cluster = FakeCluster()
    for name, wave in (("early", -1), ("middle", 0), ("late", 3)):
        obj = manifest("ConfigMap", name, wave=wave, namespace="demo")
        from gitops.resources import ResourceKey

        cluster.objects[ResourceKey.of(obj)] = obj
    state = Driver(application(), [manifest("ConfigMap", "keep")], cluster).run()
    deletes = [w for w in cluster.writes if w[0] == "delete"]
    assert deletes == [("delete", "ConfigMap/late"), ("delete", "ConfigMap/middle"), ("delete", "ConfigMap/early")]
    assert state["phase"] == "Succeeded"


def test_prune_off_records_prune_skipped() -> None:
    """Prune disabled: the extraneous object stays, its result is PruneSkipped "ignored (requires pruning)"."""
    from gitops.resources import ResourceKey

    cluster = FakeCluster()
    old = manifest("ConfigMap", "old", namespace="demo")
    cluster.objects[ResourceKey.of(old)] = old
    state = Driver(application(prune=False), [manifest("ConfigMap", "keep")], cluster).run()
    old_result = next(r for r in state["syncResult"]["resources"] if r["name"] == "old")
    assert (old_result["status"], old_result["message"]) == ("PruneSkipped", "ignored (requires pruning)")
    assert ("delete", "ConfigMap/old") not in cluster.writes


def test_create_namespace_comes_first_with_managed_metadata() -> None:
    """CreateNamespace=true: the namespace is created before the dry run, with managedNamespaceMetadata."""
    cluster = FakeCluster()
    app = application(options=["CreateNamespace=true"])
    app["spec"]["syncPolicy"]["managedNamespaceMetadata"] = {"labels": {"team": "a"}}
    state = Driver(app, [manifest("ConfigMap", "settings")], cluster).run()
    assert cluster.writes[0] == ("apply", "Namespace/demo")
    from gitops.resources import ResourceKey

    assert cluster.objects[ResourceKey("", "Namespace", "", "demo")]["metadata"]["labels"] == {"team": "a"}
    assert state["phase"] == "Succeeded"


def test_apply_out_of_sync_only_skips_synced_resources_but_runs_hooks() -> None:
    """ApplyOutOfSyncOnly=true: an existing Synced resource is not applied; hooks still run."""
    from gitops.resources import ResourceKey
    from tests.unit.gitops.sync.fake_cluster import Compared

    cluster = FakeCluster()
    same = manifest("ConfigMap", "same", namespace="demo")
    cluster.objects[ResourceKey.of(same)] = same
    comparison = Comparison(
        resources=(
            Compared(ResourceKey.of(same), "Synced"),
            Compared(ResourceKey("", "ConfigMap", "demo", "changed"), "OutOfSync"),
        )
    )
    targets = [
        manifest("ConfigMap", "same"),
        manifest("ConfigMap", "changed"),
        manifest("Pod", "check", hook="PostSync"),
    ]
    state = Driver(application(options=["ApplyOutOfSyncOnly=true"]), targets, cluster, comparison).run(
        on_pass=_everything_healthy
    )
    assert [w for w in cluster.writes] == [("apply", "ConfigMap/changed"), ("apply", "Pod/check")]
    assert state["phase"] == "Succeeded"


def test_dry_run_operation_writes_nothing() -> None:
    """operation.sync.dryRun: every task only dry-run, results Synced, then Succeeded."""
    cluster = FakeCluster()
    state = Driver(application(dry_run=True), _waves_app(), cluster).run()
    assert cluster.writes == []
    assert state["phase"] == "Succeeded"
    assert {r["hookPhase"] for r in state["syncResult"]["resources"]} == {"Succeeded"}


def test_selective_sync_applies_only_named_resources_and_no_hooks() -> None:
    """operation.sync.resources: only those resources; hooks are skipped."""
    cluster = FakeCluster()
    app = application(resources=[{"group": "apps", "kind": "Deployment", "name": "backend"}])
    state = Driver(app, _waves_app(), cluster).run(on_pass=_everything_healthy)
    assert cluster.writes == [("apply", "Deployment/backend")]
    assert state["phase"] == "Succeeded"


def test_generate_name_hook_gets_a_deterministic_name() -> None:
    """gitops-engine: generateName + revision[0:7] + "-" + phase + "-" + startedAt unix, lower-cased."""
    cluster = FakeCluster()
    hook = manifest("Pod", "", hook="PreSync")
    hook["metadata"] = {"generateName": "migrate-", "annotations": hook["metadata"]["annotations"]}
    Driver(application(), [hook], cluster).run(on_pass=_everything_healthy)
    # T0 = 2026-01-01T12:00:00Z = 1767268800
    assert cluster.writes == [("apply", "Pod/migrate-abcdef0-presync-1767268800")]


def test_hook_succeeded_policy_deletes_the_hook_after_success() -> None:
    """hook-delete-policy HookSucceeded: the hook is deleted once the operation succeeds."""
    cluster = FakeCluster()
    hook = manifest(
        "Pod", "check", hook="PostSync", annotations={"argocd.argoproj.io/hook-delete-policy": "HookSucceeded"}
    )
    state = Driver(application(), [manifest("ConfigMap", "c"), hook], cluster).run(on_pass=_everything_healthy)
    assert state["phase"] == "Succeeded"
    assert cluster.writes[-1] == ("delete", "Pod/check")


def test_before_hook_creation_deletes_the_previous_hook_first() -> None:
    """The default policy BeforeHookCreation: an existing hook from an earlier sync is deleted, then recreated."""
    from gitops.resources import ResourceKey

    cluster = FakeCluster()
    hook = manifest("Pod", "check", hook="PreSync")
    old = dict(hook, metadata=dict(hook["metadata"], namespace="demo"))
    cluster.objects[ResourceKey.of(old)] = old
    Driver(application(), [hook], cluster).run(on_pass=_everything_healthy)
    assert cluster.writes == [("delete", "Pod/check"), ("apply", "Pod/check")]


def test_apply_strategy_skips_hooks() -> None:
    """syncStrategy.apply: kubectl apply only, no hooks run."""
    cluster = FakeCluster()
    app = application()
    app["operation"]["sync"]["syncStrategy"] = {"apply": {"force": False}}
    state = Driver(app, _waves_app(), cluster).run(on_pass=_everything_healthy)
    assert not [w for w in cluster.writes if w[1].startswith("Job/")]
    assert state["phase"] == "Succeeded"


def test_state_without_started_at_is_given_one() -> None:
    """A persisted state lacking startedAt is completed rather than crashing the planner."""
    driver = Driver(application(), [manifest("ConfigMap", "c")], FakeCluster())
    driver.state = {"operation": driver.app["operation"], "phase": "Running"}
    step = driver.plan()
    assert step.operation_state["startedAt"] == "2026-01-01T12:00:00Z"


def test_hook_of_a_kind_without_health_check_succeeds_once_created() -> None:
    """gitops-engine getOperationPhase: a hook with no health check is Succeeded with "<name> created", so the
    Sync phase follows on the next pass."""
    cluster = FakeCluster()
    targets = [manifest("ConfigMap", "seed", hook="PreSync"), manifest("ConfigMap", "settings")]
    state = Driver(application(), targets, cluster).run()
    assert cluster.writes == [("apply", "ConfigMap/seed"), ("apply", "ConfigMap/settings")]
    seed = next(r for r in state["syncResult"]["resources"] if r["name"] == "seed")
    assert (seed["hookPhase"], seed["message"]) == ("Succeeded", "seed created")
    assert state["phase"] == "Succeeded"


def test_progressing_hook_holds_the_next_phase() -> None:
    """gitops-engine getOperationPhase: a Progressing hook is Running, and a running hook blocks every later phase
    ("waiting for completion of hook <group>/<kind>/<name>")."""
    cluster = FakeCluster()
    targets = [manifest("Job", "migrate", api="batch/v1", hook="PreSync"), manifest("ConfigMap", "settings")]
    driver = Driver(application(), targets, cluster)
    for _ in range(4):
        driver.one_pass()
    assert cluster.writes == [("apply", "Job/migrate")]
    assert driver.state is not None
    assert driver.state["message"] == "waiting for completion of hook batch/Job/migrate"
    cluster.healthy.add("Job/migrate")
    driver.run()
    assert cluster.writes[-1] == ("apply", "ConfigMap/settings")
