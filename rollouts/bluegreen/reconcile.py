"""One reconcile pass of a blue-green Rollout: from an observed snapshot and ``now`` to a Plan.

In Argo's order (rollout/bluegreen.go): a pass either *prepares* a new revision (creates its ReplicaSet, points the
preview Service at it at once, resets the update's state) or *progresses* it: restarts pods, points the preview
Service, sizes the ReplicaSets, pauses or resumes before the switch, switches the active Service once the new
ReplicaSet is fully available and nothing holds it, and marks the new revision stable once the active Service
selects it (and post-promotion analysis, if any, has passed). The previous revision keeps its pods for
``scaleDownDelaySeconds`` after the switch, so a rollback within that delay needs no new pods.

Everything is decided from the observed status, ReplicaSets and Services, so the next pass picks up exactly where
this one stopped, whatever happened in between.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kube.json_data import JsonObject
from kube.quantities import resolve_int_or_percent
from kube.resources import PODS, SERVICES
from rollouts import conditions as cond
from rollouts.bluegreen.decisions import (
    completed_pause,
    is_ready,
    new_replicas,
    old_replica_set_plan,
    pause_decision,
    scale_up_checkpoint,
)
from rollouts.bluegreen.promotion_analysis import (
    DEFAULT_GATES,
    POST_RUN_STATUS,
    PRE_RUN_STATUS,
    GateContext,
    GateResult,
    GateState,
    PromotionGates,
)
from rollouts.gating.history import housekeeping
from rollouts.gating.tracking import refreshed
from rollouts.models import BlueGreenStrategy, PodMetadata, Rollout, RolloutAnalysisRunStatus
from rollouts.pause_state import BLUE_GREEN_PAUSE, INCONCLUSIVE_ANALYSIS
from rollouts.plan import Patch, Plan
from rollouts.pod_metadata import pod_metadata_patches, replica_set_metadata_patch
from rollouts.replicasets import (
    available_replicas,
    find_by_hash,
    has_scale_down_deadline,
    name_of,
    pod_template_hash_of,
    ready_replicas,
    spec_replicas,
    status_replicas,
)
from rollouts.rollout_pass import Draft, Outlook, PassProgress, RolloutPass, count_of
from rollouts.services import ServiceReference, selected_hash, service_switch
from rollouts.snapshot import RolloutSnapshot
from rollouts.status import label_selector_string

PATH = "spec.strategy.blueGreen"


def plan_blue_green(
    snapshot: RolloutSnapshot, rollout: Rollout, *, gates: PromotionGates = DEFAULT_GATES
) -> Plan:
    """The writes, status, Events and next look-again time for one reconcile of a valid blue-green Rollout whose
    Services exist (``rollouts.reconcile.decide`` checks both first)."""
    strategy = rollout.spec.strategy.blue_green
    assert strategy is not None
    return BlueGreenPass(snapshot, rollout, strategy, gates).plan()


def service_references(strategy: BlueGreenStrategy) -> list[ServiceReference]:
    """The Services a blue-green strategy names, for the InvalidSpec checks."""
    return [
        ServiceReference(f"{PATH}.{field_name}", name)
        for field_name, name in (
            ("activeService", strategy.active_service),
            ("previewService", strategy.preview_service),
        )
        if name
    ]


@dataclass
class _Progress(PassProgress):
    """What the steps of one progressing blue-green pass decide and hand on to the next."""

    stable: JsonObject | None
    context: GateContext
    active_hash: str | None
    """The revision the active Service selects as the pass starts (restored to stable if it lost it)."""
    fast_rollback: bool = False
    """Back on a ReplicaSet still waiting out its scale-down delay: straight to active."""
    fast_tracked: bool = False
    """No pause and no pre-promotion analysis (full promotion, fast rollback, nothing or this revision active)."""
    preview_after: str | None = None
    """The revision the preview Service selects after this pass."""
    desired_new: int = 0
    saturated: bool = False
    """The new ReplicaSet has every replica of the Rollout, all available (it may take production traffic)."""
    active_after: str | None = None
    """The revision the active Service selects after this pass."""
    pre_complete: bool = False
    pause_over: bool = False
    post_passed: bool = True

    @property
    def new_available(self) -> int:
        return available_replicas(self.new)

    @property
    def ready(self) -> bool:
        """The new ReplicaSet has exactly its desired pods, all available."""
        return is_ready(self.new, self.desired_new, self.new_available)


class BlueGreenPass(RolloutPass):
    """One pass over a blue-green Rollout; built per call and thrown away."""

    def __init__(
        self, snapshot: RolloutSnapshot, rollout: Rollout, strategy: BlueGreenStrategy, gates: PromotionGates
    ) -> None:
        super().__init__(snapshot, rollout)
        self.strategy = strategy
        self.gates = gates
        self.max_unavailable = min(
            resolve_int_or_percent(strategy.max_unavailable, self.replicas, round_up=False), self.replicas
        )
        services = snapshot.services
        self.active_service = services.get(strategy.active_service) if strategy.active_service else None
        self.preview_service = services.get(strategy.preview_service) if strategy.preview_service else None
        self.active_hash = selected_hash(self.active_service)
        self.preview_hash = selected_hash(self.preview_service)
        observed = self.observed.blue_green
        self.checkpoint = observed.scale_up_preview_check_point
        self.run_statuses: dict[str, JsonObject | None] = {
            PRE_RUN_STATUS: _entry(observed.pre_promotion_analysis_run_status),
            POST_RUN_STATUS: _entry(observed.post_promotion_analysis_run_status),
        }
        # Argo's haltProgress: a person paused it, or an analysis could not decide.
        self.halted = self.observed_pause.manual or self.observed_pause.holds(INCONCLUSIVE_ANALYSIS)

    # --- entry ---------------------------------------------------------------------------------

    def plan(self) -> Plan:
        template_changed = self.observed.current_pod_hash != self.current_hash
        if template_changed or self.groups.new is None:
            status = self._prepare(template_changed=template_changed)
        else:
            status = self._progress()
        return self._plan(status)

    # --- preparing a revision ------------------------------------------------------------------

    def _prepare(self, *, template_changed: bool) -> JsonObject:
        """Create the ReplicaSet of a new template, point the preview Service at it, and reset the update's
        state; nothing else moves in this pass."""
        initial = self.groups.stable is None
        revision, draft, outlook = self._begin_revision(template_changed=template_changed, reset=template_changed)
        size = (
            self.replicas
            if initial
            else self._new_replicas(draft, promote_full=draft.pause.promote_full, active_hash=self.active_hash)
        )
        # The first revision will be the active one; later ones start as the preview.
        metadata = self.strategy.active_metadata if initial else self.strategy.preview_metadata
        new = self._ensure_new_replica_set(revision, outlook, size=size, pod_metadata=metadata)
        self._sync_revisions(revision)
        preview_after = self._switch_preview(new)
        # A new revision supersedes the runs of the previous one: terminated, and kept as history.
        self._analysis_housekeeping(terminate_all=False)
        if initial:
            # The active Service follows once the first version is fully available.
            self._initial_deploy(draft, revision)
        self.follow_up = True
        return self._status(
            draft,
            outlook,
            new_rs=None if outlook.created_rs else new,
            rs_name=name_of(new),
            revision=revision,
            active_after=self.active_hash,
            preview_after=preview_after,
        )

    def _observed_draft(self) -> Draft:
        return Draft.observed(self.rollout, stable_exists=self.groups.stable is not None, index=None, weights=None)

    def _reset(self, draft: Draft) -> None:
        """A new revision starts over: no pause, abort, full promotion, checkpoint or analysis carried over."""
        draft.start_revision(self.rollout.spec.restart_at)
        self.checkpoint = False
        self.run_statuses = {key: None for key in self.run_statuses}

    def _new_replicas(self, draft: Draft, *, promote_full: bool, active_hash: str | None) -> int:
        return new_replicas(
            self.strategy,
            self.replicas,
            new_hash=self.current_hash,
            active_hash=active_hash,
            recorded_hash=self.observed.current_pod_hash,
            promote_full=promote_full,
            paused=draft.pause.paused_now,
            scale_up_checkpoint=self.checkpoint,
        )

    # --- progressing ---------------------------------------------------------------------------

    def _progress(self) -> JsonObject:
        """Argo's rolloutBlueGreen, one named step after another over the pass's shared context."""
        progress = self._start_progress()
        self._restore_lost_active(progress)
        self._size_the_new_replica_set(progress)
        self._pre_promotion_analysis(progress)
        self._pause_before_the_switch(progress)
        self._restart_pods(progress.draft)
        self._switch_services(progress)
        self._post_promotion_analysis(progress)
        self._analysis_housekeeping(
            terminate_all=progress.aborted or progress.promote_full or progress.fast_rollback
        )
        self._scale_replica_sets(
            progress.draft,
            desired_new=progress.desired_new,
            aborted=progress.aborted,
            keep_new_deadline=progress.fast_rollback and progress.active_after != self.current_hash,
            active_before=progress.active_hash,
            active_after=progress.active_after,
            preview_after=progress.preview_after,
        )
        self._sync_pod_metadata()
        self._promote_or_checkpoint(progress)
        return self._progress_status(progress)

    # --- the steps of a progressing pass ---------------------------------------------------------

    def _start_progress(self) -> _Progress:
        """The observed progress, with this pass's abort, full-promotion and retry decisions applied."""
        stable = self.groups.stable
        new, draft, revision, requests = self._begin_progress()
        fully_promoted, promote_full, aborted = requests.fully_promoted, requests.promote_full, requests.aborted
        outlook = Outlook(retried=requests.retried)
        draft.pause.settle(aborted=aborted, promote_full=promote_full, now=self.now)
        if outlook.retried:
            self.effects.event("RolloutRetry", cond.RETRY_MESSAGE)
            self.follow_up = True
            # A new attempt runs its analyses anew; the runs that caused the abort are history.
            self.run_statuses = {key: None for key in self.run_statuses}
        context = GateContext(
            snapshot=self.snapshot,
            rollout=self.rollout,
            current_hash=self.current_hash,
            stable_hash=draft.stable_hash,
            revision=revision,
            now=self.now,
        )
        return _Progress(
            draft=draft, outlook=outlook, revision=revision, new=new, stable=stable, context=context,
            fully_promoted=fully_promoted, promote_full=promote_full, aborted=aborted, active_hash=self.active_hash,
        )

    def _restore_lost_active(self, progress: _Progress) -> None:
        if progress.active_hash is None and progress.stable is not None and not progress.fully_promoted:
            # The active Service lost its revision selector behind the controller's back (a GitOps sync, a re-created
            # Service) in the middle of an update: production goes back to the stable version first. (Argo takes it
            # as an initial deploy and fast-tracks the new version, skipping the pause and the analysis.)
            progress.active_hash = self._switch_active(progress.stable)

    def _size_the_new_replica_set(self, progress: _Progress) -> None:
        new, draft = progress.new, progress.draft
        # Back on a ReplicaSet that still waits out its scale-down delay (a rollback within the delay): it has every
        # pod already, so it goes straight to active, with no pause and no analysis (Argo's isBlueGreenFastTracked).
        progress.fast_rollback = (
            not progress.aborted and not progress.outlook.retried and not progress.fully_promoted
            and has_scale_down_deadline(new)
        )
        progress.fast_tracked = (
            progress.promote_full or progress.fast_rollback or progress.active_hash is None
            or progress.active_hash == self.current_hash
        )
        progress.desired_new = self._new_replicas(
            draft, promote_full=progress.promote_full, active_hash=progress.active_hash
        )
        progress.saturated = spec_replicas(new) == self.replicas and progress.new_available >= self.replicas
        # `promote` answered an inconclusive analysis, not the pause before the switch (which comes after it).
        draft.pause.acted_on_resume(
            any((run or {}).get("status") == GateState.INCONCLUSIVE.value for run in self.run_statuses.values())
        )

    def _pre_promotion_analysis(self, progress: _Progress) -> None:
        """Once the preview is fully up, before any pause or switch. The preview checkpoint (previewReplicaCount)
        is only ever set after it passed."""
        progress.pre_complete = self.strategy.pre_promotion_analysis is None or self.checkpoint
        if (
            progress.ready and not progress.aborted and not progress.fast_tracked and not self.checkpoint
            and not self.halted
        ):
            verdict = self._gate(self.gates.pre(progress.context), PRE_RUN_STATUS, progress.draft, progress.outlook)
            progress.pre_complete = verdict is GateState.PASSED
            progress.aborted = progress.aborted or verdict is GateState.FAILED

    def _pause_before_the_switch(self, progress: _Progress) -> None:
        draft, now = progress.draft, self.now
        # What the pause was before this pass changed it: whether it is over is judged on that.
        before = replace(draft.pause, conditions=list(draft.pause.conditions))
        decision = pause_decision(
            self.strategy,
            ready=progress.ready,
            halted=self.halted,
            aborted=progress.aborted,
            fast_tracked=progress.fast_tracked,
            scale_up_checkpoint=self.checkpoint,
            pre_promotion_complete=progress.pre_complete,
            pause=before,
            now=now,
        )
        if decision.over:
            draft.pause.remove(BLUE_GREEN_PAUSE)
        if decision.start:
            draft.pause.pause(BLUE_GREEN_PAUSE, now)
        if decision.wake_at is not None:
            self.effects.wake_at(decision.wake_at, now)
        progress.pause_over = completed_pause(
            self.strategy,
            pause=before,
            scale_up_checkpoint=self.checkpoint,
            paused_in_this_pass=decision.start,
            now=now,
        )

    def _switch_services(self, progress: _Progress) -> None:
        """The active Service: back to stable on an abort; to the new ReplicaSet once it has every pod available
        and the pause and the pre-promotion analysis are behind it (Argo's reconcileActiveService)."""
        progress.preview_after = self._switch_preview(progress.new)
        progress.active_after = progress.active_hash
        if progress.aborted and progress.stable is not None:
            progress.active_after = self._switch_active(progress.stable)
        elif (
            not self.halted and progress.ready and progress.saturated
            and (progress.fast_tracked or (progress.pause_over and progress.pre_complete))
        ):
            progress.active_after = self._switch_active(progress.new)

    def _post_promotion_analysis(self, progress: _Progress) -> None:
        """After the switch, before the new revision is marked stable."""
        if (
            progress.active_after != self.current_hash
            or progress.aborted
            or progress.fully_promoted
            or progress.promote_full
            or progress.fast_rollback
        ):
            return
        verdict = self._gate(self.gates.post(progress.context), POST_RUN_STATUS, progress.draft, progress.outlook)
        progress.post_passed = verdict is GateState.PASSED
        if verdict is GateState.FAILED and progress.stable is not None:
            # Production goes back to the version that was serving in this very pass.
            progress.aborted = True
            progress.active_after = self._switch_active(progress.stable)

    def _promote_or_checkpoint(self, progress: _Progress) -> None:
        draft = progress.draft
        reason = self._promotion_reason(
            draft,
            active_after=progress.active_after,
            promote_full=progress.promote_full,
            fast_rollback=progress.fast_rollback,
            post_passed=progress.post_passed,
        )
        if reason is not None:
            # Argo's promoteStable: the update is over.
            draft.pause.finish_update()
            self.checkpoint = False
            if draft.stable_hash != self.current_hash:
                draft.stable_hash = self.current_hash
                self._completed(progress.revision, reason)
                self.follow_up = True
        else:
            self.checkpoint = scale_up_checkpoint(
                self.strategy,
                previous=self.checkpoint,
                pre_promotion_complete=progress.pre_complete,
                pause_completed=progress.pause_over,
                new_available=progress.new_available,
            )
        # controllerPause with no pause condition means "promoted, act on it": kept until acted upon, so a promote
        # is never lost to a pass that could not switch yet (Argo drops it at once and may pause again).
        draft.pause.acted_on_resume(
            draft.pause.abort or progress.active_after == self.current_hash or self.checkpoint
        )

    def _progress_status(self, progress: _Progress) -> JsonObject:
        draft, outlook = progress.draft, progress.outlook
        only_old_pods_left = draft.stable_hash == self.current_hash and progress.new_available >= self.replicas
        outlook.deadline_applies = outlook.waiting is None and not only_old_pods_left
        return self._status(
            draft,
            outlook,
            new_rs=progress.new,
            rs_name=name_of(progress.new),
            revision=progress.revision,
            active_after=progress.active_after,
            preview_after=progress.preview_after,
        )

    def _promotion_reason(
        self, draft: Draft, *, active_after: str | None, promote_full: bool, fast_rollback: bool, post_passed: bool
    ) -> str | None:
        """Why the new revision is now the stable one, or None while it is not (Argo's shouldFullPromote)."""
        if self.groups.stable is None:
            return "Initial deploy"
        if active_after != self.current_hash:
            # Argo also promotes when the active Service selects no revision at all; but a selector reset behind
            # the controller's back (a GitOps sync) must not make an unverified revision stable (the pass points
            # the Service back at the stable version instead).
            return None
        if promote_full:
            return "Full promotion requested"
        if draft.pause.abort:
            return None
        if self.strategy.post_promotion_analysis is not None and fast_rollback:
            new = self.groups.new
            return f"Rollback to '{name_of(new) if new is not None else ''}' within scaleDownDelay"
        if not post_passed:
            return None
        return "Completed blue-green update"

    # --- analysis gates ------------------------------------------------------------------------

    def _gate(self, result: GateResult, status_key: str, draft: Draft, outlook: Outlook) -> GateState:
        """Carry out a gate's verdict (its writes, events, run status, message, abort or pause); its state."""
        effects = self.effects
        for write in result.writes:
            effects.analysis_writes.append(write)
        effects.events.extend(result.events)
        if result.look_again_in is not None:
            effects.wake_in(result.look_again_in)
        if result.run_status is not None:
            self.run_statuses[status_key] = dict(result.run_status)
        state = result.state
        if state is GateState.PENDING:
            outlook.waiting = result.message or f"waiting for {status_key}"
        elif state is GateState.FAILED:
            # Argo aborts on a failed promotion analysis: the next pass takes the active Service back to stable.
            draft.pause.abort_update(self.now)
            outlook.abort_reason = result.message
            self.follow_up = True
        elif state is GateState.INCONCLUSIVE and not draft.pause.holds(INCONCLUSIVE_ANALYSIS):
            # A person decides: `promote` clears the pause (what then is the gate's call: Argo starts a new run),
            # `abort` gives up.
            draft.pause.pause(INCONCLUSIVE_ANALYSIS, self.now)
        return state

    def _analysis_housekeeping(self, *, terminate_all: bool) -> None:
        """Bring the run statuses up to date with their runs, terminate the runs no longer current (all of them when
        the update is aborted or skips analysis) and delete those beyond the history limits."""
        runs = self.snapshot.analysis_runs
        for key, entry in self.run_statuses.items():
            self.run_statuses[key] = refreshed(entry, runs, self.current_hash)
        history = self.rollout.spec.analysis
        terminations, deletions = housekeeping(
            runs,
            current={str(entry["name"]) for entry in self.run_statuses.values() if entry is not None},
            terminate_all=terminate_all,
            replica_set_hashes=frozenset(
                found for rs in self.snapshot.replica_sets if (found := pod_template_hash_of(rs)) is not None
            ),
            successful_limit=history.successful_run_history_limit,
            unsuccessful_limit=history.unsuccessful_run_history_limit,
            namespace=self.namespace,
        )
        self.effects.analysis_writes.extend(terminations)
        self.effects.cleanups.extend(deletions)

    # --- Services ------------------------------------------------------------------------------

    def _switch_preview(self, target: JsonObject) -> str | None:
        """The preview Service selects the new ReplicaSet at once (Argo's reconcilePreviewService): it serves no
        production traffic, and people test the new version through it. Not while halted."""
        if self.preview_service is None or self.halted:
            return self.preview_hash
        return self._switch(self.preview_service, target)

    def _switch_active(self, target: JsonObject) -> str | None:
        return self._switch(self.active_service, target)

    def _switch(self, service: JsonObject | None, target: JsonObject) -> str | None:
        """Point ``service`` at ``target``; the hash it selects after this pass."""
        if service is None:
            return None
        switch = service_switch(service, target, rollout_name=self.name, check_availability=False)
        if switch is not None:
            self.effects.service_patches.append(
                Patch(kind=SERVICES, namespace=self.namespace, name=switch.name, patch=switch.patch)
            )
            self.effects.event("SwitchService", switch.message)
        return pod_template_hash_of(target) if switch is not None else selected_hash(service)

    # --- ReplicaSets ---------------------------------------------------------------------------

    def _scale_replica_sets(
        self,
        draft: Draft,
        *,
        desired_new: int,
        aborted: bool,
        keep_new_deadline: bool,
        active_before: str | None,
        active_after: str | None,
        preview_after: str | None,
    ) -> None:
        """Argo's reconcileBlueGreenReplicaSets: the active ReplicaSet keeps every pod, the new one gets its size
        (or, after an abort, waits out abortScaleDownDelaySeconds and goes), the others wind down after their
        delay, and the oldest scaled-down ones beyond revisionHistoryLimit are deleted."""
        groups, now, strategy = self.groups, self.now, self.strategy
        new = groups.new
        assert new is not None
        stable = groups.stable
        abort_delay = strategy.abort_scale_down_delay_seconds
        delay_on_abort = aborted and groups.stable_is_distinct and abort_delay > 0
        self._clear_scale_down_deadlines(new, keep_new=delay_on_abort or keep_new_deadline)

        active_rs = find_by_hash(groups.all, active_before)
        if active_rs is not None and name_of(active_rs) != name_of(new):
            self._scale(active_rs, self.replicas)

        if delay_on_abort:
            # The active Service is back on the stable ReplicaSet: the preview goes after its delay.
            assert stable is not None
            self._scale_down_after_abort(new, stable, delay=abort_delay, size=0)
        else:
            # abortScaleDownDelaySeconds: 0 leaves an aborted preview up (at its size) for inspection.
            self._scale(new, desired_new)

        if not draft.pause.holds(INCONCLUSIVE_ANALYSIS):
            referenced = frozenset(
                value
                for value in (
                    self.observed.stable_rs,
                    self.observed.current_pod_hash,
                    self.observed.blue_green.active_selector,
                    self.observed.blue_green.preview_selector,
                    self.active_hash,
                    self.preview_hash,
                    active_before,
                    active_after,
                    preview_after,
                )
                if isinstance(value, str) and value
            )
            plan = old_replica_set_plan(
                groups.others,
                referenced=referenced,
                scale_down_delay_seconds=strategy.scale_down_delay_seconds,
                revision_limit=strategy.scale_down_delay_revision_limit,
                now=now,
            )
            self._wind_down(plan)
        self._delete_old_revisions()

    def _sync_pod_metadata(self) -> None:
        """activeMetadata on the pods of the active role, previewMetadata on the preview's, neither on the rest
        (Argo's reconcileEphemeralMetadata)."""
        groups, strategy = self.groups, self.strategy
        new = groups.new
        assert new is not None
        observed_stable = self.observed.stable_rs
        fully_rolled_out = not observed_stable or observed_stable == self.current_hash
        wanted: list[tuple[JsonObject, PodMetadata | None]] = [
            (new, strategy.active_metadata if fully_rolled_out else strategy.preview_metadata)
        ]
        if not fully_rolled_out and groups.stable_is_distinct and groups.stable is not None:
            wanted.append((groups.stable, strategy.active_metadata))
        wanted += [(rs, None) for rs in groups.others]
        for rs, metadata in wanted:
            for pod_name, patch in pod_metadata_patches(rs, self.snapshot.pods, metadata):
                self.effects.pod_patches.append(
                    Patch(kind=PODS, namespace=self.namespace, name=pod_name, patch=patch)
                )
            rs_patch = replica_set_metadata_patch(rs, metadata)
            if rs_patch is not None:
                self.effects.patch_rs(rs, rs_patch)

    # --- status ----------------------------------------------------------------------------------

    def _status(
        self,
        draft: Draft,
        outlook: Outlook,
        *,
        new_rs: JsonObject | None,
        rs_name: str,
        revision: int,
        active_after: str | None,
        preview_after: str | None,
    ) -> JsonObject:
        status = self._base_status(draft, new_rs=new_rs)
        # What serves production is the active ReplicaSet: its pods are the Rollout's ready and available ones,
        # and its selector is what an HPA scales (Argo's syncRolloutStatusBlueGreen).
        active_rs = find_by_hash(self.groups.all, active_after)
        if active_rs is not None:
            status["readyReplicas"] = ready_replicas(active_rs)
            status["availableReplicas"] = available_replicas(active_rs)
            status["HPAReplicas"] = status_replicas(active_rs)
            status["selector"] = label_selector_string((active_rs.get("spec") or {}).get("selector"))
        blue_green: JsonObject = {}
        if active_after:
            blue_green["activeSelector"] = active_after
        if preview_after:
            blue_green["previewSelector"] = preview_after
        if self.checkpoint:
            blue_green["scaleUpPreviewCheckPoint"] = True
        for key, value in self.run_statuses.items():
            if value is not None:
                blue_green[key] = value
        status["blueGreen"] = blue_green
        return self._finish_status(status, draft, outlook, rs_name=rs_name, revision=revision)

    # --- hooks for the conditions ----------------------------------------------------------------

    def _healthy(self, status: JsonObject, draft: Draft) -> bool:
        """Argo's RolloutHealthy for blue-green: every pod updated and available behind the active Service, both
        Services on the current revision, and that revision the stable one (old pods waiting out their delay do
        not count against it)."""
        blue_green = status.get("blueGreen") or {}
        replicas = self.replicas
        preview_done = self.preview_service is None or blue_green.get("previewSelector") == self.current_hash
        return (
            count_of(status, "updatedReplicas") == replicas
            and count_of(status, "availableReplicas") == replicas
            and blue_green.get("activeSelector") == self.current_hash
            and preview_done
            and bool(draft.stable_hash)
            and draft.stable_hash == self.current_hash
        )

    def _available(self, status: JsonObject) -> bool:
        """The active ReplicaSet has every pod, all available (Argo: IsSaturated(activeRS))."""
        active = find_by_hash(self.groups.all, (status.get("blueGreen") or {}).get("activeSelector"))
        return (
            active is not None
            and spec_replicas(active) == self.replicas
            and available_replicas(active) >= self.replicas
        )

    def _strategy_progressed(self, status: JsonObject) -> bool:
        """A Service switched (Argo's RolloutProgressing for blue-green)."""
        blue_green = status.get("blueGreen") or {}
        observed = self.observed.blue_green
        return (
            blue_green.get("activeSelector") != observed.active_selector
            or blue_green.get("previewSelector") != observed.preview_selector
        )


def _entry(observed: RolloutAnalysisRunStatus | None) -> JsonObject | None:
    """An observed ``{name, status, message}`` run status entry as plain data (None when there is none)."""
    return observed.to_dict() if observed is not None else None


__all__ = ["BlueGreenPass", "plan_blue_green", "service_references"]
