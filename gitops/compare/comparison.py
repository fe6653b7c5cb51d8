"""One Application's comparison: every target paired with its live object, each resource's sync status and health,
and the app's sync status, health and conditions (Argo CD's CompareAppState).

Pure: the caller passes the rendered targets (destination namespace already applied) and the live objects (every one
tracked to this app, plus those at the targets' keys).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gitops.compare.diff import diff, diff_text
from gitops.compare.hooks import annotations_of, is_hook, is_skipped, sync_wave
from gitops.compare.ignore import IgnoreRule, matching_rules, rules_from_app
from gitops.compare.normalize import IGNORE_STATUS_CRD
from gitops.compare.tracking import ANNOTATION, owning_app, with_tracking
from gitops.health import MISSING, app_health, resource_health
from gitops.resources import Health, JsonObject, ResourceKey, namespaced_by_default

SYNCED, OUT_OF_SYNC = "Synced", "OutOfSync"
SHARED_RESOURCE_WARNING = "SharedResourceWarning"
REPEATED_RESOURCE_WARNING = "RepeatedResourceWarning"
COMPARISON_ERROR = "ComparisonError"
SYNC_OPTIONS_ANNOTATION = "argocd.argoproj.io/sync-options"
COMPARE_OPTIONS_ANNOTATION = "argocd.argoproj.io/compare-options"


@dataclass(frozen=True)
class ResourceComparison:
    """One resource of the app: its target (with the tracking mark set, as it will be applied) and live object."""

    key: ResourceKey
    target: JsonObject | None
    live: JsonObject | None
    status: str  # "Synced" | "OutOfSync"; "" for hooks and Skip manifests
    hook: bool
    requires_pruning: bool
    sync_wave: int
    diff: str  # human diff text, Secret values masked; "" when in sync
    health: Health | None


@dataclass(frozen=True)
class Comparison:
    """The app-level result: resources sorted by key, sync status, health and conditions ({type, message})."""

    resources: tuple[ResourceComparison, ...]
    sync_status: str
    health: Health
    conditions: tuple[JsonObject, ...]


def _sync_options(obj: JsonObject | None) -> dict[str, str]:
    raw = annotations_of(obj).get(SYNC_OPTIONS_ANNOTATION)
    options: dict[str, str] = {}
    for part in str(raw or "").split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            options[name.strip()] = value.strip()
    return options


def _app_uses_server_side_apply(app: JsonObject) -> bool:
    options = ((app.get("spec") or {}).get("syncPolicy") or {}).get("syncOptions") or []
    return any(str(option).replace(" ", "") == "ServerSideApply=true" for option in options)


def _ignores_extraneous(live: JsonObject | None) -> bool:
    raw = str(annotations_of(live).get(COMPARE_OPTIONS_ANNOTATION) or "")
    return "IgnoreExtraneous" in [part.strip() for part in raw.split(",")]


def _has_owner(obj: JsonObject) -> bool:
    return bool((obj.get("metadata") or {}).get("ownerReferences"))


def _condition(type_: str, message: str) -> JsonObject:
    return {"type": type_, "message": message}


def _placed(target: JsonObject, namespaced: Callable[[str, str], bool]) -> tuple[ResourceKey, JsonObject]:
    key = ResourceKey.of(target)
    if key.namespace and not namespaced(key.group, key.kind):
        # A cluster-scoped object never has a namespace, whatever the manifest says.
        metadata = {name: value for name, value in (target.get("metadata") or {}).items() if name != "namespace"}
        target = {**target, "metadata": metadata}
        key = ResourceKey(key.group, key.kind, "", key.name)
    return key, target


@dataclass(frozen=True)
class _Tracking:
    """How this app marks what it owns: its name, the tracking method and the installation id."""

    app_name: str
    method: str
    installation_id: str | None

    def mark(self, target: JsonObject) -> JsonObject:
        return with_tracking(target, self.app_name, self.method, installation_id=self.installation_id)

    def owner(self, live: JsonObject) -> str | None:
        return owning_app(live, self.method, installation_id=self.installation_id)


@dataclass
class _Targets:
    """The targets by key, marked for tracking: those to apply, the Skip manifests, and hooks without a name."""

    placed: dict[ResourceKey, JsonObject]
    skipped: dict[ResourceKey, JsonObject]
    # Hooks named by generateName share one key (an empty name); each is its own resource all the same.
    unnamed_hooks: list[tuple[ResourceKey, JsonObject]]


def compare_app(
    app: JsonObject,
    targets: Sequence[JsonObject],
    live: Mapping[ResourceKey, JsonObject],
    *,
    tracking_method: str = ANNOTATION,
    health_overrides: Mapping[str, str] | None = None,
    namespaced: Callable[[str, str], bool] = namespaced_by_default,
    installation_id: str | None = None,
    ignore_rules: Sequence[IgnoreRule] = (),
    ignore_status: str = IGNORE_STATUS_CRD,
    assess_applications: bool = False,
) -> Comparison:
    """Compare an Application's targets with the live objects (see the module docstring).

    ``assess_applications`` gives child Applications a health (``--application-health``; Argo CD assesses none).

    ``ignore_rules`` are the system-level rules (argocd-cm); the app's own ``spec.ignoreDifferences`` are added here.
    Every target is compared with the app's tracking mark set, so a live object not yet marked is OutOfSync.
    """
    tracking = _Tracking(str((app.get("metadata") or {}).get("name") or ""), tracking_method, installation_id)
    conditions: list[JsonObject] = []
    rules = _ignore_rules(app, ignore_rules, conditions)
    app_server_side = _app_uses_server_side_apply(app)
    marked = _marked_targets(targets, tracking, namespaced, conditions)

    results: list[ResourceComparison] = [
        # Argo CD lists a Skip manifest without sync status or health; it is never applied nor pruned.
        ResourceComparison(key, target, live.get(key), "", False, False, sync_wave(target), "", None)
        for key, target in marked.skipped.items()
    ]
    results.extend(
        ResourceComparison(key, hook, None, "", True, False, sync_wave(hook), "", None)
        for key, hook in marked.unnamed_hooks
    )
    for key in sorted(_app_resource_keys(marked, live, tracking)):
        wanted, live_obj = marked.placed.get(key), live.get(key)
        if live_obj is not None and wanted is not None:
            owner = tracking.owner(live_obj)
            if owner is not None and owner != tracking.app_name:
                conditions.append(
                    _condition(
                        SHARED_RESOURCE_WARNING,
                        f"{key.kind}/{key.name} is part of applications {tracking.app_name} and {owner}",
                    )
                )
        results.append(
            _compare_resource(
                key,
                wanted,
                live_obj,
                rules=matching_rules(rules, key),
                server_side=app_server_side,
                health_overrides=health_overrides,
                ignore_status=ignore_status,
                conditions=conditions,
                assess_applications=assess_applications,
            )
        )
    results.sort(key=lambda resource: resource.key)
    return Comparison(tuple(results), _app_sync_status(results), _app_health(results), tuple(_unique(conditions)))


def _ignore_rules(
    app: JsonObject, system_rules: Sequence[IgnoreRule], conditions: list[JsonObject]
) -> list[IgnoreRule]:
    """The app's own ignoreDifferences then the system's; an invalid app rule is a ComparisonError, not a failure."""
    try:
        return [*rules_from_app(app), *system_rules]
    except ValueError as error:
        conditions.append(_condition(COMPARISON_ERROR, str(error)))
        return list(system_rules)


def _marked_targets(
    targets: Sequence[JsonObject],
    tracking: _Tracking,
    namespaced: Callable[[str, str], bool],
    conditions: list[JsonObject],
) -> _Targets:
    """The targets by key with the tracking mark set; a key seen twice is a RepeatedResourceWarning."""
    marked = _Targets({}, {}, [])
    for target in targets:
        key, target = _placed(target, namespaced)
        if not key.name and is_hook(target):
            marked.unnamed_hooks.append((key, tracking.mark(target)))
            continue
        if key in marked.placed or key in marked.skipped:
            conditions.append(
                _condition(
                    REPEATED_RESOURCE_WARNING, f"Resource {key} appeared more than once among application resources."
                )
            )
            continue
        try:
            with_mark = tracking.mark(target)
        except ValueError as error:  # e.g. an app name too long for the instance label
            conditions.append(_condition(COMPARISON_ERROR, str(error)))
            with_mark = target
        if is_skipped(target):
            marked.skipped[key] = with_mark
        else:
            marked.placed[key] = with_mark
    return marked


def _app_resource_keys(
    marked: _Targets, live: Mapping[ResourceKey, JsonObject], tracking: _Tracking
) -> set[ResourceKey]:
    """The keys to compare: every target to apply, and every live object tracked to this app that nothing owns."""
    keys = set(marked.placed)
    for key, obj in live.items():
        if key in keys or key in marked.skipped:
            continue
        if tracking.owner(obj) == tracking.app_name and not _has_owner(obj):
            keys.add(key)
    return keys


def _app_sync_status(results: Sequence[ResourceComparison]) -> str:
    """OutOfSync when any resource with a status is, except an extraneous one its live object says to ignore."""
    counted = [
        resource
        for resource in results
        if resource.status and not (resource.requires_pruning and _ignores_extraneous(resource.live))
    ]
    return OUT_OF_SYNC if any(resource.status == OUT_OF_SYNC for resource in counted) else SYNCED


def _app_health(results: Sequence[ResourceComparison]) -> Health:
    return app_health(
        [(resource.live, resource.health, resource.hook) for resource in results if resource.status or resource.hook]
    )


def _compare_resource(
    key: ResourceKey,
    target: JsonObject | None,
    live: JsonObject | None,
    *,
    rules: Sequence[IgnoreRule],
    server_side: bool,
    health_overrides: Mapping[str, str] | None,
    ignore_status: str,
    conditions: list[JsonObject],
    assess_applications: bool = False,
) -> ResourceComparison:
    hook = is_hook(target) if target is not None else is_hook(live)
    health: Health | None
    if live is not None:
        health = resource_health(live, overrides=health_overrides, assess_applications=assess_applications)
    else:
        health = None if hook else Health(MISSING)
    wave = sync_wave(target if target is not None else live)
    if hook:
        return ResourceComparison(key, target, live, "", True, False, wave, "", health)
    option = _sync_options(target).get("ServerSideApply")
    resource_server_side = server_side if option is None else option == "true"
    result = diff(target, live, server_side=resource_server_side, ignore=rules, ignore_status=ignore_status)
    conditions.extend(_condition(COMPARISON_ERROR, f"{key}: {error}") for error in result.errors)
    status = OUT_OF_SYNC if result.modified else SYNCED
    text = diff_text(result, label=str(key))
    requires_pruning = target is None and live is not None
    return ResourceComparison(key, target, live, status, False, requires_pruning, wave, text, health)


def _unique(conditions: list[JsonObject]) -> list[JsonObject]:
    seen: set[tuple[str, str]] = set()
    unique: list[JsonObject] = []
    for found in conditions:
        marker = (str(found["type"]), str(found["message"]))
        if marker not in seen:
            seen.add(marker)
            unique.append(found)
    return unique


def resource_status_entries(comparison: Comparison) -> list[JsonObject]:
    """Application ``status.resources[]`` entries, empty fields left out as Argo CD's omitempty does."""
    entries: list[JsonObject] = []
    for resource in comparison.resources:
        source = resource.live if resource.live is not None else resource.target
        api_version = str((source or {}).get("apiVersion", ""))
        entry: JsonObject = {}
        if resource.key.group:
            entry["group"] = resource.key.group
        entry["version"] = api_version.rpartition("/")[2]
        entry["kind"] = resource.key.kind
        if resource.key.namespace:
            entry["namespace"] = resource.key.namespace
        entry["name"] = resource.key.name
        if resource.status:
            entry["status"] = resource.status
        if resource.health is not None:
            entry["health"] = resource.health.to_dict()
        if resource.hook:
            entry["hook"] = True
        if resource.requires_pruning:
            entry["requiresPruning"] = True
        # Argo CD reports the wave of the target only (a prune candidate's wave is the sync planner's business).
        if resource.sync_wave and resource.target is not None:
            entry["syncWave"] = resource.sync_wave
        entries.append(entry)
    return entries
