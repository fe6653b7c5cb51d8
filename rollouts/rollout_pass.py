"""What every strategy's reconcile pass shares: the effects it queues, the plan it hands back, and the conditions.

A pass (``CanaryPass`` in ``rollouts.canary.reconcile``, ``BlueGreenPass`` in ``rollouts.bluegreen.reconcile``) is
built per call from one snapshot and thrown away. The strategy decides how many pods each ReplicaSet gets, which Service
selects what, and when the update is complete; everything here is the same for both: creating and scaling
ReplicaSets, restarting pods, the revision bookkeeping, and the status conditions with their progress deadline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kube.json_data import JsonObject
from kube.merge_patch import combine_merge_patches, merge_patch_between
from kube.resources import PODS, REPLICASETS, ROLLOUTS
from kube.timestamps import as_utc, format_time, parse_time, seconds_between
from rollouts import conditions as cond
from rollouts.anti_affinity import removal_patch as anti_affinity_removal_patch
from rollouts.anti_affinity import with_anti_affinity
from rollouts.canary.replicas import OtherPlan
from rollouts.hashing import collision_escaping_count, pod_template_hash
from rollouts.models import AntiAffinity, PodMetadata, Rollout, RolloutStatus
from rollouts.pause_state import PauseState
from rollouts.plan import Create, Delete, Event, Patch, Plan, Write
from rollouts.pod_metadata import inject_pod_metadata
from rollouts.released import released_destination_rule_patch, released_service_patch
from rollouts.replicasets import (
    REVISION_ANNOTATION,
    Owner,
    ReplicaSetGroups,
    annotations_of,
    available_replicas,
    deadline_patch,
    group_replica_sets,
    has_scale_down_deadline,
    max_revision,
    name_of,
    new_replica_set,
    revision_history_to_delete,
    revision_of,
    revision_sync_patch,
    scale_down_deadline,
    scale_patch,
    spec_replicas,
    status_replicas,
    totals,
)
from rollouts.restarts import restart_progress
from rollouts.snapshot import RolloutSnapshot
from rollouts.status import DEGRADED, PAUSED, PROGRESSING, calculate_phase, label_selector_string

# Look again at once: this pass changed state (a step, the stable revision) that the next pass acts upon.
FOLLOW_UP_SECONDS = 0.0

# The Events of a new revision, which Argo's RolloutNotCompleted follows.
REVISION_EVENTS = frozenset({"RolloutUpdated", "NewReplicaSetCreated"})

# Progressing reasons under which the progress deadline runs (not once done, paused, aborted or timed out).
DEADLINE_REASONS = frozenset(
    {cond.NEW_RS_CREATED, cond.RS_UPDATED, cond.RS_NOT_AVAILABLE, cond.ROLLOUT_RESUMED, cond.ROLLOUT_RETRY}
)


# --- plans ---------------------------------------------------------------------------------------


def finish_plan(
    old_status: JsonObject,
    status: JsonObject,
    *,
    writes: Sequence[Write],
    events: Sequence[Event],
    requeue_after: float | None,
) -> Plan:
    """The Plan for a new status: the status patch is the merge patch from the observed status (None if equal)."""
    patch = merge_patch_between(old_status, status)
    return Plan(
        writes=tuple(writes),
        status=status,
        status_patch=patch or None,
        events=tuple(events),
        requeue_after=requeue_after,
    )


def status_of(manifest: Mapping[str, Any]) -> JsonObject:
    status = manifest.get("status")
    return dict(status) if isinstance(status, dict) else {}


def set_observed_generation(status: JsonObject, manifest: Mapping[str, Any]) -> None:
    generation = (manifest.get("metadata") or {}).get("generation")
    if generation is not None:
        status["observedGeneration"] = str(generation)


# --- what a pass decides -------------------------------------------------------------------------


@dataclass
class Draft:
    """The progress fields of the new status, as this pass decides them (``index`` and ``weights`` are canary's;
    the pause, abort and full-promotion state is ``pause``'s to change)."""

    index: int | None
    stable_hash: str | None
    pause: PauseState
    restarted_at: str | None
    weights: JsonObject | None

    @classmethod
    def observed(
        cls, rollout: Rollout, *, stable_exists: bool, index: int | None, weights: JsonObject | None
    ) -> Draft:
        """The progress recorded in the Rollout's observed status (a stable hash only while its ReplicaSet
        exists)."""
        observed = rollout.status
        return cls(
            index=index,
            stable_hash=observed.stable_rs if observed.stable_rs and stable_exists else None,
            pause=PauseState.observed(observed, manual=rollout.spec.paused),
            restarted_at=observed.restarted_at,
            weights=weights,
        )

    def start_revision(self, restart_at: str | None) -> None:
        """A new revision starts over: no pause, abort or full promotion carried over, and every pod of it is
        younger than any ``restartAt`` already asked for."""
        self.pause.start_over()
        self.restarted_at = restart_at if restart_at is not None else self.restarted_at


@dataclass(frozen=True)
class Requests:
    """What was asked of the update (abort, retry, full promotion), read against where it stands."""

    fully_promoted: bool  # the current revision is already the stable one
    promote_full: bool  # a full promotion is asked for and not done yet
    aborted: bool  # an abort holds (a full promotion overrides it; a finished update has nothing to abort)
    retried: bool  # the abort was lifted in this pass


@dataclass
class Outlook:
    """What the conditions and the phase need to know about this pass beyond the status fields."""

    created_rs: bool = False
    reset: bool = False
    retried: bool = False
    traffic_problem: str | None = None
    waiting: str | None = None
    abort_reason: str | None = None
    deadline_applies: bool = False


@dataclass
class PassProgress:
    """What the steps of one progressing pass share; each strategy adds what its own steps hand on."""

    draft: Draft
    outlook: Outlook
    revision: int
    new: JsonObject
    fully_promoted: bool
    promote_full: bool
    aborted: bool


@dataclass
class Effects:
    """What a pass queues, kept by kind so the writes can go out in the order that keeps traffic safe."""

    creates: list[Write] = field(default_factory=list)
    rollout_patches: list[Write] = field(default_factory=list)
    service_patches: list[Write] = field(default_factory=list)
    traffic_patches: list[Write] = field(default_factory=list)
    # ReplicaSet patches are merged per ReplicaSet, so one pass makes at most one write to each.
    rs_patches: dict[str, JsonObject] = field(default_factory=dict)
    pod_patches: list[Write] = field(default_factory=list)
    pod_deletes: list[Write] = field(default_factory=list)
    # What an analysis gate asks for (create its AnalysisRun, terminate an old one).
    analysis_writes: list[Write] = field(default_factory=list)
    cleanups: list[Write] = field(default_factory=list)
    """Deletions of what the Rollout keeps no longer: scaled-down ReplicaSets beyond ``revisionHistoryLimit`` and
    finished AnalysisRuns beyond the run history limits; written last."""
    events: list[Event] = field(default_factory=list)
    wake_times: list[float] = field(default_factory=list)
    """Seconds from now at which a timer (a pause, a delay, a deadline) needs another look; the plan's
    ``requeue_after`` is the earliest, or ``FOLLOW_UP_SECONDS`` (at once) after a pass that wrote."""

    def writes(self, namespace: str) -> list[Write]:
        """Services first (they must select the right pods before traffic moves onto them), then routes, then sizes
        (a scale-down only after traffic has left), then pod restarts, analysis and clean-up. Ephemeral labels go
        onto existing pods before their ReplicaSet records them, so a failed pod write is retried from the same
        record."""
        rs_writes: list[Write] = [
            Patch(kind=REPLICASETS, namespace=namespace, name=name, patch=patch)
            for name, patch in self.rs_patches.items()
        ]
        return [
            *self.creates,
            *self.rollout_patches,
            *self.service_patches,
            *self.traffic_patches,
            *self.pod_patches,
            *rs_writes,
            *self.pod_deletes,
            *self.analysis_writes,
            *self.cleanups,
        ]

    def event(self, reason: str, message: str, *, warning: bool = False) -> None:
        self.events.append(Event("Warning" if warning else "Normal", reason, message))

    def event_after(self, earlier: frozenset[str], reason: str, message: str) -> None:
        """An Event placed right after the last one whose reason is in ``earlier`` (first if there is none)."""
        last = max((i for i, found in enumerate(self.events) if found.reason in earlier), default=-1)
        self.events.insert(last + 1, Event("Normal", reason, message))

    def wake_at(self, moment: datetime, now: datetime) -> None:
        self.wake_times.append(max(seconds_between(now, moment), 0.0))

    def wake_in(self, seconds: float) -> None:
        self.wake_times.append(max(seconds, 0.0))

    def patch_rs(self, rs: JsonObject, patch: JsonObject) -> None:
        name = name_of(rs)
        self.rs_patches[name] = combine_merge_patches(self.rs_patches.get(name, {}), patch)


# --- the pass --------------------------------------------------------------------------------------


class RolloutPass:
    """The state and the strategy-neutral steps of one pass; a strategy subclasses it and supplies the hooks
    ``_healthy``, ``_available`` and ``_strategy_progressed`` that the conditions read."""

    max_unavailable: int = 0
    """Pods that may be unavailable at once (restarts delete at most this many, at least one); set by subclasses."""

    def __init__(self, snapshot: RolloutSnapshot, rollout: Rollout) -> None:
        self.snapshot = snapshot
        self.manifest = snapshot.rollout
        self.rollout = rollout
        self.now = as_utc(snapshot.now)
        # The observed status: typed for every decision (``observed``), and as it was read (``old``), which the
        # status patch is computed against and whose conditions the new ones carry on.
        self.observed: RolloutStatus = rollout.status
        # The pause and abort state as observed (each Draft changes its own copy).
        self.observed_pause = PauseState.observed(self.observed, manual=rollout.spec.paused)
        self.old = status_of(self.manifest)
        self.old_conditions = cond.conditions_of(self.old)
        self.spec: JsonObject = dict(self.manifest.get("spec") or {})
        self.name = rollout.name
        self.namespace = rollout.namespace or "default"
        self.replicas = rollout.spec.replicas
        assert rollout.spec.template is not None
        self.collision_count = collision_escaping_count(
            rollout.spec.template, self.observed.collision_count, rollout.name, snapshot.foreign_replica_set_names
        )
        self.current_hash = pod_template_hash(rollout.spec.template, self.collision_count)
        self.groups: ReplicaSetGroups = group_replica_sets(
            snapshot.replica_sets, self.current_hash, self.observed.stable_rs
        )
        self.effects = Effects()
        self.follow_up = False

    # --- strategy hooks ------------------------------------------------------------------------

    def _healthy(self, status: JsonObject, draft: Draft) -> bool:
        """Every pod updated and available, and the strategy finished (the Healthy condition)."""
        raise NotImplementedError

    def _available(self, status: JsonObject) -> bool:
        """The Rollout has its minimum availability (the Available condition)."""
        raise NotImplementedError

    def _strategy_progressed(self, status: JsonObject) -> bool:
        """Progress that only the strategy knows about (a step moved, a Service switched)."""
        raise NotImplementedError

    def _observed_draft(self) -> Draft:
        """The progress the observed status records, as the strategy reads it."""
        raise NotImplementedError

    def _reset(self, draft: Draft) -> None:
        """Start a new revision over (what the strategy carries besides ``Draft.start_revision``)."""
        raise NotImplementedError

    # --- the shared steps ------------------------------------------------------------------------

    def _begin_revision(self, *, template_changed: bool, reset: bool) -> tuple[int, Draft, Outlook]:
        """The first step of a preparing pass: the revision, the observed progress, and a new revision's reset."""
        revision = self._revision()
        draft = self._observed_draft()
        outlook = Outlook(reset=reset)
        if template_changed:
            self.effects.event("RolloutUpdated", f"Rollout updated to revision {revision}")
        if reset:
            self._reset(draft)
        return revision, draft, outlook

    def _ensure_new_replica_set(
        self, revision: int, outlook: Outlook, *, size: int, pod_metadata: PodMetadata | None = None
    ) -> JsonObject:
        """The current template's ReplicaSet, created at ``size`` pods when it does not exist yet."""
        new = self.groups.new
        if new is not None:
            return new
        outlook.created_rs = True
        return self._create_replica_set(revision, size, pod_metadata=pod_metadata)

    def _begin_progress(self) -> tuple[JsonObject, Draft, int, Requests]:
        """The first step of a progressing pass: the new ReplicaSet, the observed progress, the revision (synced
        onto the ReplicaSet and the Rollout) and what was asked of the update."""
        new = self.groups.new
        assert new is not None
        draft = self._observed_draft()
        revision = self._revision()
        self._sync_revisions(revision)
        return new, draft, revision, self._requests(draft)

    def _release_unreferenced(self) -> None:
        """Take this Rollout's pod-template hash out of the Services and the DestinationRule it managed and its
        spec no longer names (a strategy change, subset-level routing removed), as Argo's Service and Istio
        controllers do (``rollouts.released``)."""
        for service in self.snapshot.released_services:
            patch = released_service_patch(service, self.namespace)
            if patch is not None:
                self.effects.service_patches.append(patch)
        for rule in self.snapshot.released_destination_rules:
            patch = released_destination_rule_patch(rule, self.namespace)
            if patch is not None:
                self.effects.traffic_patches.append(patch)

    def _delete_old_revisions(self) -> None:
        """Delete the oldest scaled-down ReplicaSets beyond ``revisionHistoryLimit``."""
        for rs in revision_history_to_delete(self.groups.others, self.rollout.spec.revision_history_limit):
            self.effects.cleanups.append(Delete(kind=REPLICASETS, namespace=self.namespace, name=name_of(rs)))

    def _initial_deploy(self, draft: Draft, revision: int) -> None:
        """Nothing to compare against: the first version is the stable one at once (Argo's "Initial deploy")."""
        draft.stable_hash = self.current_hash
        # Once per change of the stable revision (a recreated ReplicaSet of the same revision is no news).
        if self.observed.stable_rs != self.current_hash:
            self._completed(revision, "Initial deploy")

    def _completed(self, revision: int, reason: str) -> None:
        """The Event of a new stable revision (Argo's RolloutCompleted), saying why."""
        self.effects.event(
            "RolloutCompleted", f"Rollout completed update to revision {revision} ({self.current_hash}): {reason}"
        )

    # --- requests --------------------------------------------------------------------------------

    def _requests(self, draft: Draft) -> Requests:
        pause = draft.pause
        fully_promoted = self.groups.stable is not None and draft.stable_hash == self.current_hash
        promote_full = pause.promote_full and not fully_promoted
        # A full promotion overrides an abort (both are requests; the later intent is to go forward), and there is
        # nothing left to abort once the new revision is the stable one.
        aborted = pause.abort and not fully_promoted and not promote_full
        old_progressing = cond.find_condition(self.old_conditions, cond.PROGRESSING)
        retried = not pause.abort and (
            pause.aborted_at is not None
            or (old_progressing is not None and old_progressing.get("reason") == cond.ROLLOUT_ABORTED)
        )
        return Requests(fully_promoted=fully_promoted, promote_full=promote_full, aborted=aborted, retried=retried)

    # --- the status ----------------------------------------------------------------------------

    def _base_status(self, draft: Draft, *, new_rs: JsonObject | None) -> JsonObject:
        """The status fields both strategies write alike: the revision, the pause and abort state the pass
        decided, and the replica counts over every ReplicaSet (a strategy may override the ones it reports
        differently, as blue-green does for what serves production)."""
        counted = totals(self.groups.all)
        status: JsonObject = {}
        set_observed_generation(status, self.manifest)
        status["currentPodHash"] = self.current_hash
        if draft.stable_hash:
            status["stableRS"] = draft.stable_hash
        draft.pause.write(status)
        if draft.restarted_at:
            status["restartedAt"] = draft.restarted_at
        if self.collision_count is not None:
            status["collisionCount"] = self.collision_count
        status["replicas"] = counted.replicas
        status["updatedReplicas"] = status_replicas(new_rs) if new_rs is not None else 0
        status["readyReplicas"] = counted.ready
        status["availableReplicas"] = counted.available
        status["HPAReplicas"] = counted.replicas
        status["selector"] = label_selector_string(self.spec.get("selector"))
        return status

    def _finish_status(
        self, status: JsonObject, draft: Draft, outlook: Outlook, *, rs_name: str, revision: int
    ) -> JsonObject:
        """Add the conditions, the phase and its message to ``status`` (a traffic problem degrades the Rollout;
        a wait the pass reports keeps it Progressing)."""
        status["conditions"] = self._conditions(status, draft, outlook, rs_name=rs_name, revision=revision)
        phase, message = calculate_phase(self.spec, status)
        if phase != DEGRADED and outlook.traffic_problem is not None:
            phase, message = DEGRADED, f"TrafficRoutingError: {outlook.traffic_problem}"
        elif phase not in (DEGRADED, PAUSED) and outlook.waiting is not None:
            phase, message = PROGRESSING, outlook.waiting
        status["phase"] = phase
        if message:
            status["message"] = message
        return status

    # --- the plan ------------------------------------------------------------------------------

    def _plan(self, status: JsonObject) -> Plan:
        effects = self.effects
        wake_times = list(effects.wake_times)
        writes = effects.writes(self.namespace)
        # What this pass wrote (or the step it moved to) is what the next pass acts upon: look again at once rather
        # than rely on some watch noticing (the controller's cache already holds the writes).
        if self.follow_up or writes:
            wake_times.append(FOLLOW_UP_SECONDS)
        requeue = min(wake_times) if wake_times else None
        return finish_plan(self.old, status, writes=writes, events=effects.events, requeue_after=requeue)

    # --- revisions -----------------------------------------------------------------------------

    def _revision(self) -> int:
        """The new ReplicaSet's revision: one past every other ReplicaSet's (so a reused one moves to the top)."""
        new = self.groups.new
        others = [rs for rs in self.snapshot.replica_sets if new is None or name_of(rs) != name_of(new)]
        following = max_revision(others) + 1
        return following if new is None else max(revision_of(new), following)

    def _sync_revisions(self, revision: int) -> None:
        new = self.groups.new
        if new is not None:
            patch = revision_sync_patch(new, revision, self.rollout.spec.min_ready_seconds)
            if patch is not None:
                self.effects.patch_rs(new, patch)
            if self.observed.stable_rs == self.current_hash:
                # Stable now: the anti-affinity against the previous stable has served its purpose.
                affinity_patch = anti_affinity_removal_patch(new)
                if affinity_patch is not None:
                    self.effects.patch_rs(new, affinity_patch)
        if annotations_of(self.manifest).get(REVISION_ANNOTATION) != str(revision):
            # Argo keeps the revision on the Rollout too; Argo CD and the CLI read it there.
            self.effects.rollout_patches.append(
                Patch(
                    kind=ROLLOUTS,
                    namespace=self.namespace,
                    name=self.name,
                    patch={"metadata": {"annotations": {REVISION_ANNOTATION: str(revision)}}},
                )
            )

    def _anti_affinity(self) -> AntiAffinity | None:
        strategy = self.rollout.spec.strategy
        chosen = strategy.canary if strategy.canary is not None else strategy.blue_green
        return chosen.anti_affinity if chosen is not None else None

    def _create_replica_set(self, revision: int, size: int, *, pod_metadata: PodMetadata | None = None) -> JsonObject:
        """Queue the creation of the current template's ReplicaSet at ``size`` pods; its body.

        ``pod_metadata`` (a strategy's ephemeral labels and annotations) goes into the ReplicaSet's pod template,
        so every pod it creates carries them.
        """
        template = self.rollout.spec.template
        assert template is not None
        body = new_replica_set(
            owner=Owner(self.name, self.namespace, str(self.rollout.metadata.uid or "")),
            template=template,
            selector=self.spec.get("selector") or {},
            pod_hash=self.current_hash,
            revision=revision,
            replicas=size,
            desired_replicas=self.replicas,
            min_ready_seconds=self.rollout.spec.min_ready_seconds,
        )
        if pod_metadata is not None:
            body = inject_pod_metadata(body, pod_metadata)
        body = with_anti_affinity(
            body, self._anti_affinity(), stable_hash=self.observed.stable_rs, new_hash=self.current_hash
        )
        name = name_of(body)
        self.effects.creates.append(Create(kind=REPLICASETS, namespace=self.namespace, body=body))
        self.effects.event("NewReplicaSetCreated", f"Created ReplicaSet {name} (revision {revision})")
        if size > 0:
            self.effects.event(
                "ScalingReplicaSet", f"Scaled up ReplicaSet {name} (revision {revision}) from 0 to {size}"
            )
        return body

    # --- restarts ----------------------------------------------------------------------------------

    def _restart_pods(self, draft: Draft) -> None:
        """Delete a batch of pods older than spec.restartAt; once none is left, record it as ``restartedAt``."""
        groups = self.groups
        ordered = [rs for rs in (groups.stable, groups.new) if rs is not None]
        ordered = [rs for i, rs in enumerate(ordered) if all(name_of(rs) != name_of(o) for o in ordered[:i])]
        ordered += sorted(groups.others, key=lambda rs: str((rs.get("metadata") or {}).get("creationTimestamp", "")))
        restart_at = self.rollout.spec.restart_at
        progress = restart_progress(
            restart_at=restart_at,
            restarted_at=self.observed.restarted_at,
            replica_sets=ordered,
            pods=self.snapshot.pods,
            replicas=self.replicas,
            max_unavailable=self.max_unavailable,
            min_ready_seconds=self.rollout.spec.min_ready_seconds,
            now=self.now,
        )
        self.effects.pod_deletes.extend(
            Delete(kind=PODS, namespace=self.namespace, name=name_of(pod)) for pod in progress.delete
        )
        if progress.wake_at is not None:
            self.effects.wake_at(progress.wake_at, self.now)
        if progress.look_again_in is not None:
            self.effects.wake_in(progress.look_again_in)
        if progress.finished:
            draft.restarted_at = restart_at

    # --- scaling -----------------------------------------------------------------------------------

    def _scale(self, rs: JsonObject, replicas: int, *, keep_deadline: bool = False) -> bool:
        """Queue a scale of ``rs`` (and its Event); False when it already has that size."""
        patch = scale_patch(rs, max(replicas, 0), self.replicas)
        if patch is None:
            return False
        if replicas == 0 and has_scale_down_deadline(rs) and not keep_deadline:
            patch = combine_merge_patches(patch, deadline_patch(None))
        self.effects.patch_rs(rs, patch)
        before = spec_replicas(rs)
        direction = "up" if replicas > before else "down"
        self.effects.event(
            "ScalingReplicaSet",
            f"Scaled {direction} ReplicaSet {name_of(rs)} (revision {revision_of(rs) or self._revision()}) "
            f"from {before} to {max(replicas, 0)}",
        )
        return True

    def _clear_scale_down_deadlines(self, new: JsonObject, *, keep_new: bool) -> None:
        """What serves keeps its pods: no scale-down deadline on the stable ReplicaSet, nor on the new one (back on
        a ReplicaSet that was waiting to go: a rollback within its delay) unless ``keep_new``."""
        if not keep_new and has_scale_down_deadline(new):
            self.effects.patch_rs(new, deadline_patch(None))
        stable = self.groups.stable
        if self.groups.stable_is_distinct and stable is not None and has_scale_down_deadline(stable):
            self.effects.patch_rs(stable, deadline_patch(None))

    def _scale_down_after_abort(self, new: JsonObject, stable: JsonObject, *, delay: int, size: int) -> bool:
        """After an abort the new ReplicaSet waits out ``delay`` seconds, counted from when ``stable`` serves with
        every pod again (a scale-down deadline on it), then goes down to ``size``; True when it is scaled now."""
        if has_scale_down_deadline(new):
            deadline = scale_down_deadline(new)
            if deadline is not None and deadline > self.now:
                self.effects.wake_at(deadline, self.now)
                return False
            return self._scale(new, size, keep_deadline=True)
        if available_replicas(stable) >= self.replicas:
            # Traffic is back on a fully available stable: start the countdown.
            moment = self.now + timedelta(seconds=delay)
            self.effects.patch_rs(new, deadline_patch(format_time(moment)))
            self.effects.wake_at(moment, self.now)
        return False

    def _wind_down(self, plan: OtherPlan) -> None:
        """Carry out the plan for the ReplicaSets that are neither new nor stable: deadlines, sizes, a wake-up."""
        for target in plan.targets:
            if target.deadline is not None:
                self.effects.patch_rs(target.rs, deadline_patch(format_time(target.deadline)))
            self._scale(target.rs, target.replicas)
        if plan.wake_at is not None:
            self.effects.wake_at(plan.wake_at, self.now)

    # --- conditions --------------------------------------------------------------------------------

    def _conditions(
        self, status: JsonObject, draft: Draft, outlook: Outlook, *, rs_name: str, revision: int
    ) -> list[JsonObject]:
        now, effects = self.now, self.effects

        def previous(type_: str) -> JsonObject | None:
            return cond.find_condition(self.old_conditions, type_)

        found: dict[str, JsonObject] = {}
        paused_now = draft.pause.paused_now
        stable_is_current = bool(draft.stable_hash) and draft.stable_hash == self.current_hash
        healthy = self._healthy(status, draft)
        available = self._available(status)

        found[cond.AVAILABLE] = cond.condition(
            previous(cond.AVAILABLE),
            cond.AVAILABLE,
            cond.TRUE if available else cond.FALSE,
            cond.AVAILABLE_REASON,
            cond.AVAILABLE_MESSAGE if available else cond.NOT_AVAILABLE_MESSAGE,
            now,
        )
        progressing = self._progressing(
            status,
            draft,
            outlook,
            previous(cond.PROGRESSING),
            healthy=healthy,
            paused_now=paused_now,
            rs_name=rs_name,
            revision=revision,
        )
        found[cond.PROGRESSING] = progressing
        if outlook.deadline_applies and progressing.get("reason") in DEADLINE_REASONS:
            last = parse_time(progressing.get("lastUpdateTime"))
            if last is not None:
                effects.wake_at(last + timedelta(seconds=self.rollout.spec.progress_deadline_seconds), now)
        failure = cond.replica_failure([rs for rs in (self.groups.new, *self.groups.all) if rs is not None])
        if failure is not None:
            found[cond.REPLICA_FAILURE] = failure
        old_paused = previous(cond.PAUSED)
        if paused_now or old_paused is not None:
            found[cond.PAUSED] = cond.condition(
                old_paused,
                cond.PAUSED,
                cond.TRUE if paused_now else cond.FALSE,
                cond.ROLLOUT_PAUSED if paused_now else cond.ROLLOUT_RESUMED,
                cond.PAUSED_MESSAGE if paused_now else cond.RESUMED_MESSAGE,
                now,
            )
        was_paused = old_paused is not None and old_paused.get("status") == cond.TRUE
        if paused_now and not was_paused:
            why = "manually paused" if draft.pause.manual else draft.pause.conditions[0].reason
            effects.event(cond.ROLLOUT_PAUSED, f"{cond.PAUSED_MESSAGE} ({why})")
        elif was_paused and not paused_now and not draft.pause.abort:
            effects.event(cond.ROLLOUT_RESUMED, cond.RESUMED_MESSAGE)
        self._note_not_completed(previous(cond.COMPLETED), stable_is_current, revision)
        found[cond.COMPLETED] = cond.condition(
            previous(cond.COMPLETED),
            cond.COMPLETED,
            cond.TRUE if stable_is_current else cond.FALSE,
            cond.ROLLOUT_COMPLETED,
            cond.ROLLOUT_COMPLETED,
            now,
        )
        old_healthy = previous(cond.HEALTHY)
        if healthy and not paused_now:
            found[cond.HEALTHY] = cond.condition(
                old_healthy, cond.HEALTHY, cond.TRUE, cond.ROLLOUT_HEALTHY, cond.HEALTHY_MESSAGE, now
            )
        elif old_healthy is not None:
            found[cond.HEALTHY] = cond.condition(
                old_healthy, cond.HEALTHY, cond.FALSE, cond.ROLLOUT_HEALTHY, cond.NOT_HEALTHY_MESSAGE, now
            )
        return cond.ordered(found)

    def _note_not_completed(self, old: JsonObject | None, completed: bool, revision: int) -> None:
        """Argo's RolloutNotCompleted Event: the Completed condition turns False (an update has begun)."""
        if completed or (old is not None and old.get("status") == cond.FALSE):
            return
        # Argo records the condition in the pass that creates the ReplicaSet and scales it in the next: the Event
        # comes right after the revision's own Events, before any scaling or Service switch of this pass.
        self.effects.event_after(
            REVISION_EVENTS,
            "RolloutNotCompleted",
            f"Rollout not completed, started update to revision {revision} ({self.current_hash})",
        )

    def _progressing(
        self,
        status: JsonObject,
        draft: Draft,
        outlook: Outlook,
        old: JsonObject | None,
        *,
        healthy: bool,
        paused_now: bool,
        rs_name: str,
        revision: int,
    ) -> JsonObject:
        """The Progressing condition: the one that carries aborts, pauses and the progress deadline."""
        now, effects = self.now, self.effects
        old_reason = old.get("reason") if old is not None else None

        def make(status_: str, reason: str, message: str, *, refresh: bool = False) -> JsonObject:
            return cond.condition(old, cond.PROGRESSING, status_, reason, message, now, refresh=refresh)

        if draft.pause.abort:
            if old is not None and old_reason == cond.ROLLOUT_ABORTED:
                return dict(old)
            message = cond.aborted_message(revision, outlook.abort_reason)
            effects.event(cond.ROLLOUT_ABORTED, message, warning=True)
            return make(cond.FALSE, cond.ROLLOUT_ABORTED, message)
        if healthy:
            return make(cond.TRUE, cond.NEW_RS_AVAILABLE, cond.progressed_message(rs_name))
        if paused_now:
            return make(cond.UNKNOWN, cond.ROLLOUT_PAUSED, cond.PAUSED_MESSAGE)
        if outlook.retried:
            return make(cond.UNKNOWN, cond.ROLLOUT_RETRY, cond.RETRY_MESSAGE, refresh=True)
        if outlook.created_rs:
            return make(cond.TRUE, cond.NEW_RS_CREATED, cond.created_message(rs_name), refresh=True)
        if old_reason == cond.ROLLOUT_PAUSED:
            return make(cond.UNKNOWN, cond.ROLLOUT_RESUMED, cond.RESUMED_MESSAGE, refresh=True)
        if outlook.reset or self._progressed(status):
            return make(cond.TRUE, cond.RS_UPDATED, cond.progressing_message(rs_name), refresh=True)
        if old_reason == cond.NEW_RS_AVAILABLE:
            # It was done and lost pods (evictions, crashes): progressing again, with a fresh deadline.
            return make(cond.TRUE, cond.RS_NOT_AVAILABLE, cond.NOT_AVAILABLE_MESSAGE, refresh=True)
        if old is None:
            return make(cond.TRUE, cond.RS_UPDATED, cond.progressing_message(rs_name))
        if self._timed_out(old, outlook):
            message = cond.timed_out_message(rs_name)
            if old_reason != cond.TIMED_OUT:
                effects.event(cond.TIMED_OUT, message, warning=True)
            if self.rollout.spec.progress_deadline_abort:
                # Also when progressDeadlineAbort was set after the deadline ran out: Argo checks it on every pass
                # that finds the update timed out.
                aborted = self._abort_on_deadline(status, draft, revision, message)
                return make(cond.FALSE, cond.ROLLOUT_ABORTED, aborted)
            return make(cond.FALSE, cond.TIMED_OUT, message)
        return dict(old)

    def _abort_on_deadline(self, status: JsonObject, draft: Draft, revision: int, timed_out: str) -> str:
        """Give up on this revision for lack of progress (``progressDeadlineAbort``); the abort message. The next
        pass sends all traffic back to stable."""
        draft.pause.abort_update(self.now)
        draft.pause.write(status)
        self.follow_up = True
        aborted = cond.aborted_message(revision, timed_out)
        self.effects.event(cond.ROLLOUT_ABORTED, aborted, warning=True)
        return aborted

    def _progressed(self, status: JsonObject) -> bool:
        """Argo's RolloutProgressing: pods moved toward the new revision, or the stable revision moved, or whatever
        the strategy counts as progress (``_strategy_progressed``)."""
        old = self.observed
        return (
            count_of(status, "updatedReplicas") != old.updated_replicas
            or count_of(status, "replicas") - count_of(status, "updatedReplicas")
            < old.replicas - old.updated_replicas
            or count_of(status, "readyReplicas") > old.ready_replicas
            or count_of(status, "availableReplicas") > old.available_replicas
            or status.get("stableRS") != old.stable_rs
            or self._strategy_progressed(status)
        )

    def _timed_out(self, old: JsonObject, outlook: Outlook) -> bool:
        """Argo's RolloutTimedOut: no progress for progressDeadlineSeconds (and once timed out, until progress)."""
        if old.get("reason") == cond.TIMED_OUT:
            return True
        if old.get("reason") not in DEADLINE_REASONS or not outlook.deadline_applies:
            return False
        last = parse_time(old.get("lastUpdateTime"))
        if last is None:
            return False
        return self.now >= last + timedelta(seconds=self.rollout.spec.progress_deadline_seconds)


def count_of(source: Mapping[str, Any], key: str) -> int:
    """An integer status field; 0 when absent or not an integer."""
    value = source.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


__all__ = [
    "DEADLINE_REASONS",
    "FOLLOW_UP_SECONDS",
    "Draft",
    "Effects",
    "Outlook",
    "RolloutPass",
    "count_of",
    "finish_plan",
    "set_observed_generation",
    "status_of",
]
