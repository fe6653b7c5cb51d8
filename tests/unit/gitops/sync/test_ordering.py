"""Task order: Argo's rules from gitops-engine sync_tasks.go and sync_context.go, each case citing the rule."""

from __future__ import annotations

import pytest

from gitops.resources import JsonObject, ResourceKey, namespaced_by_default
from gitops.sync.kind_order import KIND_ORDER, kind_rank
from gitops.sync.options import SyncOptions
from gitops.sync.ordering import order_tasks
from gitops.sync.tasks import SyncTask, TaskInputs, build_tasks
from tests.unit.gitops.sync.fake_cluster import manifest


def _inputs(**overrides: object) -> TaskInputs:
    values: dict[str, object] = {
        "namespace": "demo",
        "revision": "abcdef0123456789",
        "started_at_unix": 1767268800,
        "options": SyncOptions(),
        "force": False,
        "skip_hooks": False,
        "selected": lambda key: True,
        "namespaced": namespaced_by_default,
    }
    values.update(overrides)
    return TaskInputs(**values)  # type: ignore[arg-type]


def _order(targets: list[JsonObject], live: list[JsonObject] | None = None, **options: object) -> list[str]:
    live_map = {ResourceKey.of(o): o for o in live or []}
    tasks = order_tasks(build_tasks(targets, live_map, _inputs(options=SyncOptions(**options))))  # type: ignore[arg-type]
    return [_label(t) for t in tasks]


def _label(task: SyncTask) -> str:
    prefix = "prune " if task.is_prune else ""
    return f"{prefix}{task.phase}:{task.wave}:{task.key.kind}/{task.key.name}"


CASES = [
    pytest.param(
        [
            manifest("Job", "post", hook="PostSync"),
            manifest("ConfigMap", "c"),
            manifest("Job", "pre", hook="PreSync"),
            manifest("Pod", "fail", hook="SyncFail"),
        ],
        ["PreSync:0:Job/pre", "Sync:0:ConfigMap/c", "PostSync:0:Job/post", "SyncFail:0:Pod/fail"],
        id="phases run PreSync, Sync, PostSync, SyncFail (syncPhaseOrder)",
    ),
    pytest.param(
        [manifest("ConfigMap", "b", wave=2), manifest("ConfigMap", "a", wave=-3), manifest("ConfigMap", "c")],
        ["Sync:-3:ConfigMap/a", "Sync:0:ConfigMap/c", "Sync:2:ConfigMap/b"],
        id="waves ascend within a phase, negative waves first",
    ),
    pytest.param(
        [
            manifest("Deployment", "d", api="apps/v1"),
            manifest("Service", "s"),
            manifest("Secret", "x"),
            manifest("Widget", "w", api="example.com/v1"),
            manifest("ServiceAccount", "sa"),
        ],
        ["Sync:0:ServiceAccount/sa", "Sync:0:Secret/x", "Sync:0:Service/s", "Sync:0:Deployment/d", "Sync:0:Widget/w"],
        id="kinds follow the table, unknown kinds last",
    ),
    pytest.param(
        [manifest("ConfigMap", "zeta"), manifest("ConfigMap", "alpha")],
        ["Sync:0:ConfigMap/alpha", "Sync:0:ConfigMap/zeta"],
        id="names break ties",
    ),
    pytest.param(
        [manifest("ConfigMap", "c", annotations={"helm.sh/hook-weight": "-5"})],
        ["Sync:-5:ConfigMap/c"],
        id="helm.sh/hook-weight is the wave when sync-wave is absent",
    ),
    pytest.param(
        [manifest("ConfigMap", "c", wave=3, annotations={"helm.sh/hook-weight": "-5"})],
        ["Sync:3:ConfigMap/c"],
        id="sync-wave wins over helm.sh/hook-weight",
    ),
    pytest.param(
        [manifest("ConfigMap", "in-other", namespace="other", wave=-2), manifest("Namespace", "other", wave=5)],
        ["Sync:-2:Namespace/other", "Sync:-2:ConfigMap/in-other"],
        id="a Namespace moves before the first object in it, taking its wave",
    ),
    pytest.param(
        [
            manifest("Widget", "w", api="example.com/v1", wave=-1),
            manifest(
                "CustomResourceDefinition",
                "widgets.example.com",
                api="apiextensions.k8s.io/v1",
                wave=2,
                spec={"group": "example.com", "names": {"kind": "Widget"}},
            ),
        ],
        ["Sync:-1:CustomResourceDefinition/widgets.example.com", "Sync:-1:Widget/w"],
        id="a CRD moves before its first custom resource",
    ),
]


@pytest.mark.parametrize(("targets", "expected"), CASES)
def test_task_order(targets: list[JsonObject], expected: list[str]) -> None:
    assert _order(targets) == expected


def _live(name: str, wave: int, **annotations: str) -> JsonObject:
    return manifest("ConfigMap", name, wave=wave, namespace="demo", annotations=annotations)


def test_prune_waves_are_mirrored_so_the_highest_wave_is_pruned_first() -> None:
    """sync_context.go getSyncTasks: "reorder waves for pruning tasks using symmetric swap on prune waves"."""
    order = _order([], [_live("low", -1), _live("mid", 0), _live("high", 4)])
    assert order == ["prune Sync:-1:ConfigMap/high", "prune Sync:0:ConfigMap/mid", "prune Sync:4:ConfigMap/low"]


def test_prune_last_moves_prunes_after_the_last_sync_wave() -> None:
    """PruneLast=true: prune tasks run in wave (last Sync wave + 1)."""
    order = _order([manifest("ConfigMap", "keep", wave=3)], [_live("old", 0)], prune_last=True)
    assert order == ["Sync:3:ConfigMap/keep", "prune Sync:4:ConfigMap/old"]


def test_prune_last_per_resource_annotation() -> None:
    """argocd.argoproj.io/sync-options: PruneLast=true on the live object moves only that prune."""
    live = [_live("last", 0, **{"argocd.argoproj.io/sync-options": "PruneLast=true"}), _live("now", 0)]
    order = _order([manifest("ConfigMap", "keep", wave=1)], live)
    assert order == ["prune Sync:0:ConfigMap/now", "Sync:1:ConfigMap/keep", "prune Sync:2:ConfigMap/last"]


def test_kind_table_matches_the_reference() -> None:
    """The reference's table, in order (Namespace first, APIService last)."""
    assert KIND_ORDER[:3] == ("Namespace", "NetworkPolicy", "ResourceQuota")
    assert KIND_ORDER[-3:] == ("IngressClass", "Ingress", "APIService")
    assert len(KIND_ORDER) == 35
    assert kind_rank("Rollout") == kind_rank("Widget") == len(KIND_ORDER)
